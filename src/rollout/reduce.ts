/**
 * The rollout controller as a pure reducer: (state, event, context) -> (state, actions,
 * transitions). No I/O and no hidden time: the clock comes in the context, the adapter persists
 * the new state, transitions and verdicts, then carries out the actions in order.
 *
 * Rules it keeps:
 * - Stage transitions (automatic or `promote`) happen only at a batch boundary: while a run is in
 *   flight the controller waits (automatic) or refuses (`promote`), because a run pins its flags
 *   at its start and its evidence belongs to the stage it was pinned to.
 * - Pause, abort and rollback act at once. A rollback first returns every flag to the baseline
 *   (runs that start afterwards are pure baseline), then, if runs pinned earlier are still in
 *   flight, waits in `rolling_back` for them to finish, so their publications are included; then
 *   it republishes every touched partition from its baseline output and re-runs downstream.
 *   A candidate publication that still arrives after `rolled_back` is republished at once.
 * - Approvals are never skipped, not even by `promote`; the starter's approval is refused.
 * - Staggering: a stage transition waits (or `promote` is refused) when the target environment
 *   saw `config.stagger.maxTransitions` transitions within `windowMs` (input: observed).
 * - Every change of state kind or stage yields exactly one Transition and one audit entry.
 */
import type { Clock } from '../util/clock.ts';
import { checkStagger } from './check-stagger.ts';
import type { StaggerConfig } from './check-stagger.ts';
import type { BatchRecord, GateContext, Observations } from './gate-evidence.ts';
import type { GateVerdict } from './gate-verdict.ts';
import { toVerdict, worstVerdict } from './gate-verdict.ts';
import { approvalRefusal, evaluateApprovalGate } from './gates/approval-gate.ts';
import { evaluateGate } from './gates/evaluate-gate.ts';
import { gatePhase } from './judge-before-publish.ts';
import type { DatasetGraph, TouchedPartition } from './plan-rollback.ts';
import { planRollback } from './plan-rollback.ts';
import { describeFlagChange } from './exposure-flag-state.ts';
import type { AuditEntry, FlagExposureOccasion, FlagExposureStage, RolloutAction } from './rollout-action.ts';
import { SYSTEM_ACTOR } from './rollout-action.ts';
import type { RolloutEvent } from './rollout-event.ts';
import type { Exposure, RolloutPlan } from './rollout-plan.ts';
import { exposureOf } from './rollout-plan.ts';
import type { PendingMove, PublishedPartition, RolloutCommon, RolloutState, StagePosition } from './rollout-state.ts';
import { positionKey } from './rollout-state.ts';
import { approvalsNeeded, comparePositions, nextPosition, resolveStageRef, stageAt } from './stage-navigation.ts';
import type { StatePoint, Transition } from './transition.ts';

export type ControllerConfig = {
  readonly stagger?: StaggerConfig;
  /** Batches of the current stage kept in state (default 500); gates look at the latest ones. */
  readonly maxBatchesKept?: number;
};

export type ReduceContext = {
  readonly clock: Clock;
  readonly plan: RolloutPlan;
  readonly config?: ControllerConfig;
  /** Other rollouts, dataset freshness, recent transitions: read by the adapter before each call. */
  readonly observed?: Observations;
  /** dataset -> datasets that read it, for rollback's downstream re-runs. */
  readonly graph?: DatasetGraph;
  /** Every environment of the project, so promotion can say which ones still run the baseline. */
  readonly environments?: readonly string[];
};

export type ReduceResult = {
  readonly state: RolloutState;
  readonly actions: readonly RolloutAction[];
  readonly transitions: readonly Transition[];
  /** Gate verdicts computed for this event (store them: they make decisions replayable). */
  readonly verdicts: readonly GateVerdict[];
  /** The batch recorded from a batch_completed / failed run_finished event. */
  readonly batch?: BatchRecord;
  /** Set when the event was refused: the state is returned unchanged and the only action audits the refusal. */
  readonly refused?: string;
  /** Why the rollout is not moving on right now. */
  readonly waiting?: readonly string[];
};

type Kind = RolloutState['kind'];

