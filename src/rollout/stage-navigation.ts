import type { RolloutPlan, StagePlan } from './rollout-plan.ts';
import type { StagePosition } from './rollout-state.ts';

export function positionAt(plan: RolloutPlan, env: number, stage: number): StagePosition | undefined {
  const e = plan.environments[env];
  const s = e?.stages[stage];
  return e && s ? { env, stage, environment: e.name, stageId: s.id } : undefined;
}

export function stageAt(plan: RolloutPlan, p: StagePosition): StagePlan | undefined {
  return plan.environments[p.env]?.stages[p.stage];
}

/** The stage after `p` (the first stage when `p` is absent), or undefined after the last one. */
export function nextPosition(plan: RolloutPlan, p: StagePosition | undefined): StagePosition | undefined {
  if (!p) return positionAt(plan, 0, 0);
  return positionAt(plan, p.env, p.stage + 1) ?? positionAt(plan, p.env + 1, 0);
}

/** Orders positions; `promoted` is after every stage. */
export function comparePositions(a: StagePosition | 'promoted' | undefined, b: StagePosition | 'promoted' | undefined): number {
  const rank = (p: StagePosition | 'promoted' | undefined): [number, number] => (p === undefined ? [-1, -1] : p === 'promoted' ? [Infinity, Infinity] : [p.env, p.stage]);
  const [ae, as] = rank(a);
  const [be, bs] = rank(b);
  return ae !== be ? ae - be : as - bs;
}

/**
 * Resolves `STAGE` (in the current environment), `ENV/STAGE`, `ENV` (its first stage) or
 * `promoted`; undefined when the plan has no such stage.
 */
export function resolveStageRef(plan: RolloutPlan, ref: string, current: StagePosition | undefined): StagePosition | 'promoted' | undefined {
  if (ref === 'promoted') return 'promoted';
  const [a, b] = ref.includes('/') ? ref.split('/', 2) : [undefined, ref];
  if (a !== undefined) {
    const env = plan.environments.findIndex((e) => e.name === a);
    const stage = env < 0 ? -1 : (plan.environments[env]?.stages.findIndex((s) => s.id === b) ?? -1);
    return env < 0 || stage < 0 ? undefined : positionAt(plan, env, stage);
  }
  const envIdx = current?.env ?? 0;
  const stage = plan.environments[envIdx]?.stages.findIndex((s) => s.id === b) ?? -1;
  if (stage >= 0) return positionAt(plan, envIdx, stage);
  const env = plan.environments.findIndex((e) => e.name === b);
  return env >= 0 ? positionAt(plan, env, 0) : undefined;
}

/** The most approvals any stage in (from, to] asks for, with the stage that asks. */
export function approvalsNeeded(plan: RolloutPlan, from: StagePosition | undefined, to: StagePosition | 'promoted'): { required: number; stage?: string } {
  let best: { required: number; stage?: string } = { required: 0 };
  for (let p = nextPosition(plan, from); p && comparePositions(p, to) <= 0; p = nextPosition(plan, p)) {
    const s = stageAt(plan, p);
    if (s && s.approvals > best.required) best = { required: s.approvals, stage: `${p.environment}/${p.stageId}` };
  }
  return best;
}
