import type { SqlEngine } from '../engine/sql-engine.ts';
import { quoteIdent, quoteLiteral } from '../engine/sql.ts';
import { SluiceError } from '../util/errors.ts';
import type { ContractColumn } from './contract.ts';
import { type SqlDialect, type TypeFamily } from '../engine/sql-dialect.ts';

export interface SynthSchema {
  readonly columns: readonly Pick<ContractColumn, 'name' | 'type' | 'nullable'>[];
  readonly primaryKey?: readonly string[];
}

export interface SynthOptions {
  readonly rows: number;
  readonly seed: number;
  /** Table to (re)create. */
  readonly target: string;
  /** Also write the table to a file through the engine (DuckDB COPY). */
  readonly file?: { readonly path: string; readonly format: 'parquet' | 'csv' };
  /** Timestamps cluster around this time, with late (days old) and early (future) events; default 2026-01-01. */
  readonly now?: Date;
  /** Every n-th row repeats the previous row's primary key (default 50; 0 = no duplicates). */
  readonly duplicateKeyEvery?: number;
  readonly dialect?: SqlDialect;
}

export interface SynthResult {
  readonly table: string;
  readonly rows: number;
  /** Which edge values each column cycles through, for reports. */
  readonly edges: Readonly<Record<string, readonly string[]>>;
  readonly file?: string;
  readonly sql: string;
}

const INT_LIMITS: Record<string, [string, string]> = {
  TINYINT: ['-128', '127'],
  SMALLINT: ['-32768', '32767'],
  INTEGER: ['-2147483648', '2147483647'],
  INT: ['-2147483648', '2147483647'],
  BIGINT: ['-9223372036854775808', '9223372036854775807'],
  UTINYINT: ['0', '255'],
  USMALLINT: ['0', '65535'],
  UINTEGER: ['0', '4294967295'],
  UBIGINT: ['0', '18446744073709551615'],
};

/**
 * Writes a table from a contract or a source schema whose rows hit the edges real data rarely shows:
 * nulls (in nullable columns), empty and whitespace strings, unicode and emoji, quotes and line
 * breaks, zero / negative / type-limit / NaN / infinite numbers, epoch and far-future dates, late
 * and future events, and duplicated primary keys. Generated in SQL from `range(rows)` with integer
 * hashing of (seed, row, column), so the same seed gives the same table; no row passes through
 * JavaScript. Each column cycles through its edge values on half of the rows (offset per column so
 * the edges combine), the other half holds ordinary values.
 */
export async function synthesize(engine: SqlEngine, schema: SynthSchema, options: SynthOptions): Promise<SynthResult> {
  const dialect = options.dialect ?? engine.dialect;
  if (!Number.isInteger(options.rows) || options.rows < 0) throw new SluiceError('USAGE', 'rows must be a non-negative integer', { field: 'rows' });
  if (schema.columns.length === 0) throw new SluiceError('USAGE', 'the schema has no columns', { field: 'columns' });
  const now = options.now ?? new Date('2026-01-01T00:00:00Z');
  const nowLit = `CAST(${quoteLiteral(now.toISOString().replace('T', ' ').replace('Z', ''))} AS TIMESTAMP)`;
  const dupEvery = options.duplicateKeyEvery ?? 50;
  const pk = schema.primaryKey ?? [];
  const edges: Record<string, string[]> = {};
  const exprs = schema.columns.map((col, c) => {
    const family = dialect.typeFamily(col.type);
    const type = col.type;
    const h = `((r * 2654435761 + ${(Math.abs(Math.trunc(options.seed)) % 1000003) * 7919 + c * 104729}) % 4294967296)`;
    const keyRow = dupEvery > 0 ? `(CASE WHEN r > 0 AND r % ${dupEvery} = ${dupEvery - 1} THEN r - 1 ELSE r END)` : 'r';
    if (pk.includes(col.name)) {
      edges[col.name] = dupEvery > 0 ? [`duplicate key every ${dupEvery} rows`] : [];
      const v = family === 'text' ? `'k' || CAST(${keyRow} AS ${dialect.types.text})` : family === 'integer' || family === 'decimal' || family === 'float' ? keyRow : `${keyRow}`;
      return `CAST(${v} AS ${type}) AS ${quoteIdent(col.name)}`;
    }
    const { list, normal } = edgeValues(dialect, family, type, h, nowLit);
    const all = col.nullable ? [...list, { label: 'NULL', sql: 'NULL' }] : list;
    edges[col.name] = all.map((e) => e.label);
    const slots = all.length * 2;
    const pick = `((r + ${c * 3}) % ${slots})`;
    return `CAST(CASE ${all.map((e, i) => `WHEN ${pick} = ${i} THEN ${e.sql}`).join(' ')} ELSE ${normal} END AS ${type}) AS ${quoteIdent(col.name)}`;
  });
  const sql = dialect.replaceTableAs(options.target, `SELECT ${exprs.join(', ')} FROM ${dialect.series(options.rows, 'r')} ORDER BY r`);
  await engine.exec(sql);
  let file: string | undefined;
  if (options.file) {
    if (!dialect.copyToFile) throw new SluiceError('USAGE', 'this engine cannot write files; synthesize into a table instead');
    await engine.exec(dialect.copyToFile(options.target, options.file.path, options.file.format));
    file = options.file.path;
  }
  return { table: options.target, rows: options.rows, edges, ...(file ? { file } : {}), sql };
}

