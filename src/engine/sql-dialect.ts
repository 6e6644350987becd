import { quoteIdent, quoteLiteral } from './sql.ts';

/** What a column holds, independent of the engine's spelling of its type. */
export type TypeFamily = 'integer' | 'float' | 'decimal' | 'text' | 'boolean' | 'date' | 'timestamp' | 'time' | 'other';

/**
 * The dialect seam: every expression whose spelling differs between engines. `standardDialect` is
 * the shared default (SQL that PostgreSQL accepts); an adapter hands out the standard dialect with
 * small overrides (engine/duckdb/duckdb-dialect.ts) and declares optional capabilities
 * (`bitmapUnique`, `rowSample`, `statisticsDistinct`, ...) that callers branch on. Nothing outside
 * an adapter looks at which engine it is.
 */
export interface SqlDialect {
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

  // ---- runner: slices, composition, metrics, checksums ---------------------------------------
  /**
   * The slice bucket of flags/bucket.ts as SQL: uint32(first 8 hex digits of md5(salt || ':' ||
   * key)) % modulus over the key cast to text; a NULL key gives a NULL bucket.
   */
  bucket(salt: string, keyExpr: string, modulus: number): string;
  /**
   * The rows of `baseline` whose key is outside the slice plus those of `candidate` inside it, as
   * one SELECT over the given columns (a row slice of a step, published as its own output).
   */
  sliceUnion(baseline: string, candidate: string, columns: readonly string[], inSlice: string): string;
  /**
   * Order-free checksum aggregates over the given column expressions: equal multisets of rows give
   * equal values. XOR alone cancels pairs of identical rows, so it comes with a wide sum.
   */
  rowChecksums(exprs: readonly string[]): readonly [xor: string, sum: string];
  /** A FROM item of `n` rows with one integer column `alias` counting from 0. */
  series(n: number, alias: string): string;
  /** Statements that create `table` as the result of `select`, replacing a table of that name. */
  replaceTableAs(table: string, select: string): string;
  /** A timestamp expression moved by a number of seconds (an integer expression). */
  addSeconds(timestamp: string, seconds: string): string;
  /** Type names the portable SQL above uses. */
  readonly types: { readonly double: string; readonly text: string; readonly bigint: string };
}

const TYPE_ALIASES: Record<string, string> = {
  INT: 'INTEGER', INT4: 'INTEGER', SIGNED: 'INTEGER', INT8: 'BIGINT', LONG: 'BIGINT', INT2: 'SMALLINT', SHORT: 'SMALLINT',
  TEXT: 'VARCHAR', STRING: 'VARCHAR', 'CHARACTER VARYING': 'VARCHAR', BPCHAR: 'VARCHAR', CHAR: 'VARCHAR',
  BOOL: 'BOOLEAN', LOGICAL: 'BOOLEAN', FLOAT8: 'DOUBLE', 'DOUBLE PRECISION': 'DOUBLE', FLOAT4: 'FLOAT', REAL: 'FLOAT',
  NUMERIC: 'DECIMAL', DATETIME: 'TIMESTAMP', 'TIMESTAMP WITHOUT TIME ZONE': 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
};

export const standardDialect: SqlDialect = {
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
  // PostgreSQL spells the hex prefix as a bit string: bit(32) -> bigint is unsigned.
  bucket: (salt, keyExpr, modulus) => `(('x' || substr(md5(${quoteLiteral(`${salt}:`)} || CAST(${keyExpr} AS TEXT)), 1, 8))::bit(32)::bigint % ${modulus})`,
  sliceUnion: (baseline, candidate, columns, inSlice) => {
    const cols = columns.map(quoteIdent).join(', ');
    return `SELECT ${cols} FROM ${baseline} WHERE NOT ${inSlice} UNION ALL SELECT ${cols} FROM ${candidate} WHERE ${inSlice}`;
  },
  rowChecksums: (exprs) => {
    const h = `('x' || substr(md5(CAST(ROW(${exprs.join(', ')}) AS TEXT)), 1, 15))::bit(60)::bigint`;
    return [`bit_xor(${h})`, `sum(CAST(${h} AS NUMERIC))`];
  },
  series: (n, alias) => `generate_series(0, ${Math.max(0, Math.trunc(n)) - 1}) AS g(${quoteIdent(alias)})`,
  replaceTableAs: (table, select) => `DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} AS ${select}`,
  addSeconds: (ts, seconds) => `(${ts} + make_interval(secs => ${seconds}))`,
  types: { double: 'DOUBLE PRECISION', text: 'TEXT', bigint: 'BIGINT' },
};


