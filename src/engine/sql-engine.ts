/**
 * The narrow seam through which core modules (quality, diff, profiles) run SQL where the data is.
 * Adapters (DuckDB, PostgreSQL) implement it; values come back as plain JSON-friendly data.
 */
export type SqlValue = null | boolean | number | string | readonly SqlValue[] | { readonly [k: string]: SqlValue };
export type Row = Record<string, SqlValue>;

export type Dialect = 'duckdb' | 'postgres';

export interface SqlEngine {
  readonly dialect: Dialect;
  /** Runs one statement and returns its rows. BIGINTs beyond 2^53 come back as strings, dates as ISO strings. */
  query(sql: string): Promise<Row[]>;
  /** Runs one or more statements that return nothing of interest. */
  exec(sql: string): Promise<void>;
  /** Runs fn inside one transaction; rolls back when fn throws. Not re-entrant. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
}
