import type { Row, SqlEngine, SqlValue } from '../engine/sql-engine.ts';
import { quoteIdent } from '../engine/sql.ts';
import { SluiceError, configError, messageOf, type Problem } from '../util/errors.ts';
import type { Bound, Check, CheckResult } from './check-types.ts';
import { bindTable, checkColumns, ignoredRowsSql, insideRange, memberOf, unexpectedPredicate, valueSql } from './check-sql.ts';
import { type SqlDialect } from '../engine/sql-dialect.ts';
import { type TableColumn, describeTable } from './table-columns.ts';
import { validateChecks } from './validate-checks.ts';

export interface RunChecksOptions {
  /** The run time; freshness checks measure age against it. Never read from a clock here. */
  readonly now?: Date;
  /** How many offending values/rows to fetch per check that found any (default 20; 0 = none). */
  readonly sampleSize?: number;
  /** Columns added to sample rows and used to order them (a primary key, a row number). */
  readonly indexColumns?: readonly string[];
  /** Most distinct values a distinct_values_in_set check reports as its observed value (default 1000). */
  readonly maxObservedValues?: number;
  readonly dialect?: SqlDialect;
}

export interface CheckRunReport {
  readonly table: string;
  /** False when any check of severity `error` failed. */
  readonly success: boolean;
  readonly elementCount: number;
  readonly results: readonly CheckResult[];
  /** Every SQL statement run, in order (the scans a gate decision rests on). */
  readonly queries: readonly string[];
}

interface Counts {
  missing: number;
  unexpected: number;
  observed?: SqlValue;
  success?: boolean;
  details?: Record<string, SqlValue>;
  /** SQL selecting offending rows (aliased t), or a custom sample query. */
  samplePredicate?: string;
  sampleQuery?: string;
  /** Offending values already known (distinct values). */
  values?: SqlValue[];
}

/**
 * Runs checks on one table where the data is: one fused aggregate scan for every check that can
 * share it (counts, filters, metrics, the bitmap unique of dense integer keys), then targeted
 * queries only for what cannot be fused (long value lists, duplicate groups, references, custom SQL),
 * then samples only for checks that found offending rows.
 */
