import type { SqlEngine } from '../engine/sql-engine.ts';
import { quoteIdent, quoteLiteral } from '../engine/sql.ts';

/** What a column holds, independent of the engine's spelling of its type. */
export type TypeFamily = 'integer' | 'float' | 'decimal' | 'text' | 'boolean' | 'date' | 'timestamp' | 'time' | 'other';

/**
 * The SQL that differs between engines, for the quality module. `standardQualityDialect` is the
 * shared default (ANSI-ish SQL that PostgreSQL also accepts); an engine overrides only what differs
 * and advertises capabilities (`bitmapUnique`, `rowChecksum`) that the planner branches on.
 */
export interface QualityDialect {
  /** SQL returning one row per column with `column_name` and `column_type`, in table order. */
  describeSql(table: string): string;
  typeFamily(typeName: string): TypeFamily;
  /** Boolean SQL: the text `expr` contains a match of `pattern` (search, not full match). */
  regexMatch(expr: string, pattern: string): string;
  /** A query that fails when `pattern` is not a valid regular expression for this engine. */
  regexProbeSql(pattern: string): string;
  /** Character length of a text expression. */
  textLength(expr: string): string;
  /** Count of non-null values minus distinct values, via a bitmap over [lo, hi]; only for integer columns. */
  readonly bitmapUnique?: (expr: string, lo: number, hi: number) => string;
  /** Largest hi - lo + 1 the bitmap path accepts (bits). */
  readonly bitmapMaxRange: number;
  /**
   * Order-free checksum aggregates over the given column expressions (the equality short cut of a
   * diff). XOR alone cancels pairs of identical rows, so engines pair it with a wide sum.
   */
  readonly rowChecksums?: (exprs: readonly string[]) => readonly string[];
  /** Continuous quantiles of a numeric expression as one list value. */
  quantiles(expr: string, ps: readonly number[]): string;
  /** Sample standard deviation. */
  stddev(expr: string): string;
  /** Cast to double precision (averages of booleans count TRUE as 1). */
  toDouble(expr: string, family: TypeFamily): string;
  /** Seconds since the epoch of a timestamp/date expression. */
  epochSeconds(expr: string): string;
  castText(expr: string): string;
  /**
   * An aggregate keeping the first `n` rows (by `order`) as a list of objects with the given fields,
   * so a diff's samples come out of its one join instead of extra queries.
   */
  readonly firstRowsAggregate?: (fields: readonly (readonly [string, string])[], order: string, n: number) => string;
  /** SQL writing a table to a Parquet or CSV file, where the engine can write files itself. */
  readonly copyToFile?: (table: string, path: string, format: 'parquet' | 'csv') => string;
  /** A type name with aliases resolved (`int4` and `INT` -> `INTEGER`), for column_type checks. */
  canonicalType(typeName: string): string;
  /**
   * A FROM item holding a repeatable row-level random sample of about `percent` % of the table's
   * rows (profiles of big tables take their quantiles from it). Absent: profiles stay exact.
   */
  readonly rowSample?: (table: string, percent: number, seed: number) => string;
  /** A FROM item with a cheap block-level sample (whole storage blocks), for a first look at cardinality. */
  readonly blockSample?: (table: string, percent: number, seed: number) => string;
  /**
   * An estimate of count(DISTINCT expr): the exact distinct count of the values whose hash falls in
   * one of `oneIn` buckets, times `oneIn` (relative error about 1 / sqrt(distinct / oneIn)).
   */
  readonly distinctEstimate?: (expr: string, oneIn: number) => string;
  /**
   * Distinct-count estimates the engine already keeps in its table statistics, free to read:
   * `sql` selects one value per column (aliased s_0, s_1, ...), `parse` turns one into a count
   * (undefined when the engine has none for it).
   */
  readonly statisticsDistinct?: { readonly sql: (table: string, exprs: readonly string[]) => string; readonly parse: (v: unknown) => number | undefined };
}

const TYPE_ALIASES: Record<string, string> = {
  INT: 'INTEGER', INT4: 'INTEGER', SIGNED: 'INTEGER', INT8: 'BIGINT', LONG: 'BIGINT', INT2: 'SMALLINT', SHORT: 'SMALLINT',
  TEXT: 'VARCHAR', STRING: 'VARCHAR', 'CHARACTER VARYING': 'VARCHAR', BPCHAR: 'VARCHAR', CHAR: 'VARCHAR',
  BOOL: 'BOOLEAN', LOGICAL: 'BOOLEAN', FLOAT8: 'DOUBLE', 'DOUBLE PRECISION': 'DOUBLE', FLOAT4: 'FLOAT', REAL: 'FLOAT',
  NUMERIC: 'DECIMAL', DATETIME: 'TIMESTAMP', 'TIMESTAMP WITHOUT TIME ZONE': 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
};