function edgeValues(dialect: SqlDialect, family: TypeFamily, type: string, h: string, nowLit: string): { list: { label: string; sql: string }[]; normal: string } {
  const e = (label: string, sql: string): { label: string; sql: string } => ({ label, sql });
  const { double, text } = dialect.types;
  switch (family) {
    case 'integer': {
      const [lo, hi] = INT_LIMITS[type.toUpperCase()] ?? ['-2147483648', '2147483647'];
      const list = [e('0', '0'), e('1', '1'), e(`min ${lo}`, lo), e(`max ${hi}`, hi)];
      if (!lo.startsWith('0')) list.push(e('-1', '-1'));
      return { list, normal: `(${h} % 1000)` };
    }
    case 'float':
      return {
        list: [
          e('0', '0'),
          e('-0.0', `CAST('-0.0' AS ${double})`),
          e('tiny 5e-324', '5e-324'),
          e('huge 1.7976931348623157e308', '1.7976931348623157e308'),
          e('-huge', '-1.7976931348623157e308'),
          e('NaN', `CAST('NaN' AS ${double})`),
          e('Infinity', `CAST('Infinity' AS ${double})`),
          e('-Infinity', `CAST('-Infinity' AS ${double})`),
        ],
        normal: `(${h} % 100000) / 100.0 - 500`,
      };
    case 'decimal':
      return { list: [e('0', '0'), e('-1', '-1'), e('0.01', '0.01')], normal: `(${h} % 100000) / 100.0` };
    case 'text':
      return {
        list: [
          e('empty string', "''"),
          e('whitespace', "'   '"),
          e('unicode', "'Zoë Ångström – naïve café'"),
          e('emoji', "'😀👍🏽 family 👨‍👩‍👧'"),
          e('right-to-left', "'مرحبا بالعالم'"),
          e('quotes', `'it''s "quoted"'`),
          e('line break', "'line1' || chr(10) || 'line2'"),
          e('long (1000 chars)', "repeat('x', 1000)"),
          e('looks numeric', "'00123'"),
          e('sql-ish', "'NULL'"),
        ],
        normal: `'v' || CAST(${h} % 10000 AS ${text})`,
      };
    case 'boolean':
      return { list: [e('true', 'TRUE'), e('false', 'FALSE')], normal: `(${h} % 2 = 0)` };
    case 'date':
      return {
        list: [e('epoch 1970-01-01', "DATE '1970-01-01'"), e('0001-01-01', "DATE '0001-01-01'"), e('9999-12-31', "DATE '9999-12-31'"), e('leap day 2024-02-29', "DATE '2024-02-29'")],
        normal: `CAST(${nowLit} AS DATE) - CAST(${h} % 30 AS INTEGER)`,
      };
    case 'timestamp':
      return {
        list: [
          e('epoch', "TIMESTAMP '1970-01-01 00:00:00'"),
          e('late event (8 days old)', dialect.addSeconds(nowLit, String(-8 * 86400))),
          e('late event (400 days old)', dialect.addSeconds(nowLit, String(-400 * 86400))),
          e('future event (+1 hour)', dialect.addSeconds(nowLit, '3600')),
          e('far future 9999-12-31', "TIMESTAMP '9999-12-31 23:59:59'"),
          e('midnight boundary', `date_trunc('day', ${nowLit})`),
        ],
        normal: dialect.addSeconds(nowLit, `-(${h} % 86400)`),
      };
    default:
      return { list: [], normal: 'NULL' };
  }
}
