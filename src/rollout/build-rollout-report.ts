import type { BatchRecord } from './gate-evidence.ts';
import type { GateVerdict, VerdictKind } from './gate-verdict.ts';
import type { RollbackPlan } from './plan-rollback.ts';
import type { RolloutState, StateKind } from './rollout-state.ts';
import type { StatePoint, Transition } from './transition.ts';
import { gatePhase, type GatePhase } from './judge-before-publish.ts';
import type { RolloutPlan } from './rollout-plan.ts';

export type ReportVerdict = Pick<GateVerdict, 'gate' | 'gateKind' | 'verdict' | 'reason' | 'inputs' | 'judged'>;

export type ReportEntry =
  | {
      readonly kind: 'transition';
      readonly at: string;
      readonly actor: string;
      readonly event: string;
      readonly from: StatePoint;
      readonly to: StatePoint;
      readonly reason: string;
      /** The verdicts it was decided on that the timeline has not shown yet for the stage's latest batch. */
      readonly evidence: readonly ReportVerdict[];
      /** The gates whose verdict it was also decided on, as already shown (on batch `batch`, when there was one). */
      readonly repeated?: { readonly batch?: string; readonly gates: readonly string[] };
    }
  | { readonly kind: 'batch'; readonly at: string; readonly runId: string; readonly environment: string; readonly stage: string; readonly partition: string; readonly success: boolean; readonly verdicts: readonly ReportVerdict[] };

export type ReportStage = {
  readonly environment: string;
  readonly stage: string;
  readonly enteredAt: string;
  readonly leftAt?: string;
  /** Where it went next (the next stage, paused, rolled back…). */
  readonly leftTo?: StatePoint;
  readonly batches: number;
  readonly failedBatches: number;
  /** The stage's gate verdicts as the timeline shows them: each gate once per batch, plus a later verdict that changed (a soak passing on the timer). */
  readonly verdictCounts: Readonly<Record<VerdictKind, number>>;
};

export type RolloutReport = {
  readonly rollout: string;
  readonly outcome: StateKind;
  readonly startedBy?: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly stages: readonly ReportStage[];
  readonly timeline: readonly ReportEntry[];
  /** Who did what: every person's state changes and approvals. */
  readonly people: readonly { readonly actor: string; readonly did: readonly string[] }[];
  /** What a rollback reverted, when the rollout ended rolled back. */
  readonly reverted?: Pick<RollbackPlan, 'republish' | 'rerun' | 'reverted'>;
  /** Every gate of the plan and when it is judged (before a batch is published, or after). */
  readonly gates?: readonly { readonly environment: string; readonly stage: string; readonly gate: string; readonly kind: string; readonly judged: GatePhase }[];
};

const slim = (v: GateVerdict): ReportVerdict => ({ gate: v.gate, gateKind: v.gateKind, verdict: v.verdict, reason: v.reason, inputs: v.inputs, ...(v.judged ? { judged: v.judged } : {}) });
const ENDS: readonly StateKind[] = ['promoted', 'rolled_back', 'aborted'];

type Shown = { readonly at: string; readonly environment: string; readonly stage: string; readonly verdict: VerdictKind };

/**
 * The timeline, with each gate verdict once per batch. The controller judges every gate of a stage
 * again on each later event (a tick, an approval), so a transition's evidence repeats verdicts the
 * batch before it already showed (a before-publish `checks` pass, judged again when a soak passes
 * on the timer). A transition lists only verdicts that are new for its stage since that batch (a
 * gate judged for the first time, or with another verdict) and names the gates it repeats.
 */
function timelineOf(transitions: readonly Transition[], batches: readonly BatchRecord[], verdictsOf: (b: BatchRecord) => GateVerdict[]): { entries: ReportEntry[]; shown: Shown[] } {
  type Raw = { kind: 'transition'; t: Transition } | { kind: 'batch'; b: BatchRecord };
  const raw: Raw[] = [...transitions.map((t): Raw => ({ kind: 'transition', t })), ...batches.map((b): Raw => ({ kind: 'batch', b }))];
  const at = (r: Raw): string => (r.kind === 'transition' ? r.t.at : r.b.at);
  raw.sort((x, y) => at(x).localeCompare(at(y)) || (x.kind === y.kind ? 0 : x.kind === 'batch' ? -1 : 1));
  // Per `environment/stage`: the latest batch and the verdict last shown for each gate since it.
  const latest = new Map<string, { batch?: string; verdicts: Map<string, VerdictKind> }>();
  // Every verdict shown, with the stage it was judged in (approvals to leave a stage name none).
  const shown: Shown[] = [];
  const entries = raw.map((r): ReportEntry => {
    if (r.kind === 'batch') {
      const b = r.b;
      const verdicts = verdictsOf(b);
      latest.set(`${b.environment}/${b.stage}`, { batch: b.runId, verdicts: new Map(verdicts.map((v) => [v.gate, v.verdict])) });
      for (const v of verdicts) if (v.environment !== undefined) shown.push({ at: b.at, environment: b.environment, stage: b.stage, verdict: v.verdict });
      return { kind: 'batch', at: b.at, runId: b.runId, environment: b.environment, stage: b.stage, partition: b.partition, success: b.success, verdicts: verdicts.map(slim) };
    }
    const t = r.t;
    const fresh: ReportVerdict[] = [];
    const repeated: string[] = [];
    let batch: string | undefined;
    for (const v of t.evidence) {
      const key = `${v.environment ?? t.from.environment}/${v.stage ?? t.from.stage}`;
      const seen = latest.get(key) ?? { verdicts: new Map<string, VerdictKind>() };
      latest.set(key, seen);
      if (seen.verdicts.get(v.gate) === v.verdict) {
        repeated.push(v.gate);
        batch ??= seen.batch;
        continue;
      }
      seen.verdicts.set(v.gate, v.verdict);
      fresh.push(slim(v));
      if (v.environment !== undefined && v.stage !== undefined) shown.push({ at: t.at, environment: v.environment, stage: v.stage, verdict: v.verdict });
    }
    return {
      kind: 'transition', at: t.at, actor: t.actor, event: t.event, from: t.from, to: t.to, reason: t.reason, evidence: fresh,
      ...(repeated.length > 0 ? { repeated: { ...(batch !== undefined ? { batch } : {}), gates: repeated } } : {}),
    };
  });
  return { entries, shown };
}

