/**
 * Why an evaluation came out as it did: one step per check (scope, enabled, window, each
 * dependency, each strategy and its constraints) with its outcome, so
 * `sluice flags evaluate FLAG --context k=v` can show what decided and why the rest did not.
 */
export type StepOutcome = 'pass' | 'fail' | 'decided' | 'skipped' | 'error';

export interface ExplanationStep {
  readonly subject: string;
  readonly outcome: StepOutcome;
  readonly detail: string;
  /** Nested checks, e.g. a strategy's constraints. */
  readonly children?: readonly ExplanationStep[];
}

export interface Explanation {
  readonly flag: string;
  /** One line: what decided the answer. */
  readonly decidedBy: string;
  readonly steps: readonly ExplanationStep[];
}

const MARK: Record<StepOutcome, string> = { pass: '✓', fail: '✗', decided: '→', skipped: '–', error: '!' };

/** Multi-line text for terminals. */
export function formatExplanation(
  result: { readonly value: unknown; readonly variant?: string; readonly reason: string; readonly errorCode?: string; readonly explanation: Explanation },
): string {
  const e = result.explanation;
  const head = `${e.flag} = ${JSON.stringify(result.value)}${result.variant ? ` (variant ${result.variant})` : ''}  reason ${result.reason}${result.errorCode ? ` ${result.errorCode}` : ''}`;
  const lines = [head, `  decided by: ${e.decidedBy}`];
  const walk = (steps: readonly ExplanationStep[], indent: string): void => {
    for (const s of steps) {
      lines.push(`${indent}${MARK[s.outcome]} ${s.subject}: ${s.detail}`);
      if (s.children) walk(s.children, indent + '    ');
    }
  };
  walk(e.steps, '  ');
  return lines.join('\n');
}
