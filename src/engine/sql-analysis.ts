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
  /** Analyses each text as a single SELECT (with CTEs); anything else is refused with a reason. */
  analyze(sqls: readonly string[]): Promise<SqlAnalysisResult[]>;
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