export function reduce(state: RolloutState, event: RolloutEvent, ctx: ReduceContext): ReduceResult {
  return new Reduction(state, ctx).run(event);
}

function common(s: RolloutState): RolloutCommon {
  const { rollout, id, startedBy, startedAt, position, stageEnteredAt, windowStart, batches, approvals, inFlight, published, exposures, reached, updatedAt } = s;
  return { rollout, id, startedBy, startedAt, position, stageEnteredAt, windowStart, batches, approvals, inFlight, published, exposures, reached, updatedAt };
}

function point(s: RolloutState): StatePoint {
  return s.position ? { state: s.kind, environment: s.position.environment, stage: s.position.stageId } : { state: s.kind };
}

function sameExposure(a: Exposure | undefined, b: Exposure): boolean {
  return JSON.stringify(a ?? { mode: 'baseline' }) === JSON.stringify(b);
}

function targetName(t: StagePosition | 'promoted'): string {
  return t === 'promoted' ? 'promoted' : `${t.environment}/${t.stageId}`;
}

class Reduction {
  private s: RolloutState;
  private readonly actions: RolloutAction[] = [];
  private readonly transitions: Transition[] = [];
  private readonly verdicts: GateVerdict[] = [];
  private readonly waiting: string[] = [];
  private batch: BatchRecord | undefined;
  private readonly now: Date;
  private readonly at: string;
  private readonly plan: RolloutPlan;

  constructor(
    private readonly initial: RolloutState,
    private readonly ctx: ReduceContext,
  ) {
    this.s = initial;
    this.now = ctx.clock.now();
    this.at = this.now.toISOString();
    this.plan = ctx.plan;
  }

  run(event: RolloutEvent): ReduceResult {
    const refused = this.handle(event);
    if (refused !== undefined) {
      const actor = 'actor' in event ? event.actor : SYSTEM_ACTOR;
      return {
        state: this.initial,
        actions: [this.auditAction(actor, 'refused', refused, { event })],
        transitions: [],
        verdicts: [],
        refused,
      };
    }
    return {
      state: this.s,
      actions: this.actions,
      transitions: this.transitions,
      verdicts: this.verdicts,
      ...(this.batch ? { batch: this.batch } : {}),
      ...(this.waiting.length ? { waiting: this.waiting } : {}),
    };
  }

