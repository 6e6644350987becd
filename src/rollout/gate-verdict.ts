import type { GateKind, GateSpec } from './gate-spec.ts';

export type VerdictKind = 'pass' | 'wait' | 'fail' | 'rollback';

/**
 * A gate's decision with the inputs it used and a reason for humans, so it can be replayed.
 * `fail` pauses the rollout and tells people; `rollback` reverts it.
 */
export type GateVerdict = {
  readonly gate: string;
  readonly gateKind: GateKind;
  readonly verdict: VerdictKind;
  readonly reason: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly at: string;
  readonly environment?: string;
  readonly stage?: string;
  /** When the gate is judged: on a batch's outputs before they are published, or after. */
  readonly judged?: 'before publish' | 'after publish';
};

/** What an evaluator decides before the gate's `on_fail` turns `failed` into fail or rollback. */
export type GateOutcome = {
  readonly outcome: 'pass' | 'wait' | 'failed';
  readonly reason: string;
  readonly inputs: Readonly<Record<string, unknown>>;
};

export function outcome(o: GateOutcome['outcome'], reason: string, inputs: Readonly<Record<string, unknown>> = {}): GateOutcome {
  return { outcome: o, reason, inputs };
}

export function toVerdict(spec: GateSpec, o: GateOutcome, at: Date): GateVerdict {
  const verdict: VerdictKind = o.outcome === 'failed' ? spec.onFail : o.outcome;
  return { gate: spec.id, gateKind: spec.kind, verdict, reason: o.reason, inputs: o.inputs, at: at.toISOString() };
}

const RANK: Readonly<Record<VerdictKind, number>> = { pass: 0, wait: 1, fail: 2, rollback: 3 };

/** The combined verdict of several gates: the worst one wins; no gates passes. */
export function worstVerdict(verdicts: readonly Pick<GateVerdict, 'verdict'>[]): VerdictKind {
  let worst: VerdictKind = 'pass';
  for (const v of verdicts) if (RANK[v.verdict] > RANK[worst]) worst = v.verdict;
  return worst;
}
