import type { Row, SqlEngine, SqlValue } from '../engine/sql-engine.ts';
import { quoteIdent } from '../engine/sql.ts';
import { SluiceError } from '../util/errors.ts';
import { type SqlDialect } from '../engine/sql-dialect.ts';
import { describeTable } from './table-columns.ts';

export interface DiffOptions {
  /** Columns that identify a row on both sides (must be unique per side). */
  readonly key: readonly string[];
  /** Columns to compare; default: every non-key column both sides have. */
  readonly columns?: readonly string[];
  /** Rows kept per sample list (default 10; 0 = none). */
  readonly sampleSize?: number;
  /** Skip the checksum short cut and always join (default false). */
  readonly forceJoin?: boolean;
  readonly dialect?: SqlDialect;
}

export interface ChangedRow {
  readonly key: Readonly<Record<string, SqlValue>>;
  readonly changedColumns: readonly string[];
  readonly left: Readonly<Record<string, SqlValue>>;
  readonly right: Readonly<Record<string, SqlValue>>;
}

export interface TableDiff {
  readonly left: string;
  readonly right: string;
  readonly key: readonly string[];
  readonly columns: readonly string[];
  /** Columns only one side has (not compared). */
  readonly columnsOnlyLeft: readonly string[];
  readonly columnsOnlyRight: readonly string[];
  /** 'checksum' when equal order-free checksums proved the tables identical without a join. */
  readonly method: 'checksum' | 'join';
  readonly leftRows: number;
  readonly rightRows: number;
  readonly onlyLeft: number;
  readonly onlyRight: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly changedByColumn: Readonly<Record<string, number>>;
  readonly samples: {
    readonly onlyLeft: readonly Row[];
    readonly onlyRight: readonly Row[];
    readonly changed: readonly ChangedRow[];
  };
  readonly queries: readonly string[];
}

/**
 * Diffs two tables that share a key (a baseline and a candidate output of the same step). First an
 * order-free checksum of each side (count, XOR and sum of row hashes); equal checksums end the diff
 * without a join (MEASURED.md: 0.10 s vs 0.48 s for the join on 5M rows). Otherwise one FULL OUTER
 * JOIN on the key counts rows only left / only right / changed / unchanged and changes per column,
 * and small targeted queries fetch samples. Equal checksums are equality with overwhelming
 * probability (64-bit hashes), not certainty; `forceJoin` skips the short cut.
 */