  /** Returns a refusal reason, or undefined when the event was handled. */
  private handle(e: RolloutEvent): string | undefined {
    const k = this.s.kind;
    const is = (...kinds: Kind[]): boolean => kinds.includes(k);
    switch (e.kind) {
      case 'start': {
        if (!is('pending')) return `cannot start: the rollout is ${k}`;
        this.s = { ...this.s, startedBy: e.actor, startedAt: this.at };
        const first = nextPosition(this.plan, undefined);
        if (!first) return 'cannot start: the plan has no stages';
        // Runs in flight now were pinned to the baseline, so start does not wait for a boundary.
        return this.advance(first, false, e.actor, 'start', e.reason ?? `started by ${e.actor}`, [], true);
      }
      case 'run_started': {
        if (this.s.inFlight.some((r) => r.runId === e.runId)) return undefined;
        const run = { runId: e.runId, environment: e.environment, partition: e.partition, startedAt: this.at, ...(e.stage ? { stage: e.stage } : {}) };
        this.s = { ...this.s, inFlight: [...this.s.inFlight, run] };
        return undefined;
      }
      case 'run_finished': {
        const run = this.s.inFlight.find((r) => r.runId === e.runId);
        if (!run) return undefined; // already closed by batch_completed
        this.s = { ...this.s, inFlight: this.s.inFlight.filter((r) => r.runId !== e.runId) };
        if (!e.success) this.recordBatch(e.runId, run.environment, run.partition, run.stage, false, {}, run.startedAt);
        this.afterRunEnded(e.runId, 'run_finished');
        return undefined;
      }
      case 'batch_completed': {
        const run = this.s.inFlight.find((r) => r.runId === e.runId);
        this.s = { ...this.s, inFlight: this.s.inFlight.filter((r) => r.runId !== e.runId) };
        this.recordPublications(e.runId, e.environment, e.publications);
        this.recordBatch(e.runId, e.environment, e.partition, e.stage ?? run?.stage, e.success, e.evidence, run?.startedAt);
        this.afterRunEnded(e.runId, 'batch_completed');
        return undefined;
      }
      case 'tick':
        if (is('progressing', 'awaiting_approval')) this.evaluate('tick');
        return undefined;
      case 'approve': {
        if (!is('progressing', 'awaiting_approval', 'paused')) return `cannot approve: the rollout is ${k}`;
        const refusal = approvalRefusal(e.actor, this.s.startedBy, this.s.approvals);
        if (refusal) return refusal;
        this.s = { ...this.s, approvals: [...this.s.approvals, { actor: e.actor, at: this.at, ...(e.reason ? { reason: e.reason } : {}) }] };
        this.actions.push(this.auditAction(e.actor, 'approval', `${e.actor} approved${e.reason ? `: ${e.reason}` : ''}`, { approvals: this.s.approvals }));
        if (is('awaiting_approval')) this.evaluate('approve');
        return undefined;
      }
      case 'pause': {
        const s = this.s;
        if (s.kind !== 'progressing' && s.kind !== 'awaiting_approval') return `cannot pause: the rollout is ${k}`;
        const move: PendingMove | undefined = s.kind === 'awaiting_approval' ? { target: s.target, override: s.override } : undefined;
        this.move({ ...common(s), kind: 'paused', reason: `paused by ${e.actor}: ${e.reason}`, resumeTo: s.kind, ...(move ? { move } : {}) }, e.actor, 'pause', e.reason, []);
        this.notify('info', `${this.plan.name} paused by ${e.actor}: ${e.reason}`);
        return undefined;
      }
      case 'resume': {
        const s = this.s;
        if (s.kind !== 'paused') return `cannot resume: the rollout is ${k}`;
        const base = { ...common(s), windowStart: this.at };
        const next: RolloutState = s.resumeTo === 'awaiting_approval' && s.move ? { ...base, kind: 'awaiting_approval', ...s.move } : { ...base, kind: 'progressing' };
        this.move(next, e.actor, 'resume', `${e.reason} (gates judge batches from now on)`, []);
        return undefined;
      }
      case 'abort': {
        if (!is('pending', 'progressing', 'awaiting_approval', 'paused')) return `cannot abort: the rollout is ${k}`;
        this.allFlagsTo({ mode: 'baseline' }, e.actor, Object.keys(this.s.exposures), { occasion: 'aborted' });
        this.move({ ...common(this.s), kind: 'aborted', reason: `aborted by ${e.actor}: ${e.reason}` }, e.actor, 'abort', `${e.reason} (flags back at baseline; published data unchanged, rollback reverts it)`, []);
        this.notify('warn', `${this.plan.name} aborted by ${e.actor}: ${e.reason}`);
        return undefined;
      }
      case 'rollback': {
        if (k === 'rolling_back') return 'cannot roll back: a rollback is already under way';
        if (!is('progressing', 'awaiting_approval', 'paused', 'aborted')) return `cannot roll back: the rollout is ${k}`;
        this.beginRollback(e.actor, 'rollback', `rollback by ${e.actor}: ${e.reason}`, []);
        return undefined;
      }
      case 'promote': {
        const s = this.s;
        if (s.kind !== 'progressing' && s.kind !== 'awaiting_approval' && s.kind !== 'paused') return `cannot promote: the rollout is ${k}`;
        const target = e.toStage ? resolveStageRef(this.plan, e.toStage, s.position) : s.kind === 'awaiting_approval' ? s.target : (nextPosition(this.plan, s.position) ?? 'promoted');
        if (!target) return `cannot promote: no stage "${e.toStage}" in the plan`;
        if (comparePositions(target, s.position) <= 0) return `cannot promote to ${targetName(target)}: it is not after ${positionKey(s.position)}; use rollback to go back`;
        return this.advance(target, true, e.actor, 'promote', `promoted by ${e.actor}: ${e.reason}`, [], true);
      }
    }
  }

