import { type SqlDialect, standardDialect } from '../sql-dialect.ts';
import { quoteLiteral } from '../sql.ts';

/** PostgreSQL's spellings of type names, mapped to the names the project writes (DuckDB's). */
const CANONICAL: Record<string, string> = {
  INT: 'INTEGER', INT4: 'INTEGER', INT8: 'BIGINT', INT2: 'SMALLINT', SERIAL: 'INTEGER', BIGSERIAL: 'BIGINT',
  TEXT: 'VARCHAR', 'CHARACTER VARYING': 'VARCHAR', CHARACTER: 'VARCHAR', CHAR: 'VARCHAR', BPCHAR: 'VARCHAR', STRING: 'VARCHAR',
  BOOL: 'BOOLEAN', FLOAT8: 'DOUBLE', 'DOUBLE PRECISION': 'DOUBLE', FLOAT4: 'FLOAT', REAL: 'FLOAT', NUMERIC: 'DECIMAL',
  'TIMESTAMP WITHOUT TIME ZONE': 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ', 'TIME WITHOUT TIME ZONE': 'TIME', 'TIME WITH TIME ZONE': 'TIMETZ', DATETIME: 'TIMESTAMP',
};

/**
 * PostgreSQL over the standard dialect (which already speaks its SQL: `~`, percentile_cont ...
 * WITHIN GROUP, extract(epoch ...), generate_series, md5 buckets via bit(32)). What it adds: a
 * describe over pg_catalog that resolves the name as a query would (temp views of the session
 * first, then the search path), type names with their modifiers canonicalised, and a hashed
 * distinct estimate. Left out on purpose: `firstRowsAggregate` (callers put FILTER after it, which
 * an array slice of array_agg cannot take), `rowSample`/`blockSample` (TABLESAMPLE refuses views,
 * and datasets are views), `copyToFile` (COPY TO a file writes on the server's disk, not ours).
 */
export const postgresDialect: SqlDialect = {
  ...standardDialect,
  describeSql: (table) =>
    `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS column_type FROM pg_catalog.pg_attribute a ` +
    `WHERE a.attrelid = CAST(${quoteLiteral(table)} AS regclass) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
  typeFamily(typeName) {
    const t = typeName.trim().toUpperCase();
    if (/^(TIME WITH(OUT)? TIME ZONE|TIMETZ)(\(\d\))?$/.test(t)) return 'time';
    if (/^(TIMESTAMP(\(\d\))? WITH(OUT)? TIME ZONE|TIMESTAMPTZ)$/.test(t)) return 'timestamp';
    if (/^(CHARACTER|CHAR|CHARACTER VARYING|VARCHAR)\(\d+\)$/.test(t)) return 'text';
    return standardDialect.typeFamily(t.replace(/\(\d+\)$/, (m) => (/^(NUMERIC|DECIMAL)/.test(t) ? m : '')));
  },
  canonicalType(typeName) {
    const t = typeName.trim().toUpperCase().replace(/\s+/g, ' ');
    const m = /^([A-Z0-9 ]+?)\s*(\([^)]*\))?(?: (WITH(?:OUT)? TIME ZONE))?$/.exec(t);
    if (!m) return standardDialect.canonicalType(t);
    const base = m[3] ? `${m[1]} ${m[3]}` : (m[1] ?? t);
    const name = CANONICAL[base] ?? standardDialect.canonicalType(base);
    // Lengths of text types and precisions of times say nothing a contract checks; a decimal's scale does.
    return name === 'DECIMAL' && m[2] ? `DECIMAL${m[2].replace(/\s+/g, '')}` : name;
  },
  distinctEstimate: (expr, oneIn) => `(count(DISTINCT ${expr}) FILTER (WHERE abs(hashtext(CAST(${expr} AS TEXT))::bigint) % ${oneIn} = 0) * ${oneIn})`,
};
