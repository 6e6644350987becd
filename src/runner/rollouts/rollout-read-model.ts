import type { Project } from '../../config/project-model.ts';
import type { Observations } from '../../rollout/gate-evidence.ts';
import type { GateVerdict } from '../../rollout/gate-verdict.ts';
import { reduce } from '../../rollout/reduce.ts';
import type { RolloutPlan } from '../../rollout/rollout-plan.ts';
import { positionKey, type RolloutState, type StateKind } from '../../rollout/rollout-state.ts';
import { stageAt } from '../../rollout/stage-navigation.ts';
import type { Transition } from '../../rollout/transition.ts';
import { buildRolloutReport, type RolloutReport } from '../../rollout/build-rollout-report.ts';
import type { BatchRecord } from '../../rollout/gate-evidence.ts';
import { buildDatasetGraph } from '../dataset-graph.ts';
import type { RolloutLogEntry } from '../../rollout/rollout-log.ts';
import type { Clock } from '../../util/clock.ts';
import { planSteps, readPlanFiles } from '../../config/load-rollout-plans.ts';
import { initialRolloutState } from '../../rollout/rollout-state.ts';
import { formatProblem } from '../../util/errors.ts';
import type { RolloutService } from './rollout-service.ts';

export type VerdictSummary = Pick<GateVerdict, 'gate' | 'gateKind' | 'verdict' | 'reason' | 'at'>;

/** What `rollout status` shows of one rollout; `state` is exactly the reducer's state kind. */
export type RolloutSummary = {
  readonly name: string;
  /** The attempt shown (`name`, then `name#2`, … for a plan started again). */
  readonly attempt: string;
  readonly state: StateKind;
  /** `ENV/STAGE`, or null before the first stage. */
  readonly stage: string | null;
  readonly environment: string | null;
  readonly stageId: string | null;
  readonly mode: string | null;
  readonly steps: string;
  readonly baseline: string;
  readonly candidate: string;
  readonly startedBy: string | null;
  readonly startedAt: string | null;
  readonly stageEnteredAt: string | null;
  /** Batches pinned to the current stage (all of them, also those before a resume). */
  readonly batchesInStage: number;
  readonly failedBatchesInStage: number;
  /** Batches the gates judge now (since the stage was entered or last resumed). */
  readonly batchesJudged: number;
  readonly inFlight: readonly string[];
  /** The latest verdict of every gate judged in the current (or last) stage. */
  readonly lastVerdicts: readonly VerdictSummary[];
  /** Why it is not moving on now; empty when nothing is awaited. */
  readonly waitingFor: readonly string[];
  /** What the next batch or tick would do, when the gates already allow a move. */
  readonly next: string | null;
  readonly reason: string | null;
  readonly approvals: readonly string[];
  readonly reached: readonly string[];
  readonly updatedAt: string | null;
};

export type SummaryDeps = { readonly project: Project; readonly clock: Clock };

export function summarize(deps: SummaryDeps, plan: RolloutPlan, state: RolloutState, log: readonly RolloutLogEntry[], observed: Observations): RolloutSummary {
  const pos = state.position;
  const stage = pos ? stageAt(plan, pos) : undefined;
  const mine = pos ? state.batches.filter((b) => b.environment === pos.environment && b.stage === pos.stageId) : [];
  const windowStart = state.windowStart ?? state.stageEnteredAt ?? '';
  const { waiting, next } = whatItWaitsFor(deps, plan, state, observed);
  return {
    name: plan.name,
    attempt: state.id ?? plan.name,
    state: state.kind,
    stage: positionKey(pos) ?? null,
    environment: pos?.environment ?? null,
    stageId: pos?.stageId ?? null,
    mode: stage ? (stage.mode === 'canary' && stage.target?.kind === 'rows' ? `canary ${stage.target.percent}%` : stage.mode) : null,
    steps: planSteps(plan),
    baseline: plan.baseline,
    candidate: plan.candidate,
    startedBy: state.startedBy ?? null,
    startedAt: state.startedAt ?? null,
    stageEnteredAt: state.stageEnteredAt ?? null,
    batchesInStage: mine.length,
    failedBatchesInStage: mine.filter((b) => !b.success).length,
    batchesJudged: mine.filter((b) => b.at >= windowStart).length,
    inFlight: state.inFlight.map((r) => r.runId),
    lastVerdicts: lastVerdicts(log, state),
    waitingFor: waiting,
    next,
    reason: 'reason' in state ? state.reason : null,
    approvals: state.approvals.map((a) => a.actor),
    reached: state.reached,
    updatedAt: state.updatedAt ?? null,
  };
}