export const standardQualityDialect: QualityDialect = {
  describeSql(table) {
    const parts = table.split('.').map((p) => p.replace(/^"|"$/g, '').replaceAll('""', '"'));
    const name = parts[parts.length - 1] ?? table;
    const schema = parts.length > 1 ? parts[parts.length - 2] : undefined;
    return `SELECT column_name, data_type AS column_type FROM information_schema.columns WHERE table_name = ${quoteLiteral(name)}${
      schema ? ` AND table_schema = ${quoteLiteral(schema)}` : ''
    } ORDER BY ordinal_position`;
  },
  typeFamily(typeName) {
    const t = typeName.trim().toUpperCase();
    if (/^(U?TINYINT|U?SMALLINT|U?INTEGER|U?BIGINT|U?HUGEINT|INT\d?|INT2|INT4|INT8|SERIAL|BIGSERIAL)$/.test(t)) return 'integer';
    if (/^(FLOAT\d?|DOUBLE( PRECISION)?|REAL)$/.test(t)) return 'float';
    if (/^(DECIMAL|NUMERIC)(\(.*\))?$/.test(t)) return 'decimal';
    if (/^(VARCHAR|TEXT|STRING|CHAR|BPCHAR|CHARACTER( VARYING)?|NVARCHAR)(\(.*\))?$/.test(t)) return 'text';
    if (/^(BOOLEAN|BOOL)$/.test(t)) return 'boolean';
    if (t === 'DATE') return 'date';
    if (/^TIMESTAMP/.test(t) || t === 'DATETIME') return 'timestamp';
    if (/^TIME( |$)/.test(t) || t === 'TIME') return 'time';
    return 'other';
  },
  regexMatch: (expr, pattern) => `(${expr} ~ ${quoteLiteral(pattern)})`,
  regexProbeSql: (pattern) => `SELECT '' ~ ${quoteLiteral(pattern)} AS ok`,
  textLength: (expr) => `char_length(${expr})`,
  bitmapMaxRange: 0,
  quantiles: (expr, ps) => `percentile_cont(ARRAY[${ps.join(', ')}]) WITHIN GROUP (ORDER BY ${expr})`,
  stddev: (expr) => `stddev_samp(${expr})`,
  toDouble: (expr, family) => (family === 'boolean' ? `CAST(CAST(${expr} AS INTEGER) AS DOUBLE PRECISION)` : `CAST(${expr} AS DOUBLE PRECISION)`),
  epochSeconds: (expr) => `extract(epoch FROM ${expr})`,
  castText: (expr) => `CAST(${expr} AS TEXT)`,
  canonicalType(typeName) {
    const t = typeName.trim().toUpperCase().replace(/\s+/g, ' ');
    return TYPE_ALIASES[t] ?? t;
  },
};

/** DuckDB: native regex functions, a bitmap aggregate for dense integer keys, a fast row hash. */
export const duckdbQualityDialect: QualityDialect = {
  ...standardQualityDialect,
  describeSql: (table) => `DESCRIBE SELECT * FROM ${table}`,
  regexMatch: (expr, pattern) => `regexp_matches(${expr}, ${quoteLiteral(pattern)})`,
  regexProbeSql: (pattern) => `SELECT regexp_matches('', ${quoteLiteral(pattern)}) AS ok`,
  textLength: (expr) => `length(${expr})`,
  bitmapUnique: (expr, lo, hi) => `(count(${expr}) - bit_count(bitstring_agg(${expr}, ${lo}, ${hi})))`,
  bitmapMaxRange: 1 << 30,
  rowChecksums: (exprs) => [`bit_xor(hash(${exprs.join(', ')}))`, `sum(CAST(hash(${exprs.join(', ')}) AS HUGEINT))`],
  quantiles: (expr, ps) => `quantile_cont(${expr}, [${ps.join(', ')}])`,
  toDouble: (expr, family) => (family === 'boolean' ? `CAST(CAST(${expr} AS INTEGER) AS DOUBLE)` : `CAST(${expr} AS DOUBLE)`),
  epochSeconds: (expr) => `epoch(${expr})`,
  castText: (expr) => `CAST(${expr} AS VARCHAR)`,
  firstRowsAggregate: (fields, order, n) => `arg_min(struct_pack(${fields.map(([k, e]) => `${quoteIdent(k)} := ${e}`).join(', ')}), ${order}, ${n})`,
  copyToFile: (table, path, format) => `COPY ${table} TO ${quoteLiteral(path)} (FORMAT ${format === 'csv' ? 'CSV, HEADER' : 'PARQUET'})`,
  rowSample: (table, percent, seed) => `(SELECT * FROM ${table} USING SAMPLE ${percent}% (bernoulli, ${seed})) AS s`,
  blockSample: (table, percent, seed) => `(SELECT * FROM ${table} USING SAMPLE ${percent}% (system, ${seed})) AS s`,
  distinctEstimate: (expr, oneIn) => `(count(DISTINCT ${expr}) FILTER (WHERE hash(${expr}) % ${oneIn} = 0) * ${oneIn})`,
  // DuckDB keeps a HyperLogLog estimate per column of a stored table; stats() prints it.
  statisticsDistinct: {
    sql: (table, exprs) => `SELECT ${exprs.map((e, i) => `stats(${e}) AS s_${i}`).join(', ')} FROM ${table} LIMIT 1`,
    parse: (v) => {
      const m = typeof v === 'string' ? /\[Approx Unique: (\d+)\]/.exec(v) : null;
      return m ? Number(m[1]) : undefined;
    },
  },
};

/** The quality dialect for an engine. The one place that looks at the engine's name. */
export function qualityDialectFor(engine: Pick<SqlEngine, 'dialect'>): QualityDialect {
  return engine.dialect === 'duckdb' ? duckdbQualityDialect : standardQualityDialect;
}
