import { SluiceError, formatProblem, isSluiceError, type ErrorCode } from '../util/errors.ts';

/** What a command returns; the entry point prints it as text or JSON and exits with its code. */
export interface CommandResult {
  readonly text: string;
  readonly json: unknown;
  readonly exitCode?: number;
}

export const EXIT_CODES: Record<ErrorCode, number> = {
  USAGE: 2,
  CONFIG_INVALID: 3,
  NOT_FOUND: 4,
  SQL_FAILED: 5,
  DATA_INVALID: 5,
  CHECK_FAILED: 6,
  CONTRACT_BROKEN: 6,
  CONFLICT: 7,
  FORBIDDEN: 8,
  AUDIT_BROKEN: 9,
  CORRUPT: 10,
  INTERNAL: 70,
};

/**
 * `run` and `backfill`: the batch made a rollout roll back or pause, and published the baseline.
 * Not a failure to retry: the data is the baseline's, and the rollout says why.
 */
export const EXIT_ROLLOUT_ACTED = 11;

/** `plan`: the deployed state differs from the project files (other than rollouts in progress). */
export const EXIT_PLAN_DIFFERS = 12;

export function renderError(e: unknown, json: boolean): { text: string; code: number } {
  if (isSluiceError(e)) {
    if (json) return { text: JSON.stringify({ error: e.toJSON() }, null, 2), code: EXIT_CODES[e.code] };
    const lines = e.problems.length > 1 ? [`error: ${e.message}`, ...e.problems.map((p) => `  ${formatProblem(p)}`)] : [`error: ${e.problems.length === 1 ? formatProblem(e.problems[0] ?? { message: e.message }) : withPlace(e)}`];
    return { text: lines.join('\n'), code: EXIT_CODES[e.code] };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const text = json
    ? JSON.stringify({ error: { code: 'INTERNAL', message: err.message } })
    : `internal error (a bug in Sluice; please report it with this output): ${err.stack ?? err.message}`;
  return { text, code: EXIT_CODES.INTERNAL };
}

function withPlace(e: SluiceError): string {
  const p = e.place;
  const where = p.file ? `${p.file}${p.line ? `:${p.line}` : ''}: ` : '';
  return `${where}${e.message}`;
}
