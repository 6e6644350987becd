import type { Dialect } from '../engine/sql-engine.ts';
import { BUCKETS, sliceBound } from './bucket.ts';

/**
 * `bucket(salt, key)` from bucket.ts as a SQL expression, so an engine can split rows into slices
 * where the data is. Both dialects compute uint32(first 8 hex digits of md5(salt || ':' || key)) % 10000
 * over the key cast to text; a NULL key gives a NULL bucket (never inside a slice).
 *
 * DuckDB: `('0x' || substr(md5(...), 1, 8))::UINTEGER`. Measured on DuckDB 1.5.6, 5 M keys, 2 cores:
 * md5 itself is ~0.5-0.8 s of the total, and the UINTEGER and UBIGINT casts are within noise of each
 * other; md5_number() is faster but its byte order is not the hex prefix's, so it is not used.
 * PostgreSQL: `('x' || substr(md5(...), 1, 8))::bit(32)::bigint` (bit(32) → bigint is unsigned).
 *
 * `salt` is the plain salt text (quoted here); `keyExpr` is a SQL expression (a column, usually).
 */
export function bucketSql(dialect: Dialect, salt: string, keyExpr: string): string {
  const lit = `'${salt.replace(/'/g, "''")}:'`;
  if (dialect === 'duckdb') return `(('0x' || substr(md5(${lit} || CAST(${keyExpr} AS VARCHAR)), 1, 8))::UINTEGER % ${BUCKETS})`;
  return `(('x' || substr(md5(${lit} || CAST(${keyExpr} AS TEXT)), 1, 8))::bit(32)::bigint % ${BUCKETS})`;
}

/** A boolean SQL expression: true iff the key is inside the `percentage` % slice (false for NULL keys). */
export function sliceSql(dialect: Dialect, salt: string, keyExpr: string, percentage: number): string {
  return `COALESCE(${bucketSql(dialect, salt, keyExpr)} < ${sliceBound(percentage)}, false)`;
}