export async function runChecks(engine: SqlEngine, table: string, checks: readonly Check[], options: RunChecksOptions = {}): Promise<CheckRunReport> {
  const dialect = options.dialect ?? engine.dialect;
  const sampleSize = options.sampleSize ?? 20;
  const queries: string[] = [];
  const run = async (sql: string): Promise<Row[]> => {
    queries.push(sql);
    return engine.query(sql);
  };

  const columns = await describeTable(engine, table, dialect);
  const colMap = new Map(columns.map((c) => [c.name, c]));
  const problems: Problem[] = validateChecks(checks, columns, table);
  for (const c of checks) {
    if (c.kind !== 'regex' || problems.some((p) => p.field?.startsWith(c.place.field ?? '\0'))) continue;
    try {
      await engine.query(dialect.regexProbeSql(c.pattern));
    } catch (e) {
      const msg = messageOf(e).split('\n')[0] ?? '';
      problems.push({ ...placeOf(c), field: fieldOf(c, 'pattern'), message: `${c.id}: invalid regular expression ${JSON.stringify(c.pattern)}: ${msg.replace(/^.*Error: /, '')}` });
    }
  }
  if (checks.some((c) => c.kind === 'freshness') && !options.now) throw new SluiceError('USAGE', 'freshness checks need the run time (options.now)');
  if (problems.length > 0) throw configError(problems);
  const index = (options.indexColumns ?? []).filter((n) => colMap.has(n));

  // Dense integer keys: a cheap min/max probe decides whether the bitmap unique applies.
  const bitmapCols = dialect.bitmapUnique
    ? [...new Set(checks.flatMap((c) => (c.kind === 'unique' && c.columns.length === 1 && colMap.get(c.columns[0] ?? '')?.family === 'integer' ? c.columns : [])))]
    : [];
  const ranges = new Map<string, { lo: number; hi: number }>();
  if (bitmapCols.length > 0) {
    const [r] = await run(`SELECT ${bitmapCols.map((c, i) => `min(${quoteIdent(c)}) AS lo_${i}, max(${quoteIdent(c)}) AS hi_${i}, count(${quoteIdent(c)}) AS n_${i}`).join(', ')} FROM ${table}`);
    bitmapCols.forEach((c, i) => {
      const lo = r?.[`lo_${i}`];
      const hi = r?.[`hi_${i}`];
      const n = Number(r?.[`n_${i}`] ?? 0);
      if (typeof lo === 'number' && typeof hi === 'number' && hi - lo + 1 <= Math.min(dialect.bitmapMaxRange, 64 * n + 4096)) ranges.set(c, { lo, hi });
    });
  }

  // Build the fused aggregate.
  const terms: string[] = ['count(*) AS n'];
  // Identical aggregates (a contract's key and a dataset's unique check on it) are computed once.
  const aliases = new Map<string, string>();
  const term = (sql: string): string => {
    const known = aliases.get(sql);
    if (known) return known;
    const alias = `a${terms.length}`;
    terms.push(`${sql} AS ${alias}`);
    aliases.set(sql, alias);
    return alias;
  };
  type Pending = (fused: Row) => Promise<Counts>;
  const pending: Pending[] = [];
  for (const c of checks) pending.push(planCheck(c));

  function planCheck(c: Check): Pending {
    const col = 'column' in c ? colMap.get(c.column) : undefined;
    const q = 'column' in c ? `t.${quoteIdent(c.column)}` : '';
    const nonNull = col ? term(`count(${q})`) : undefined;
    const missingOf = (f: Row): number => (nonNull ? num(f['n']) - num(f[nonNull]) : 0);
    switch (c.kind) {
      case 'not_null':
      case 'null': {
        // Nulls are rows minus the column's non-null count, which the scan counts anyway (and
        // an engine may answer from its statistics); no filter of its own.
        const pred = unexpectedPredicate(c, colMap, dialect);
        return async (f) => ({ missing: 0, unexpected: c.kind === 'not_null' ? missingOf(f) : num(nonNull ? f[nonNull] : 0), samplePredicate: pred?.sql });
      }
      case 'between':
      case 'value_length_between':
      case 'regex':
      case 'in_set':
      case 'not_in_set':
      case 'distinct_values_in_set': {
        const pred =
          c.kind === 'distinct_values_in_set'
            ? c.values === null
              ? { sql: 'FALSE', long: false }
              : ((m) => ({ sql: `${q} IS NOT NULL AND NOT (${m.sql})`, long: m.long }))(memberOf(q, c.values, col as TableColumn))
            : (unexpectedPredicate(c, colMap, dialect) as { sql: string; long: boolean });
        const u = pred.long ? undefined : term(`count(*) FILTER (WHERE ${pred.sql})`);
        return async (f) => {
          const unexpected = u ? num(f[u]) : num((await run(`SELECT count(*) AS u FROM ${table} AS t WHERE ${pred.sql}`))[0]?.['u']);
          const counts: Counts = { missing: missingOf(f), unexpected, samplePredicate: pred.sql };
          if (c.kind !== 'distinct_values_in_set') return counts;
          const max = options.maxObservedValues ?? 1000;
          const rows = await run(`SELECT ${q} AS value, count(*) AS count FROM ${table} AS t WHERE ${q} IS NOT NULL GROUP BY ${q} ORDER BY ${q} LIMIT ${max + 1}`);
          const valueCounts = rows.slice(0, max).map((r) => ({ value: r['value'] ?? null, count: num(r['count']) }));
          const bad = unexpected > 0 ? await run(`SELECT DISTINCT ${q} AS v FROM ${table} AS t WHERE ${pred.sql} ORDER BY 1 LIMIT ${Math.max(sampleSize, 1)}`) : [];
          return {
            ...counts,
            observed: valueCounts.map((v) => v.value),
            details: { valueCounts, ...(rows.length > max ? { truncated: true } : {}) },
            values: bad.map((r) => r['v'] ?? null),
            samplePredicate: undefined,
          };
        };
      }
      case 'unique': {
        const ignored = ignoredRowsSql(c.columns, c.ignoreRowsIf);
        const missing = term(`count(*) FILTER (WHERE ${ignored})`);
        const only = c.columns.length === 1 ? c.columns[0] : undefined;
        const range = only ? ranges.get(only) : undefined;
        const bitmap = range && only && dialect.bitmapUnique ? term(dialect.bitmapUnique(`t.${quoteIdent(only)}`, range.lo, range.hi)) : undefined;
        const keys = c.columns.map((k) => quoteIdent(k)).join(', ');
        const dupGroups2 = `SELECT ${keys} FROM ${table} AS t2 WHERE NOT ${ignoredRowsSql(c.columns, c.ignoreRowsIf, 't2')} GROUP BY ${keys} HAVING count(*) > 1`;
        const samplePredicate = `NOT ${ignored} AND EXISTS (SELECT 1 FROM (${dupGroups2}) AS d WHERE ${c.columns
          .map((k) => `d.${quoteIdent(k)} IS NOT DISTINCT FROM t.${quoteIdent(k)}`)
          .join(' AND ')})`;
        return async (f) => {
          const base = { missing: num(f[missing]), samplePredicate, details: { method: bitmap ? 'bitmap' : 'group_by' } };
          if (bitmap && num(f[bitmap]) === 0) return { ...base, unexpected: 0 };
          const [r] = await run(`SELECT coalesce(sum(k), 0) AS u FROM (SELECT count(*) AS k FROM ${table} AS t WHERE NOT ${ignored} GROUP BY ${keys} HAVING count(*) > 1) AS g`);
          return { ...base, unexpected: num(r?.['u']) };
        };
      }
      case 'column_mean_between':
      case 'column_min_between':
      case 'column_max_between':
      case 'column_sum_between':
      case 'column_distinct_count_between': {
        const family = col?.family ?? 'other';
        const agg =
          c.kind === 'column_mean_between'
            ? `avg(${dialect.toDouble(q, family)})`
            : c.kind === 'column_sum_between'
              ? `sum(${family === 'boolean' ? dialect.toDouble(q, family) : q})`
              : c.kind === 'column_min_between'
                ? `min(${q})`
                : c.kind === 'column_max_between'
                  ? `max(${q})`
                  : `count(DISTINCT ${q})`;
        const lit = (b: Bound): string => (typeof b === 'number' || !col ? String(b) : valueSql(b, col));
        const m = term(agg);
        const ok = term(insideRange(agg, c, lit));
        const bounded = c.min !== undefined || c.max !== undefined;
        return async (f) => ({ missing: missingOf(f), unexpected: 0, observed: f[m] ?? null, success: bounded ? f[ok] === true : true });
      }
      case 'freshness': {
        const newest = term(`max(${q})`);
        const epoch = term(dialect.epochSeconds(`max(${q})`));
        return async (f) => {
          const e = f[epoch];
          const now = (options.now as Date).getTime() / 1000;
          const age = typeof e === 'number' ? now - e : null;
          return {
            missing: missingOf(f),
            unexpected: 0,
            observed: f[newest] ?? null,
            success: age !== null && age <= c.maxAgeSeconds,
            details: { ageSeconds: age, maxAgeSeconds: c.maxAgeSeconds, now: (options.now as Date).toISOString() },
          };
        };
      }
      case 'row_count_between':
        return async (f) => {
          const n = num(f['n']);
          const ok = (c.min === undefined || (c.strictMin ? n > Number(c.min) : n >= Number(c.min))) && (c.max === undefined || (c.strictMax ? n < Number(c.max) : n <= Number(c.max)));
          return { missing: 0, unexpected: 0, observed: n, success: ok };
        };
      case 'references': {
        const ignored = ignoredRowsSql(c.columns, 'any_missing');
        const pred = `NOT ${ignored} AND NOT EXISTS (SELECT 1 FROM ${c.table} AS r WHERE ${c.columns
          .map((k, i) => `r.${quoteIdent(c.toColumns[i] ?? k)} = t.${quoteIdent(k)}`)
          .join(' AND ')})`;
        const missing = term(`count(*) FILTER (WHERE ${ignored})`);
        return async (f) => {
          const [r] = await run(`SELECT count(*) AS u FROM ${table} AS t WHERE ${pred}`).catch((e: unknown) => {
            throw new SluiceError('SQL_FAILED', `${c.id}: cannot read referenced table ${c.table}: ${messageOf(e)}`, { ...placeOf(c), field: fieldOf(c, 'table') }, [], { cause: e });
          });
          return { missing: num(f[missing]), unexpected: num(r?.['u']), samplePredicate: pred };
        };
      }
      case 'custom_sql': {
        const sql = bindTable(c.sql, table);
        return async () => {
          const [r] = await run(`SELECT count(*) AS u FROM (${sql}) AS q`).catch((e: unknown) => {
            throw new SluiceError('SQL_FAILED', `${c.id}: custom SQL failed: ${messageOf(e)}`, { ...placeOf(c), field: fieldOf(c, 'sql') }, [], { cause: e });
          });
          return { missing: 0, unexpected: num(r?.['u']), sampleQuery: `SELECT * FROM (${sql}) AS q LIMIT ${sampleSize}` };
        };
      }
      case 'column_exists':
        return async () => {
          const at = columns.findIndex((x) => x.name === c.column);
          return { missing: 0, unexpected: 0, observed: at >= 0 ? at : null, success: at >= 0 && (c.index === undefined || c.index === at) };
        };
      case 'columns_match_ordered_list':
      case 'columns_match_set':
        return async () => {
          const names = columns.map((x) => x.name);
          const want = c.columns ?? names;
          const missingCols = want.filter((x) => !names.includes(x));
          const extra = names.filter((x) => !want.includes(x));
          const success =
            c.kind === 'columns_match_ordered_list'
              ? names.length === want.length && names.every((x, i) => x === want[i])
              : missingCols.length === 0 && (!c.exact || extra.length === 0);
          return { missing: 0, unexpected: 0, observed: names, success, details: { missingColumns: missingCols, extraColumns: extra } };
        };
      case 'column_type':
        return async () => {
          const actual = col as TableColumn;
          const want = c.type.trim();
          const success = dialect.canonicalType(actual.type) === dialect.canonicalType(want) || actual.family === want.toLowerCase();
          return { missing: 0, unexpected: 0, observed: actual.type, success, details: { family: actual.family } };
        };
    }
  }

  const [fused] = await run(`SELECT ${terms.join(', ')} FROM ${table} AS t`);
  const f = fused ?? { n: 0 };
  const n = num(f['n']);
  const results: CheckResult[] = [];
  for (let i = 0; i < checks.length; i++) {
    const c = checks[i] as Check;
    const counts = await (pending[i] as Pending)(f);
    const looked = n - counts.missing;
    const success = counts.success ?? (looked === 0 || (looked - counts.unexpected) / looked >= c.mostly);
    let rows: Row[] = [];
    let values: SqlValue[] = counts.values ?? [];
    const cols = checkColumns(c);
    if (counts.unexpected > 0 && sampleSize > 0 && (counts.samplePredicate || counts.sampleQuery)) {
      if (counts.sampleQuery) {
        rows = await run(counts.sampleQuery);
        values = rows;
      } else {
        const select = [...index.filter((x) => !cols.includes(x)), ...cols].map((x) => `t.${quoteIdent(x)}`).join(', ') || '*';
        const order = index.length > 0 ? ` ORDER BY ${index.map((x) => `t.${quoteIdent(x)}`).join(', ')}` : '';
        rows = await run(`SELECT ${select} FROM ${table} AS t WHERE ${counts.samplePredicate}${order} LIMIT ${sampleSize}`);
        values = cols.length === 1 ? rows.map((r) => r[cols[0] as string] ?? null) : rows.map((r) => Object.fromEntries(cols.map((k) => [k, r[k] ?? null])));
      }
    }
    const observed = counts.observed ?? null;
    const result: CheckResult = {
      id: c.id,
      check: c.kind,
      columns: cols,
      severity: c.severity,
      mostly: c.mostly,
      success,
      elementCount: n,
      missingCount: counts.missing,
      unexpectedCount: counts.unexpected,
      unexpectedPercent: looked > 0 ? (100 * counts.unexpected) / looked : 0,
      unexpectedPercentTotal: n > 0 ? (100 * counts.unexpected) / n : 0,
      observedValue: observed,
      unexpectedValues: values,
      unexpectedRows: rows,
      details: counts.details ?? {},
      message: '',
    };
    results.push({ ...result, message: describeResult(c, result) });
  }
  return { table, success: results.every((r) => r.success || r.severity !== 'error'), elementCount: n, results, queries };
}