  // ---- stage movement ------------------------------------------------------------------------

  /**
   * Moves to `target` if approvals, the batch boundary and staggering allow. A shortfall of
   * approvals moves to awaiting_approval; the other blocks wait, or when `manual` are returned as
   * a refusal reason.
   */
  private advance(target: StagePosition | 'promoted', override: boolean, actor: string, event: RolloutEvent['kind'], reason: string, evidence: readonly GateVerdict[], manual: boolean): string | undefined {
    const s = this.s;
    const need = approvalsNeeded(this.plan, s.position, target);
    let proof = evidence;
    if (need.required > 0) {
      const spec = { id: `approval:${need.stage ?? targetName(target)}`, kind: 'approval' as const, onFail: 'fail' as const, required: need.required };
      const v = toVerdict(spec, evaluateApprovalGate(spec, s), this.now);
      this.verdicts.push(v);
      proof = [...evidence, v];
      if (v.verdict !== 'pass') {
        const sameTarget = s.kind === 'awaiting_approval' && targetName(s.target) === targetName(target);
        if (!sameTarget) {
          this.move({ ...common(s), kind: 'awaiting_approval', target, override }, actor, event, `${reason}; ${need.stage} needs ${need.required} approval(s) from someone other than ${s.startedBy}`, proof);
          this.notify('info', `${this.plan.name}: ${need.stage} needs ${need.required} approval(s) from someone other than ${s.startedBy}`);
        } else this.waiting.push(v.reason);
        return undefined;
      }
    }
    const blocked = this.blockedReason(target);
    if (blocked) {
      if (manual) return `cannot ${event} now: ${blocked}`;
      this.waiting.push(blocked);
      return undefined;
    }
    if (target === 'promoted') this.finish(actor, event, reason, proof);
    else this.enterStage(target, actor, event, reason, proof);
    return undefined;
  }

  private blockedReason(target: StagePosition | 'promoted'): string | undefined {
    if (this.s.kind !== 'pending' && this.s.inFlight.length > 0) return `waiting for the batch boundary: run(s) ${this.s.inFlight.map((r) => r.runId).join(', ')} in flight`;
    const envs = target === 'promoted' ? [] : [target.environment];
    for (const env of envs) {
      const d = checkStagger(this.ctx.observed?.recentTransitions ?? [], env, this.now, this.ctx.config?.stagger);
      if (!d.allowed) return d.reason;
    }
    return undefined;
  }

  private enterStage(target: StagePosition, actor: string, event: RolloutEvent['kind'], reason: string, evidence: readonly GateVerdict[]): void {
    const stage = stageAt(this.plan, target);
    if (!stage) return;
    const stages = this.plan.environments[target.env]?.stages.length ?? 0;
    this.flagTo(target.environment, exposureOf(stage), actor, { stage: { id: stage.id, number: target.stage + 1, of: stages } });
    const next: RolloutState = {
      ...common(this.s),
      kind: 'progressing',
      position: target,
      stageEnteredAt: this.at,
      windowStart: this.at,
      batches: [],
      approvals: [],
      reached: [...this.s.reached, `${target.environment}/${target.stageId}`],
    };
    this.move(next, actor, event, reason, evidence);
    this.notify('info', `${this.plan.name} entered ${target.environment}/${target.stageId} (${stage.mode}${stage.target?.kind === 'rows' ? ` ${stage.target.percent}%` : ''})`);
  }

  private finish(actor: string, event: RolloutEvent['kind'], reason: string, evidence: readonly GateVerdict[]): void {
    const covered = this.plan.environments.map((e) => e.name);
    this.allFlagsTo({ mode: 'full' }, actor, covered, { occasion: 'promoted' });
    const others = (this.ctx.environments ?? []).filter((e) => !covered.includes(e));
    const where = `${this.plan.candidate} is now the baseline in ${covered.join(', ')}${others.length ? `; ${others.join(', ')} (not in the plan) still run ${this.plan.baseline}` : ''}`;
    this.move({ ...common(this.s), kind: 'promoted' }, actor, event, `${reason}; ${where}`, evidence);
    this.notify('info', `${this.plan.name} promoted: ${where}`);
  }

