import type { Clock } from '../util/clock.ts';
import type { BatchEvidence, GateContext } from './gate-evidence.ts';
import type { GateSpec } from './gate-spec.ts';
import { worstVerdict, type GateVerdict, type VerdictKind } from './gate-verdict.ts';
import { evaluateGate } from './gates/evaluate-gate.ts';
import type { RolloutPlan } from './rollout-plan.ts';
import type { RolloutState } from './rollout-state.ts';
import { stageAt } from './stage-navigation.ts';

/**
 * When a gate is judged, from its configuration (not its kind): a gate whose verdict depends only
 * on the latest batch's outputs — checks, contract, diff and drift, metric bounds and anomalies
 * with a window of one batch — is judged right after the changed step computes, before any
 * downstream step reads it and before anything is published. Gates that need time, several
 * batches, people or other rollouts (soak, judge, window, approval, dependency, and any gate with
 * a longer window) are judged after the batch is published.
 */
export function judgedBeforePublish(g: GateSpec): boolean {
  switch (g.kind) {
    case 'checks':
    case 'diff':
    case 'metrics':
    case 'anomaly':
      return g.window === 1;
    case 'judge':
    case 'soak':
    case 'window':
    case 'approval':
    case 'dependency':
      return false;
  }
}

export type GatePhase = 'before publish' | 'after publish';

export function gatePhase(g: GateSpec): GatePhase {
  return judgedBeforePublish(g) ? 'before publish' : 'after publish';
}

/**
 * The before-publish gates of the stage a run pinned, judged on this batch's evidence alone
 * (pure). `rollback` or `fail` means the batch goes on with the baseline output, so no consumer
 * sees a row the gate rejected; the reducer then decides on the rollout from the same evidence
 * when the batch completes.
 */
export function judgeBeforePublish(
  plan: RolloutPlan,
  state: RolloutState,
  pinned: { readonly environment: string; readonly stage?: string; readonly runId?: string },
  evidence: BatchEvidence,
  clock: Clock,
): { readonly verdicts: readonly GateVerdict[]; readonly worst: VerdictKind } {
  const env = plan.environments.findIndex((e) => e.name === pinned.environment);
  const stageIndex = env < 0 ? -1 : (plan.environments[env]?.stages.findIndex((s) => s.id === pinned.stage) ?? -1);
  const stage = env >= 0 && stageIndex >= 0 ? stageAt(plan, { env, stage: stageIndex, environment: pinned.environment, stageId: pinned.stage ?? '' }) : undefined;
  if (!stage) return { verdicts: [], worst: 'pass' };
  const now = clock.now();
  const at = now.toISOString();
  const ctx: GateContext = {
    now,
    batches: [{ runId: pinned.runId ?? '(this batch)', environment: pinned.environment, stage: stage.id, partition: '', at, success: true, evidence }],
    windowStart: at,
    ...(state.startedBy ? { startedBy: state.startedBy } : {}),
    approvals: state.approvals,
    runInFlight: true,
  };
  const verdicts = stage.gates.filter(judgedBeforePublish).map((g) => ({ ...evaluateGate(g, ctx), environment: pinned.environment, stage: stage.id, judged: 'before publish' as const }));
  return { verdicts, worst: worstVerdict(verdicts) };
}
