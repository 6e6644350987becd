/**
 * Type names a project writes (DuckDB's spelling, which the docs use) as PostgreSQL spells them,
 * for declared source columns. Names PostgreSQL knows pass through.
 */
const TO_POSTGRES: Record<string, string> = {
  DOUBLE: 'DOUBLE PRECISION', FLOAT8: 'DOUBLE PRECISION', FLOAT: 'REAL', FLOAT4: 'REAL',
  STRING: 'TEXT', VARCHAR: 'TEXT', TINYINT: 'SMALLINT', UTINYINT: 'SMALLINT', USMALLINT: 'INTEGER', UINTEGER: 'BIGINT',
  UBIGINT: 'NUMERIC(20)', HUGEINT: 'NUMERIC(39)', UHUGEINT: 'NUMERIC(39)', DATETIME: 'TIMESTAMP', BLOB: 'BYTEA', LONG: 'BIGINT', SHORT: 'SMALLINT', SIGNED: 'INTEGER', LOGICAL: 'BOOLEAN',
};

export function postgresType(declared: string): string {
  const t = declared.trim().toUpperCase().replace(/\s+/g, ' ');
  return TO_POSTGRES[t] ?? t;
}
