import type { SqlDialect } from './sql-dialect.ts';
import type { FileSource } from './source.ts';
import type { ColumnInfo } from './warehouse.ts';

/**
 * What the engine's own parser says about a step's SQL, without running it: whether it is one
 * SELECT, which relations it reads by name (CTE names resolved away, with their scope), and which
 * functions it calls. Each adapter analyses with its own parser (DuckDB serialises a statement's
 * syntax tree as JSON), so dependencies follow the SQL, not its words.
 */
export interface RelationRef {
  readonly catalog?: string;
  readonly schema?: string;
  readonly name: string;
  /** Character offset in the SQL text, when the parser reports one. */
  readonly offset?: number;
}

export interface FunctionRef {
  readonly name: string;
  readonly offset?: number;
  /** Set by the adapter when the function reaches outside the step's inputs or changes state. */
  readonly outside?: string;
}

export interface SqlAnalysis {
  readonly relations: readonly RelationRef[];
  /** Functions in FROM (range, read_csv, …). */
  readonly tableFunctions: readonly FunctionRef[];
  /** Scalar and aggregate functions anywhere. */
  readonly functions: readonly FunctionRef[];
}

export type SqlAnalysisResult =
  | { readonly ok: true; readonly analysis: SqlAnalysis }
  | { readonly ok: false; readonly message: string; readonly offset?: number };

export interface SqlAnalyzer extends AsyncDisposable {
  /** The dialect of the engine whose parser this is (type families for checks, regex probes). */
  readonly dialect: SqlDialect;
  /** Analyses each text as a single SELECT (with CTEs); anything else is refused with a reason. */
  analyze(sqls: readonly string[]): Promise<SqlAnalysisResult[]>;
  /** A namespace of empty relations to bind queries against (one per pipeline); nothing runs on data. */
  openBindScope(): Promise<BindScope>;
  close(): Promise<void>;
}

export type SqlBinding =
  | { readonly ok: true; readonly columns: readonly ColumnInfo[] }
  | { readonly ok: false; readonly message: string; readonly line?: number };

/**
 * Binding without running: relations are declared with their columns only (no rows), and a query
 * is bound against them by the engine (names, columns, types, functions and constant arguments
 * such as regular expressions), answering with its output columns or the engine's error.
 */
export interface BindScope extends AsyncDisposable {
  /** Declares `name` as an empty relation with these columns. */
  declare(name: string, columns: readonly ColumnInfo[]): Promise<void>;
  /** The columns of a file source, from one of its files' header or schema (no data read); undefined when no file matches yet. */
  sourceColumns(source: FileSource, projectRoot: string): Promise<ColumnInfo[] | undefined>;
  /** What a run would refuse in a file source's files before reading a row (e.g. a CSV header that is not the declared columns); undefined when they are fine. */
  checkSourceFiles(source: FileSource, projectRoot: string): Promise<string | undefined>;
  bind(sql: string): Promise<SqlBinding>;
  close(): Promise<void>;
}

/** The 1-based line and column of a character offset in a text. */
export function lineOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: offset - last };
}