/** The latest verdict per gate of the current (or last) stage, in the order gates were judged; approvals count since the stage's entry. */
function lastVerdicts(log: readonly RolloutLogEntry[], state: RolloutState): VerdictSummary[] {
  const pos = state.position;
  const since = state.stageEnteredAt ?? '';
  const mine = (v: GateVerdict): boolean => v.at >= since && (v.stage === undefined || (v.stage === pos?.stageId && v.environment === pos.environment));
  const latest = new Map<string, VerdictSummary>();
  for (const e of log) {
    const vs = e.type === 'verdicts' ? e.verdicts : e.type === 'transition' ? e.transition.evidence : [];
    for (const v of vs) if (mine(v)) latest.set(v.gate, { gate: v.gate, gateKind: v.gateKind, verdict: v.verdict, reason: v.reason, at: v.at });
  }
  return [...latest.values()];
}

/**
 * What a rollout waits for, judged the way the controller judges it: the pure reducer is asked
 * what a tick would do now, and nothing is stored.
 */
function whatItWaitsFor(deps: SummaryDeps, plan: RolloutPlan, state: RolloutState, observed: Observations): { waiting: string[]; next: string | null } {
  switch (state.kind) {
    case 'pending':
      return { waiting: [`a start: sluice rollout start ${plan.name}`], next: null };
    case 'paused':
      return { waiting: [`a resume (${state.reason})`], next: null };
    case 'rolling_back':
      return { waiting: [`run(s) in flight to finish before republishing: ${state.waitingFor.join(', ')}`], next: null };
    case 'aborted':
      return { waiting: [], next: `flags are at the baseline; published data is unchanged until sluice rollout rollback ${plan.name}` };
    case 'promoted':
    case 'rolled_back':
      return { waiting: [], next: null };
    case 'progressing':
    case 'awaiting_approval': {
      const r = reduce(state, { kind: 'tick' }, { clock: deps.clock, plan, observed, graph: buildDatasetGraph(deps.project) });
      const t = r.transitions[r.transitions.length - 1];
      return { waiting: [...(r.waiting ?? [])], next: t ? `the next batch or tick moves it: ${describeMove(t)}` : null };
    }
  }
}

export function describeMove(t: Pick<Transition, 'from' | 'to'>): string {
  const at = (p: Transition['to']): string => `${p.state}${p.stage ? ` ${p.environment}/${p.stage}` : ''}`;
  return `${at(t.from)} -> ${at(t.to)}`;
}

/** Started rollouts from the store, plus plans in rollouts/ that were never started (pending). */
export async function allRollouts(service: Pick<RolloutService, 'list'>, project: Project): Promise<{ rollouts: { name: string; plan: RolloutPlan; state: RolloutState }[]; warnings: string[] }> {
  const stored = (await service.list()).map((r) => ({ name: r.name, plan: r.plan, state: r.state }));
  const names = new Set(stored.map((r) => r.name));
  const warnings: string[] = [];
  const planned: { name: string; plan: RolloutPlan; state: RolloutState }[] = [];
  for (const f of readPlanFiles(project)) {
    if (names.has(f.name)) continue;
    if (!f.plan) {
      warnings.push(`${f.file} is invalid and left out: ${f.problems.map(formatProblem).join('; ')}`);
      continue;
    }
    names.add(f.name);
    planned.push({ name: f.name, plan: f.plan, state: initialRolloutState(f.name) });
  }
  return { rollouts: [...stored, ...planned].sort((a, b) => a.name.localeCompare(b.name)), warnings };
}

/** The review of a rollout (`rollout report`) from its stored log and state. */
export function reportFromLog(log: readonly RolloutLogEntry[], state: Parameters<typeof buildRolloutReport>[3], plan?: RolloutPlan): RolloutReport {
  const transitions: Transition[] = [];
  const batches: BatchRecord[] = [];
  const verdicts: GateVerdict[] = [];
  for (const e of log) {
    if (e.type === 'transition') transitions.push(e.transition);
    else if (e.type === 'batch') batches.push(e.batch);
    else verdicts.push(...e.verdicts);
  }
  return buildRolloutReport(transitions, batches, verdicts, state, plan);
}