  // ---- gates ---------------------------------------------------------------------------------

  private gateContext(): GateContext {
    const s = this.s;
    const windowStart = s.windowStart ?? s.stageEnteredAt ?? this.at;
    return {
      now: this.now,
      batches: s.batches.filter((b) => b.at >= windowStart),
      windowStart,
      ...(s.startedBy ? { startedBy: s.startedBy } : {}),
      approvals: s.approvals,
      runInFlight: s.inFlight.length > 0,
      ...(this.ctx.observed ? { observed: this.ctx.observed } : {}),
    };
  }

  /** Judges the current stage's gates and acts on the combined verdict. */
  private evaluate(event: RolloutEvent['kind']): void {
    const s = this.s;
    if (s.kind !== 'progressing' && s.kind !== 'awaiting_approval') return;
    const override = s.kind === 'awaiting_approval' && s.override;
    const stage = s.position ? stageAt(this.plan, s.position) : undefined;
    const gctx = this.gateContext();
    const verdicts = override || !stage ? [] : stage.gates.map((g) => ({ ...evaluateGate(g, gctx), environment: s.position?.environment, stage: s.position?.stageId, judged: gatePhase(g) }));
    this.verdicts.push(...verdicts);
    const worst = worstVerdict(verdicts);
    const bad = (v: string): string => verdicts.filter((x) => x.verdict === v).map((x) => `gate ${x.gate}: ${x.reason}`).join('; ');
    if (worst === 'rollback') {
      this.beginRollback(SYSTEM_ACTOR, event, `automatic rollback: ${bad('rollback')}`, verdicts);
    } else if (worst === 'fail') {
      const move: PendingMove | undefined = s.kind === 'awaiting_approval' ? { target: s.target, override: s.override } : undefined;
      this.move({ ...common(s), kind: 'paused', reason: `gate failed: ${bad('fail')}`, resumeTo: s.kind, ...(move ? { move } : {}) }, SYSTEM_ACTOR, event, `gate failed: ${bad('fail')}`, verdicts);
      this.notify('error', `${this.plan.name} paused at ${positionKey(s.position)}: ${bad('fail')}`);
    } else if (worst === 'wait') {
      this.waiting.push(...verdicts.filter((v) => v.verdict === 'wait').map((v) => `gate ${v.gate}: ${v.reason}`));
    } else {
      const target = s.kind === 'awaiting_approval' ? s.target : (nextPosition(this.plan, s.position) ?? 'promoted');
      const why = override ? `promotion to ${targetName(target)} approved` : verdicts.length ? `all ${verdicts.length} gate(s) of ${positionKey(s.position)} passed` : `${positionKey(s.position) ?? 'start'} has no gates`;
      this.advance(target, override, SYSTEM_ACTOR, event, why, verdicts, false);
    }
  }

  // ---- runs, batches and publications --------------------------------------------------------

  private recordPublications(runId: string, environment: string, pubs: readonly { dataset: string; partition: string; outputVersion: string; baselineOutputVersion: string; candidateRows: boolean }[]): void {
    if (pubs.length === 0) return;
    const key = (p: { dataset: string; partition: string }, env: string): string => JSON.stringify([env, p.dataset, p.partition]);
    const before = new Map(this.s.published.map((p) => [key(p, p.environment), p]));
    const incoming = new Map(
      pubs.map((p) => {
        const k = key(p, environment);
        const seen = before.get(k)?.candidates ?? [];
        const candidates = p.candidateRows && !seen.some((c) => c.outputVersion === p.outputVersion) ? [...seen, { outputVersion: p.outputVersion, baselineOutputVersion: p.baselineOutputVersion, runId }] : seen;
        return [k, { ...p, environment, runId, at: this.at, ...(candidates.length ? { candidates } : {}) } satisfies PublishedPartition];
      }),
    );
    const kept = this.s.published.filter((p) => !incoming.has(key(p, p.environment)));
    this.s = { ...this.s, published: [...kept, ...incoming.values()] };
    // A candidate publication after the rollback finished (a run nobody reported as started): revert it now.
    if (this.s.kind === 'rolled_back') {
      const late = [...incoming.values()].filter((p) => p.candidateRows);
      if (late.length > 0) this.revert(late, SYSTEM_ACTOR, `late candidate publication from run ${runId} after rollback`);
    }
  }