export async function diffTables(engine: SqlEngine, left: string, right: string, options: DiffOptions): Promise<TableDiff> {
  const dialect = options.dialect ?? engine.dialect;
  const sampleSize = options.sampleSize ?? 10;
  const queries: string[] = [];
  const run = async (sql: string): Promise<Row[]> => {
    queries.push(sql);
    return engine.query(sql);
  };
  // One after the other: a missing table must not leave the other query running when the caller closes the engine.
  const lc = await describeTable(engine, left, dialect);
  const rc = await describeTable(engine, right, dialect);
  const ln = lc.map((c) => c.name);
  const rn = rc.map((c) => c.name);
  const missingKey = options.key.filter((k) => !ln.includes(k) || !rn.includes(k));
  if (options.key.length === 0 || missingKey.length > 0)
    throw new SluiceError('USAGE', options.key.length === 0 ? 'diff needs a key' : `key column(s) ${missingKey.join(', ')} missing in ${left} or ${right}`, { field: 'key' });
  const columns = options.columns ?? ln.filter((c) => rn.includes(c) && !options.key.includes(c));
  const badCols = columns.filter((c) => !ln.includes(c) || !rn.includes(c));
  if (badCols.length > 0) throw new SluiceError('USAGE', `column(s) ${badCols.join(', ')} missing in ${left} or ${right}`, { field: 'columns' });
  const compared = [...options.key, ...columns];
  const base = {
    left,
    right,
    key: options.key,
    columns,
    columnsOnlyLeft: ln.filter((c) => !rn.includes(c)),
    columnsOnlyRight: rn.filter((c) => !ln.includes(c)),
  };

  if (dialect.rowChecksums && !options.forceJoin) {
    const aggs = ['count(*)', ...dialect.rowChecksums(compared.map(quoteIdent))];
    const side = (t: string, p: string): string => `(SELECT ${aggs.map((a, i) => `${a} AS ${p}${i}`).join(', ')} FROM ${t}) AS ${p}`;
    const [r] = await run(`SELECT * FROM ${side(left, 'l')}, ${side(right, 'r')}`);
    const same = r !== undefined && aggs.every((_, i) => String(r[`l${i}`]) === String(r[`r${i}`]));
    if (same) {
      const n = Number(r['l0']);
      return {
        ...base,
        method: 'checksum',
        leftRows: n,
        rightRows: n,
        onlyLeft: 0,
        onlyRight: 0,
        changed: 0,
        unchanged: n,
        changedByColumn: Object.fromEntries(columns.map((c) => [c, 0])),
        samples: { onlyLeft: [], onlyRight: [], changed: [] },
        queries,
      };
    }
  }

  const on = options.key.map((k) => `l.${quoteIdent(k)} = r.${quoteIdent(k)}`).join(' AND ');
  const diffOf = (c: string): string => `l.${quoteIdent(c)} IS DISTINCT FROM r.${quoteIdent(c)}`;
  const anyDiff = columns.length > 0 ? `(${columns.map(diffOf).join(' OR ')})` : 'FALSE';
  const both = `l.__sluice_l AND r.__sluice_r`;
  const terms = [
    `count(*) FILTER (WHERE l.__sluice_l) AS left_rows`,
    `count(*) FILTER (WHERE r.__sluice_r) AS right_rows`,
    `count(*) FILTER (WHERE r.__sluice_r IS NULL) AS only_left`,
    `count(*) FILTER (WHERE l.__sluice_l IS NULL) AS only_right`,
    `count(*) FILTER (WHERE ${both} AND ${anyDiff}) AS changed`,
    ...columns.map((c, i) => `count(*) FILTER (WHERE ${both} AND ${diffOf(c)}) AS c_${i}`),
  ];
  const lCols = lc.map((c) => c.name);
  const rCols = rc.map((c) => c.name);
  const keySel = (side: 'l' | 'r'): string => options.key.map((k) => `${side}.${quoteIdent(k)}`).join(', ');
  const keyOrder = (side: 'l' | 'r'): string => (options.key.length === 1 ? keySel(side) : `row(${keySel(side)})`);
  const changedFields: [string, string][] = [
    ...options.key.map((k, i): [string, string] => [`k_${i}`, `l.${quoteIdent(k)}`]),
    ...columns.flatMap((c, i): [string, string][] => [[`l_${i}`, `l.${quoteIdent(c)}`], [`r_${i}`, `r.${quoteIdent(c)}`]]),
  ];
  const inJoin = dialect.firstRowsAggregate && sampleSize > 0 ? dialect.firstRowsAggregate : undefined;
  if (inJoin) {
    terms.push(
      `${inJoin(lCols.map((c) => [c, `l.${quoteIdent(c)}`] as const), keyOrder('l'), sampleSize)} FILTER (WHERE r.__sluice_r IS NULL) AS s_only_left`,
      `${inJoin(rCols.map((c) => [c, `r.${quoteIdent(c)}`] as const), keyOrder('r'), sampleSize)} FILTER (WHERE l.__sluice_l IS NULL) AS s_only_right`,
      `${inJoin(changedFields, keyOrder('l'), sampleSize)} FILTER (WHERE ${both} AND ${anyDiff}) AS s_changed`,
    );
  }
  const from = `(SELECT *, TRUE AS __sluice_l FROM ${left}) AS l FULL OUTER JOIN (SELECT *, TRUE AS __sluice_r FROM ${right}) AS r ON ${on}`;
  const [r = {}] = await run(`SELECT ${terms.join(', ')} FROM ${from}`);
  const n = (k: string): number => Number(r[k] ?? 0);
  const onlyLeft = n('only_left');
  const onlyRight = n('only_right');
  const changed = n('changed');
  const listOf = (v: SqlValue | undefined): Row[] => (Array.isArray(v) ? (v as Row[]) : []);
  const samples = { onlyLeft: listOf(r['s_only_left']), onlyRight: listOf(r['s_only_right']), changed: [] as ChangedRow[] };
  let changedRows = listOf(r['s_changed']);
  if (sampleSize > 0 && !inJoin) {
    const missingOn = (a: string, b: string): string => `NOT EXISTS (SELECT 1 FROM ${b} AS o WHERE ${options.key.map((k) => `o.${quoteIdent(k)} = ${a}.${quoteIdent(k)}`).join(' AND ')})`;
    if (onlyLeft > 0) samples.onlyLeft = await run(`SELECT l.* FROM ${left} AS l WHERE ${missingOn('l', right)} ORDER BY ${keySel('l')} LIMIT ${sampleSize}`);
    if (onlyRight > 0) samples.onlyRight = await run(`SELECT r.* FROM ${right} AS r WHERE ${missingOn('r', left)} ORDER BY ${keySel('r')} LIMIT ${sampleSize}`);
    if (changed > 0)
      changedRows = await run(
        `SELECT ${changedFields.map(([k, e]) => `${e} AS ${k}`).join(', ')} FROM ${left} AS l JOIN ${right} AS r ON ${on} WHERE ${anyDiff} ORDER BY ${keySel('l')} LIMIT ${sampleSize}`,
      );
  }
  samples.changed = changedRows.map((row) => {
    const changedColumns = columns.filter((_, i) => JSON.stringify(row[`l_${i}`]) !== JSON.stringify(row[`r_${i}`]));
    return {
      key: Object.fromEntries(options.key.map((k, i) => [k, row[`k_${i}`] ?? null])),
      changedColumns,
      left: Object.fromEntries(changedColumns.map((c) => [c, row[`l_${columns.indexOf(c)}`] ?? null])),
      right: Object.fromEntries(changedColumns.map((c) => [c, row[`r_${columns.indexOf(c)}`] ?? null])),
    };
  });
  const leftRows = n('left_rows');
  return {
    ...base,
    method: 'join',
    leftRows,
    rightRows: n('right_rows'),
    onlyLeft,
    onlyRight,
    changed,
    unchanged: leftRows - onlyLeft - changed,
    changedByColumn: Object.fromEntries(columns.map((c, i) => [c, n(`c_${i}`)])),
    samples,
    queries,
  };
}
