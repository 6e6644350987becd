/**
 * One error type for everything a user can get wrong or a store can refuse. The code is from a
 * closed list so the CLI and the API map it to an exit code or an HTTP status; the place fields say
 * where the problem is (file, line, field, step, version) whenever that is known.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'NOT_FOUND'
  | 'SQL_FAILED'
  | 'DATA_INVALID'
  | 'CHECK_FAILED'
  | 'CONTRACT_BROKEN'
  | 'CONFLICT'
  | 'FORBIDDEN'
  | 'AUDIT_BROKEN'
  /** Stored metadata or data is not what it must be (a damaged or edited store or warehouse). */
  | 'CORRUPT'
  | 'INTERNAL';

export interface ErrorPlace {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly field?: string;
  readonly step?: string;
  readonly version?: string;
}

/** One problem found while validating; validation collects all of them before failing. */
export interface Problem extends ErrorPlace {
  readonly message: string;
}

export class SluiceError extends Error {
  override readonly name = 'SluiceError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly place: ErrorPlace = {},
    readonly problems: readonly Problem[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.place, ...(this.problems.length ? { problems: this.problems } : {}) };
  }
}

/** Formats a problem as `file:line field: message`, the form every validator reports in. */
export function formatProblem(p: Problem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}` : ''}${p.column ? `:${p.column}` : ''}` : '';
  const field = p.field ? `${p.field}: ` : '';
  const ctx = [p.step ? `step ${p.step}` : '', p.version ? `version ${p.version}` : ''].filter(Boolean).join(' ');
  return `${where}${where ? ' ' : ''}${ctx ? `(${ctx}) ` : ''}${field}${p.message}`;
}

export function configError(problems: readonly Problem[]): SluiceError {
  const first = problems[0];
  const head = problems.length === 1 && first ? formatProblem(first) : `${problems.length} problems in the project`;
  return new SluiceError('CONFIG_INVALID', head, first ?? {}, problems);
}

export function isSluiceError(e: unknown): e is SluiceError {
  return e instanceof SluiceError;
}

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