  private recordBatch(runId: string, environment: string, partition: string, pinned: string | undefined, success: boolean, evidence: BatchRecord['evidence'], startedAt: string | undefined): void {
    const s = this.s;
    // The stage the run was pinned to: as reported, else inferred from when it started.
    const stage = pinned ?? (startedAt !== undefined && s.stageEnteredAt !== undefined && startedAt < s.stageEnteredAt ? '(previous stage)' : (s.position?.stageId ?? '(none)'));
    const record: BatchRecord = { runId, environment, stage, partition, at: this.at, success, evidence };
    this.batch = record;
    const counts = s.position !== undefined && environment === s.position.environment && stage === s.position.stageId && s.kind !== 'rolled_back' && s.kind !== 'promoted';
    if (counts) {
      const max = this.ctx.config?.maxBatchesKept ?? 500;
      const batches = [...s.batches, record];
      this.s = { ...s, batches: batches.slice(Math.max(0, batches.length - max)) };
    }
    this.actions.push(this.auditAction(SYSTEM_ACTOR, 'batch', `batch ${runId} (${environment} ${partition}) ${success ? 'completed' : 'failed'}${counts ? '' : ' (not evidence for the current stage)'}`, { batch: record }));
  }

  private afterRunEnded(runId: string, event: RolloutEvent['kind']): void {
    const s = this.s;
    if (s.kind === 'rolling_back') {
      const waitingFor = s.waitingFor.filter((id) => id !== runId);
      if (waitingFor.length === 0) this.completeRollback(s.requestedBy, event, s.reason, []);
      else this.s = { ...s, waitingFor };
      return;
    }
    this.evaluate(event);
    // Attach this batch's verdicts to its audit entry, so every batch records its gates.
    if (this.batch && this.verdicts.length > 0) {
      const idx = this.actions.findIndex((a) => a.kind === 'audit' && a.entry.type === 'batch');
      const a = this.actions[idx];
      if (a?.kind === 'audit') this.actions[idx] = { kind: 'audit', entry: { ...a.entry, details: { ...a.entry.details, verdicts: this.verdicts } } };
    }
  }

  // ---- rollback ------------------------------------------------------------------------------

  private beginRollback(actor: string, event: RolloutEvent['kind'], reason: string, evidence: readonly GateVerdict[]): void {
    this.allFlagsTo({ mode: 'baseline' }, actor, Object.keys(this.s.exposures), { occasion: 'rolled_back' });
    const waitingFor = this.s.inFlight.map((r) => r.runId);
    if (waitingFor.length === 0) {
      this.completeRollback(actor, event, reason, evidence);
      return;
    }
    this.move({ ...common(this.s), kind: 'rolling_back', reason, requestedBy: actor, waitingFor }, actor, event, `${reason}; flags back at baseline, waiting for run(s) ${waitingFor.join(', ')} to finish before republishing`, evidence);
    this.notify('warn', `${this.plan.name} rolling back (waiting for ${waitingFor.length} run(s) in flight): ${reason}`);
  }

  private completeRollback(actor: string, event: RolloutEvent['kind'], reason: string, evidence: readonly GateVerdict[]): void {
    // Partitions showing candidate rows, and those where an earlier candidate output of this rollout
    // could be showing again (a manual republish): the effect restores whichever one is.
    const touched = this.s.published.filter((p) => p.candidateRows || (p.candidates?.length ?? 0) > 0);
    const plan = this.revert(touched, actor, reason);
    const showing = touched.filter((p) => p.candidateRows).length;
    const summary = showing === 0 ? 'nothing to republish: no partition shows candidate rows' : `republished ${showing} partition(s) from baseline output${plan.rerun.length ? `, re-running ${plan.rerun.length} downstream dataset(s)` : ''}`;
    this.move({ ...common(this.s), kind: 'rolled_back', reason, rollback: plan }, actor, event, `${reason}; ${summary}`, evidence);
    this.notify('warn', `${this.plan.name} rolled back: ${reason}; ${summary}`);
  }

