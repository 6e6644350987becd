import type { RolloutPlan, StepRef } from './rollout-plan.ts';
import { stepKey } from './rollout-plan.ts';
import type { StateKind } from './rollout-state.ts';
import { ACTIVE_STATES } from './rollout-state.ts';

export type ActiveRollout = { readonly name: string; readonly state: StateKind; readonly plan: RolloutPlan };

export type Conflict = {
  readonly kind: 'step' | 'dataset';
  /** The other rollout. */
  readonly rollout: string;
  readonly step?: string;
  readonly dataset?: string;
  readonly message: string;
};

/**
 * Two rollouts may not change the same step or the same dataset at once. Rollouts count while
 * progressing, awaiting approval, paused or rolling back; `datasetsOf` says which datasets a
 * step writes (from the project). A rollout never conflicts with itself (same name).
 */
export function checkConflicts(active: readonly ActiveRollout[], plan: RolloutPlan, datasetsOf: (step: StepRef) => readonly string[] = () => []): Conflict[] {
  const conflicts: Conflict[] = [];
  const mySteps = new Set(plan.steps.map(stepKey));
  const myDatasets = new Set(plan.steps.flatMap((s) => [...datasetsOf(s)]));
  for (const other of active) {
    if (other.name === plan.name || !ACTIVE_STATES.includes(other.state)) continue;
    for (const s of other.plan.steps) {
      if (mySteps.has(stepKey(s))) conflicts.push({ kind: 'step', rollout: other.name, step: stepKey(s), message: `step ${stepKey(s)} is already being rolled out by ${other.name} (${other.state})` });
    }
    const theirs = new Set(other.plan.steps.flatMap((s) => [...datasetsOf(s)]));
    for (const d of [...myDatasets].filter((x) => theirs.has(x)).sort()) {
      conflicts.push({ kind: 'dataset', rollout: other.name, dataset: d, message: `dataset ${d} is already being changed by ${other.name} (${other.state})` });
    }
  }
  return conflicts;
}
