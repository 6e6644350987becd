import { findRolloutPlan, loadRolloutPlans } from '../../config/load-rollout-plans.ts';
import type { Project } from '../../config/project-model.ts';
import { flagSet } from '../../flags/flag.ts';
import type { AuditTrail } from '../../governance/audit-trail.ts';
import { checkConflicts } from '../../rollout/check-conflicts.ts';
import type { Observations } from '../../rollout/gate-evidence.ts';
import { reduce, type ControllerConfig, type ReduceResult } from '../../rollout/reduce.ts';
import type { RolloutAction } from '../../rollout/rollout-action.ts';
import type { RolloutEvent } from '../../rollout/rollout-event.ts';
import type { RolloutLogEntry } from '../../rollout/rollout-log.ts';
import type { RolloutPlan, StepRef } from '../../rollout/rollout-plan.ts';
import { ACTIVE_STATES, ENDED_STATES, initialRolloutState, rolloutId, type RolloutState } from '../../rollout/rollout-state.ts';
import type { MetadataStore, StoredRollout } from '../../store/metadata-store.ts';
import type { Clock } from '../../util/clock.ts';
import { SluiceError } from '../../util/errors.ts';
import { crashPoint } from '../../util/crash-point.ts';
import { keepLease, LEASE_MS, ownerGone, processOwner } from '../../util/lease.ts';
import { buildDatasetGraph } from '../dataset-graph.ts';
import { stepFlag } from '../step-exposure.ts';
import type { RolloutEffects } from './rollout-effects.ts';

export interface RolloutServiceDeps {
  readonly project: Project;
  readonly store: MetadataStore;
  readonly audit: Pick<AuditTrail, 'append'>;
  readonly clock: Clock;
  readonly effects: RolloutEffects;
  readonly config?: ControllerConfig;
  readonly log?: (line: string) => void;
}

export interface DispatchOutcome {
  /** The plan's name. */
  readonly rollout: string;
  /** The attempt's id. */
  readonly id: string;
  readonly state: RolloutState;
  readonly result: ReduceResult;
  /** What the service did besides the reducer's decision (finishing work a stopped process left). */
  readonly notes?: readonly string[];
}

/** The actions that change the world and are kept as pending until carried out. */
const EFFECTS: readonly RolloutAction['kind'][] = ['set_flag_exposure', 'republish', 'rerun_downstream'];

/**
 * Dispatches events to the pure reducer and persists what it decides: loads plan and state,
 * reduces, then stores the new state with its transitions, verdicts, batch and audit entries in one
 * transaction, with the effects marked pending; then the effects runner carries them out and
 * clears them. A crash between the two leaves them pending, and the next event finishes them first.
 *
 * A plan may run several times (a retry after a rollback, say): each start is a new attempt with
 * its own id. Commands by name act on the latest attempt; runs report to the attempt whose exposure
 * they pinned, so an ended attempt never sees the batches of a later one.
 */
export class RolloutService {
  constructor(private readonly deps: RolloutServiceDeps) {}

  /** Plans in rollouts/, parsed against the project's steps (CONFIG_INVALID naming every bad file). */
  plans(): RolloutPlan[] {
    return loadRolloutPlans(this.deps.project);
  }

  /** The plan the latest attempt started with, else the one in rollouts/. */
  async plan(name: string): Promise<RolloutPlan> {
    const stored = await this.deps.store.rollouts.latest(name);
    if (stored) return stored.plan;
    const found = findRolloutPlan(this.deps.project, name);
    if (!found) throw new SluiceError('NOT_FOUND', `no rollout plan "${name}" in rollouts/ (plans: ${this.plans().map((p) => p.name).join(', ') || 'none'})`, { field: 'rollout' });
    return found;
  }

  /** The state of the latest attempt of a plan (pending when it never started). */
  async state(name: string): Promise<RolloutState> {
    return (await this.deps.store.rollouts.latest(name))?.state ?? initialRolloutState(name);
  }

  /** One attempt, by id. */
  attempt(id: string): Promise<StoredRollout | undefined> {
    return this.deps.store.rollouts.get(id);
  }

  /** The latest attempt of every plan that was started, in name order. */
  async list(): Promise<StoredRollout[]> {
    const latest = new Map<string, StoredRollout>();
    for (const r of await this.deps.store.rollouts.list()) latest.set(r.name, r);
    return [...latest.values()];
  }

  /**
   * The active attempts (progressing, awaiting approval, paused, rolling back) whose plan moves a
   * step this flag picks the version of, in an environment of the plan: the rollouts a change of
   * the flag's bucketing in `environment` would move keys under.
   */
  async activeOnFlag(environment: string, flag: string): Promise<StoredRollout[]> {
    const flags = flagSet(this.deps.project.flags);
    return (await this.list()).filter(
      (r) => ACTIVE_STATES.includes(r.state.kind) && r.plan.environments.some((e) => e.name === environment) && r.plan.steps.some((s) => stepFlag(flags, s.pipeline, s.step)?.name === flag),
    );
  }