  private revert(partitions: readonly PublishedPartition[], actor: string, reason: string): ReturnType<typeof planRollback> {
    const touched: TouchedPartition[] = partitions.map((p) => ({ environment: p.environment, dataset: p.dataset, partition: p.partition, runId: p.runId, publishedOutputVersion: p.outputVersion, baselineOutputVersion: p.baselineOutputVersion, ...(p.candidates ? { candidates: p.candidates } : {}) }));
    const plan = planRollback({ touched, graph: this.ctx.graph ?? {} });
    if (plan.republish.length > 0) {
      this.actions.push({ kind: 'republish', rollout: this.plan.name, items: plan.republish });
      this.actions.push(this.auditAction(actor, 'republish', `${reason}: republish ${plan.republish.length} partition(s) from baseline`, { items: plan.republish }));
      const restored = new Set(plan.republish.map((r) => JSON.stringify([r.environment, r.dataset, r.partition])));
      this.s = {
        ...this.s,
        published: this.s.published.map((p) => (restored.has(JSON.stringify([p.environment, p.dataset, p.partition])) ? { ...p, outputVersion: p.baselineOutputVersion, candidateRows: false, at: this.at } : p)),
      };
    }
    if (plan.rerun.length > 0) {
      this.actions.push({ kind: 'rerun_downstream', rollout: this.plan.name, items: plan.rerun });
      this.actions.push(this.auditAction(actor, 'rerun', `${reason}: re-run ${plan.rerun.length} downstream dataset(s)`, { items: plan.rerun }));
    }
    return plan;
  }

  // ---- effects -------------------------------------------------------------------------------

  /** `why` says which stage was entered, or what else moved the flag: flag history reads it as a sentence. */
  private flagTo(environment: string, exposure: Exposure, actor: string, why: { stage?: FlagExposureStage; occasion?: FlagExposureOccasion } = {}): void {
    if (sameExposure(this.s.exposures[environment], exposure)) return;
    const p = this.plan;
    const action: Extract<RolloutAction, { kind: 'set_flag_exposure' }> = { kind: 'set_flag_exposure', rollout: p.name, rolloutId: this.s.id, environment, steps: p.steps, baseline: p.baseline, candidate: p.candidate, exposure, ...why };
    this.actions.push(action);
    this.actions.push(this.auditAction(actor, 'flag', `${environment}: ${p.steps.map((s) => `${s.pipeline}.${s.step}`).join(', ')}: ${describeFlagChange(action)}`, { environment, exposure }));
    this.s = { ...this.s, exposures: { ...this.s.exposures, [environment]: exposure } };
  }

  private allFlagsTo(exposure: Exposure, actor: string, environments: readonly string[], why: { occasion: FlagExposureOccasion }): void {
    for (const env of environments) this.flagTo(env, exposure, actor, why);
  }

  private move(next: RolloutState, actor: string, event: RolloutEvent['kind'], reason: string, evidence: readonly GateVerdict[]): void {
    const t: Transition = { rollout: this.plan.name, at: this.at, actor, event, from: point(this.s), to: point(next), reason, evidence };
    this.transitions.push(t);
    this.actions.push(this.auditAction(actor, 'transition', `${t.from.state}${t.from.stage ? ` ${t.from.environment}/${t.from.stage}` : ''} -> ${t.to.state}${t.to.stage ? ` ${t.to.environment}/${t.to.stage}` : ''}: ${reason}`, { transition: t }));
    this.s = { ...next, updatedAt: this.at };
  }

  private notify(level: 'info' | 'warn' | 'error', message: string): void {
    this.actions.push({ kind: 'notify', rollout: this.plan.name, level, message });
  }

  private auditAction(actor: string, type: AuditEntry['type'], message: string, details: Readonly<Record<string, unknown>>): RolloutAction {
    return { kind: 'audit', entry: { rollout: this.plan.name, at: this.at, actor, type, message, details } };
  }
}