/**
 * The review after a rollout, as JSON: stages with their batches and verdict counts, a timeline of
 * transitions and batches (each batch with the verdicts judged on it, numbers included, and each
 * gate's verdict shown once per batch), and who did what. Inputs are what the store kept:
 * transitions, batches and verdicts (any order); `state` adds what a rollback reverted.
 */
export function buildRolloutReport(transitions: readonly Transition[], batches: readonly BatchRecord[], verdicts: readonly GateVerdict[], state?: RolloutState, plan?: RolloutPlan): RolloutReport {
  const ts = [...transitions].sort((a, b) => a.at.localeCompare(b.at));
  const first = ts[0];
  const last = ts[ts.length - 1];
  const verdictsOf = (b: BatchRecord): GateVerdict[] => verdicts.filter((v) => v.at === b.at && (v.environment === undefined || v.environment === b.environment) && (v.stage === undefined || v.stage === b.stage));
  const { entries: timeline, shown } = timelineOf(ts, batches, verdictsOf);

  const stages: ReportStage[] = [];
  ts.forEach((t, i) => {
    const entered = t.to.stage !== undefined && (t.to.stage !== t.from.stage || t.to.environment !== t.from.environment);
    if (!entered || t.to.environment === undefined) return;
    const leaving = ts.slice(i + 1).find((n) => n.to.stage !== t.to.stage || n.to.environment !== t.to.environment || ENDS.includes(n.to.state));
    const inStage = (at: string): boolean => at >= t.at && (!leaving || at <= leaving.at);
    const mine = batches.filter((b) => b.environment === t.to.environment && b.stage === t.to.stage && inStage(b.at));
    // Counted as the timeline shows them, so a gate judged again on a tick is not counted twice.
    const counts: Record<VerdictKind, number> = { pass: 0, wait: 0, fail: 0, rollback: 0 };
    for (const v of shown) if (v.environment === t.to.environment && v.stage === t.to.stage && inStage(v.at)) counts[v.verdict]++;
    stages.push({
      environment: t.to.environment,
      stage: t.to.stage ?? '',
      enteredAt: t.at,
      ...(leaving ? { leftAt: leaving.at, leftTo: leaving.to } : {}),
      batches: mine.length,
      failedBatches: mine.filter((b) => !b.success).length,
      verdictCounts: counts,
    });
  });

  const people = new Map<string, string[]>();
  const did = (actor: string, what: string): void => {
    if (actor === 'sluice') return;
    const list = people.get(actor) ?? [];
    if (!list.includes(what)) list.push(what);
    people.set(actor, list);
  };
  for (const t of ts) {
    did(t.actor, `${t.event} at ${t.at}${t.to.stage ? ` (${t.to.state} ${t.to.environment}/${t.to.stage})` : ` (${t.to.state})`}: ${t.reason}`);
    for (const v of t.evidence) if (v.gateKind === 'approval' && v.verdict === 'pass') for (const a of (v.inputs['approvers'] as readonly string[] | undefined) ?? []) did(a, `approved ${v.gate.replace(/^approval:/, '')}`);
  }

  const startedBy = state?.startedBy ?? first?.actor;
  return {
    rollout: first?.rollout ?? state?.rollout ?? '',
    outcome: state?.kind ?? last?.to.state ?? 'pending',
    ...(startedBy ? { startedBy } : {}),
    ...(first ? { startedAt: first.at } : {}),
    ...(last && ENDS.includes(last.to.state) ? { endedAt: last.at } : {}),
    stages,
    timeline,
    people: [...people].map(([actor, list]) => ({ actor, did: list })),
    ...(state?.kind === 'rolled_back' ? { reverted: { republish: state.rollback.republish, rerun: state.rollback.rerun, reverted: state.rollback.reverted } } : {}),
    ...(plan ? { gates: plan.environments.flatMap((e) => e.stages.flatMap((s) => s.gates.map((g) => ({ environment: e.name, stage: s.id, gate: g.id, kind: g.kind, judged: gatePhase(g) })))) } : {}),
  };
}
