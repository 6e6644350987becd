import type { SqlDialect } from './sql-dialect.ts';

/**
 * The narrow seam through which core modules (quality, diff, profiles) run SQL where the data is.
 * Adapters (DuckDB, PostgreSQL) implement it; values come back as plain JSON-friendly data.
 */
export type SqlValue = null | boolean | number | string | readonly SqlValue[] | { readonly [k: string]: SqlValue };
export type Row = Record<string, SqlValue>;

export interface SqlEngine {
  /** How this engine spells what differs between engines, and what it can do. */
  readonly dialect: SqlDialect;
  /** Runs one statement and returns its rows. BIGINTs beyond 2^53 come back as strings, dates as ISO strings. */
  query(sql: string): Promise<Row[]>;
  /** Runs one or more statements that return nothing of interest. */
  exec(sql: string): Promise<void>;
}