  /** Every attempt of every plan. */
  attempts(): Promise<StoredRollout[]> {
    return this.deps.store.rollouts.list();
  }

  /** The log of the latest attempt of a plan. */
  async log(name: string): Promise<RolloutLogEntry[]> {
    const latest = await this.deps.store.rollouts.latest(name);
    return latest ? this.deps.store.rollouts.log(latest.id) : [];
  }

  async start(name: string, actor: string, reason?: string): Promise<DispatchOutcome> {
    const existing = await this.deps.store.rollouts.latest(name);
    if (existing && !ENDED_STATES.includes(existing.state.kind) && existing.state.kind !== 'pending') {
      throw new SluiceError('CONFLICT', `rollout ${name} was already started (it is ${existing.state.kind})`, { field: 'rollout' });
    }
    const plan = findRolloutPlan(this.deps.project, name);
    if (!plan) throw new SluiceError('NOT_FOUND', `no rollout plan "${name}" in rollouts/`, { field: 'rollout' });
    for (const s of plan.steps) {
      if (!stepFlag(flagSet(this.deps.project.flags), s.pipeline, s.step)) {
        throw new SluiceError('CONFIG_INVALID', `step ${s.pipeline}.${s.step} has no version flag; declare a variant flag scoped to it in flags/`, { step: s.step });
      }
    }
    const active = (await this.list()).filter((r) => r.name !== name && ACTIVE_STATES.includes(r.state.kind)).map((r) => ({ name: r.name, state: r.state.kind, plan: r.plan }));
    const datasetsOf = (s: StepRef): string[] => [...(this.deps.project.pipelines.get(s.pipeline)?.datasets.values() ?? [])].filter((d) => d.step === s.step).map((d) => d.name);
    const conflicts = checkConflicts(active, plan, datasetsOf);
    if (conflicts.length > 0) {
      throw new SluiceError('CONFLICT', `rollout ${name} conflicts with running rollouts: ${conflicts.map((c) => JSON.stringify(c)).join('; ')}`);
    }
    // A plan that ended is started again as a new attempt, with a state of its own.
    const attempt = existing && ENDED_STATES.includes(existing.state.kind) ? existing.attempt + 1 : (existing?.attempt ?? 1);
    const fresh = { id: rolloutId(name, attempt), name, attempt, plan, state: initialRolloutState(name, rolloutId(name, attempt)), pending: [] };
    return this.dispatchTo(fresh, { kind: 'start', actor, ...(reason ? { reason } : {}) });
  }

  /** An event for the latest attempt of a plan (commands by name: approve, pause, rollback, …). */
  async dispatch(name: string, event: RolloutEvent): Promise<DispatchOutcome> {
    const latest = await this.deps.store.rollouts.latest(name);
    // A rollback asked of a rollout that is rolled back already is done: one whose rollback is
    // unfinished (its process stopped) is finished now; either way the answer is success.
    if (latest && event.kind === 'rollback' && latest.state.kind === 'rolled_back') {
      const unfinished = latest.pending.length > 0;
      if (unfinished) await this.finishPending(latest.id);
      const done = (await this.deps.store.rollouts.get(latest.id)) ?? latest;
      const note = unfinished ? `finished the rollback of ${latest.id} that a stopped process left half done` : `${latest.id} is rolled back already; nothing left to do`;
      return { rollout: name, id: latest.id, state: done.state, result: { state: done.state, actions: [], transitions: [], verdicts: [] }, notes: [note] };
    }
    if (latest) return this.dispatchTo(latest, event);
    const plan = await this.plan(name);
    return this.dispatchTo({ id: rolloutId(name, 1), name, attempt: 1, plan, state: initialRolloutState(name), pending: [] }, event);
  }

  /** An event for one attempt, by id (runs report to the attempt whose exposure they pinned). */
  async dispatchToId(id: string, event: RolloutEvent): Promise<DispatchOutcome | undefined> {
    const stored = await this.deps.store.rollouts.get(id);
    return stored ? this.dispatchTo(stored, event) : undefined;
  }

