import type { SqlDialect } from '../engine/sql-dialect.ts';
import { BUCKETS, sliceBound } from './bucket.ts';

/**
 * `bucket(salt, key)` from bucket.ts as a SQL expression of the engine's dialect, so an engine can
 * split rows into slices where the data is; every dialect computes the same value (a test compares
 * TypeScript, DuckDB and PostgreSQL on the same keys). A NULL key gives a NULL bucket.
 */
export function bucketSql(dialect: Pick<SqlDialect, 'bucket'>, salt: string, keyExpr: string): string {
  return dialect.bucket(salt, keyExpr, BUCKETS);
}

/** A boolean SQL expression: true iff the key is inside the `percentage` % slice (false for NULL keys). */
export function sliceSql(dialect: Pick<SqlDialect, 'bucket'>, salt: string, keyExpr: string, percentage: number): string {
  return `COALESCE(${bucketSql(dialect, salt, keyExpr)} < ${sliceBound(percentage)}, false)`;
}