function num(v: SqlValue | undefined): number {
  return typeof v === 'number' ? v : v === null || v === undefined ? 0 : Number(v);
}

function placeOf(c: Check): { file?: string; line?: number } {
  return { ...(c.place.file ? { file: c.place.file } : {}), ...(c.place.line ? { line: c.place.line } : {}) };
}

function fieldOf(c: Check, rel: string): string {
  return [c.place.field, rel].filter(Boolean).join('.');
}

/** A one-line explanation: what was counted or observed, against what, with a few offending values. */
export function describeResult(c: Check, r: CheckResult): string {
  const verdict = r.success ? 'passed' : 'failed';
  const sample = r.unexpectedValues.length > 0 ? `; e.g. ${JSON.stringify(r.unexpectedValues.slice(0, 5))}` : '';
  if (r.observedValue !== null || ['row_count_between', 'column_exists', 'columns_match_ordered_list', 'columns_match_set', 'column_type', 'freshness'].includes(c.kind) || c.kind.startsWith('column_')) {
    const want = 'min' in c || 'max' in c ? ` (expected ${rangeText(c as { min?: Bound; max?: Bound; strictMin: boolean; strictMax: boolean })})` : '';
    const age = c.kind === 'freshness' && typeof r.details['ageSeconds'] === 'number' ? `, ${Math.round(r.details['ageSeconds'])} s old, allowed ${c.maxAge}` : '';
    return `${r.id} ${verdict}: observed ${JSON.stringify(r.observedValue)}${want}${age}${sample}`;
  }
  const looked = r.elementCount - r.missingCount;
  const pct = r.unexpectedPercent.toFixed(r.unexpectedPercent < 1 && r.unexpectedPercent > 0 ? 3 : 1);
  const mostly = c.mostly < 1 ? `, mostly ${c.mostly}` : '';
  return `${r.id} ${verdict}: ${r.unexpectedCount} of ${looked} rows unexpected (${pct} %)${mostly}${sample}`;
}

function rangeText(r: { min?: Bound; max?: Bound; strictMin: boolean; strictMax: boolean }): string {
  if (r.min === undefined && r.max === undefined) return 'any value';
  const lo = r.min === undefined ? '' : `${r.strictMin ? '>' : '>='} ${r.min}`;
  const hi = r.max === undefined ? '' : `${r.strictMax ? '<' : '<='} ${r.max}`;
  return [lo, hi].filter(Boolean).join(' and ');
}