  private async dispatchTo(attempt: Omit<StoredRollout, 'updatedAt'>, event: RolloutEvent): Promise<DispatchOutcome> {
    const { store, clock } = this.deps;
    const { id, name, plan } = attempt;
    if (attempt.pending.length > 0) await this.carryOut(attempt, attempt.pending);
    const state = (await store.rollouts.get(id))?.state ?? attempt.state;
    const now = clock.now();
    const result = reduce(state, event, { clock, plan, config: this.deps.config, observed: await this.observations(), graph: buildDatasetGraph(this.deps.project), environments: this.deps.project.environments });
    if (result.refused) {
      await this.audit(result.actions);
      throw new SluiceError(event.kind === 'approve' ? 'FORBIDDEN' : 'CONFLICT', `rollout ${name}: ${result.refused}`, { field: event.kind });
    }
    const pending = result.actions.filter((a) => EFFECTS.includes(a.kind));
    // The decision and its effects are saved together, leased to this process: a crash after this
    // leaves them pending, and recovery (or the next event) carries them out.
    const saved = { id, name, attempt: attempt.attempt, plan, state: result.state, pending, ...(pending.length > 0 ? { pendingLease: { owner: processOwner(), until: new Date(now.getTime() + LEASE_MS).toISOString() } } : {}) };
    await store.transaction(async (tx) => {
      await tx.rollouts.save(saved, now);
      for (const t of result.transitions) await tx.rollouts.appendLog(id, { type: 'transition', transition: t }, now);
      if (result.verdicts.length > 0) await tx.rollouts.appendLog(id, { type: 'verdicts', verdicts: result.verdicts }, now);
      if (result.batch) await tx.rollouts.appendLog(id, { type: 'batch', batch: result.batch }, now);
      await this.audit(result.actions);
    });
    for (const a of result.actions) if (a.kind === 'notify') this.deps.log?.(`[${a.level}] ${a.rollout}: ${a.message}`);
    crashPoint('rollout.decided');
    if (pending.length > 0) await this.carryOut(saved, pending);
    if (result.state.kind === 'promoted' && state.kind !== 'promoted') await this.deps.effects.retireBaseline(plan, id);
    return { rollout: name, id, state: result.state, result };
  }

  /** Retires the baseline flags a promoted attempt left showing its exposure (a crash right after the promotion); returns how many. */
  retireIfPromoted(a: StoredRollout): Promise<number> {
    return a.state.kind === 'promoted' ? this.deps.effects.retireBaseline(a.plan, a.id) : Promise.resolve(0);
  }

  /** Carries out the pending actions an attempt was left with (recovery), if there are any. */
  async finishPending(id: string): Promise<void> {
    const stored = await this.deps.store.rollouts.get(id);
    if (stored && stored.pending.length > 0) await this.carryOut(stored, stored.pending);
  }

  /**
   * Carries out pending effects under a lease (renewed while they run, so no other process takes
   * them over meanwhile), then clears them from the stored attempt.
   */
  private async carryOut(attempt: Omit<StoredRollout, 'updatedAt'>, actions: readonly RolloutAction[]): Promise<void> {
    const { store, clock } = this.deps;
    // Effects another live process is carrying out are its own: wait for it instead of doing them twice.
    const held = attempt.pendingLease;
    if (held && held.owner !== processOwner() && !ownerGone(held.owner, held.until, clock)) {
      throw new SluiceError('CONFLICT', `rollout ${attempt.name}: ${held.owner} is carrying out its ${actions.map((a) => a.kind).join(', ')} (leased until ${held.until}); try again when it has finished`);
    }
    const leased = (until: Date) => store.rollouts.get(attempt.id).then((s) => (s ? store.rollouts.save({ ...s, pendingLease: { owner: processOwner(), until: until.toISOString() } }, clock.now()) : undefined));
    await leased(new Date(clock.now().getTime() + LEASE_MS));
    const lease = keepLease(leased, clock);
    try {
      await this.deps.effects.carryOut(attempt.plan, actions);
    } finally {
      lease.stop();
    }
    const stored = await store.rollouts.get(attempt.id);
    if (stored) {
      const { pendingLease: _done, ...rest } = stored;
      await store.rollouts.save({ ...rest, pending: [] }, clock.now());
    }
  }

  private async audit(actions: readonly RolloutAction[]): Promise<void> {
    for (const a of actions) {
      if (a.kind !== 'audit') continue;
      await this.deps.audit.append({ actor: a.entry.actor, action: `rollout.${a.entry.type}`, target: `rollout/${a.entry.rollout}`, reason: a.entry.message, details: a.entry.details }, this.deps.clock.now());
    }
  }

  /** Other rollouts (their latest attempts), dataset freshness and recent stage transitions, for dependency gates and staggering. */
  async observations(): Promise<Observations> {
    const rollouts: Record<string, { state: string; reached: readonly string[] }> = {};
    const recentTransitions: { rollout: string; environment: string; at: string }[] = [];
    for (const r of await this.attempts()) {
      rollouts[r.name] = { state: r.state.kind, reached: r.state.reached };
      for (const e of await this.deps.store.rollouts.log(r.id)) {
        const t = e.type === 'transition' ? e.transition : undefined;
        if (t?.to.environment && t.to.stage && t.from.stage !== t.to.stage) recentTransitions.push({ rollout: r.name, environment: t.to.environment, at: t.at });
      }
    }
    const datasets: Record<string, { publishedAt: string }> = {};
    for (const env of this.deps.project.environments) {
      for (const f of await this.deps.store.runs.freshness(env)) {
        const prev = datasets[f.dataset];
        if (!prev || prev.publishedAt < f.measuredAt) datasets[f.dataset] = { publishedAt: f.measuredAt };
      }
    }
    return { rollouts, datasets, recentTransitions };
  }

  /** The timer: lets every active rollout re-judge time-based gates (soak, windows). */
  async tick(): Promise<DispatchOutcome[]> {
    const out: DispatchOutcome[] = [];
    for (const r of await this.list()) if (ACTIVE_STATES.includes(r.state.kind)) out.push(await this.dispatchTo(r, { kind: 'tick' }));
    return out;
  }
}
