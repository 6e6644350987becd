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
import { ACTIVE_STATES, initialRolloutState, type RolloutState } from '../../rollout/rollout-state.ts';
import type { MetadataStore, StoredRollout } from '../../store/metadata-store.ts';
import type { Clock } from '../../util/clock.ts';
import { SluiceError } from '../../util/errors.ts';
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
  readonly rollout: string;
  readonly state: RolloutState;
  readonly result: ReduceResult;
}

/** The actions that change the world and are kept as pending until carried out. */
const EFFECTS: readonly RolloutAction['kind'][] = ['set_flag_exposure', 'republish', 'rerun_downstream'];

/**
 * Dispatches events to the pure reducer and persists what it decides: loads plan and state,
 * reduces, then stores the new state with its transitions, verdicts, batch and audit entries in one
 * transaction, with the effects marked pending; then the effects runner carries them out and
 * clears them. A crash between the two leaves them pending, and the next event finishes them first.
 */
export class RolloutService {
  constructor(private readonly deps: RolloutServiceDeps) {}

  /** Plans in rollouts/, parsed against the project's steps (CONFIG_INVALID naming every bad file). */
  plans(): RolloutPlan[] {
    return loadRolloutPlans(this.deps.project);
  }

  /** The plan a rollout started with, else the one in rollouts/. */
  async plan(name: string): Promise<RolloutPlan> {
    const stored = await this.deps.store.rollouts.get(name);
    if (stored) return stored.plan;
    const found = findRolloutPlan(this.deps.project, name);
    if (!found) throw new SluiceError('NOT_FOUND', `no rollout plan "${name}" in rollouts/ (plans: ${this.plans().map((p) => p.name).join(', ') || 'none'})`, { field: 'rollout' });
    return found;
  }

  async state(name: string): Promise<RolloutState> {
    return (await this.deps.store.rollouts.get(name))?.state ?? initialRolloutState(name);
  }

  /** Every rollout the store knows. */
  list(): Promise<StoredRollout[]> {
    return this.deps.store.rollouts.list();
  }

  log(name: string): Promise<RolloutLogEntry[]> {
    return this.deps.store.rollouts.log(name);
  }

  async start(name: string, actor: string, reason?: string): Promise<DispatchOutcome> {
    const existing = await this.deps.store.rollouts.get(name);
    if (existing && existing.state.kind !== 'pending') {
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
    return this.dispatchWithPlan(plan, { kind: 'start', actor, ...(reason ? { reason } : {}) });
  }

  async dispatch(name: string, event: RolloutEvent): Promise<DispatchOutcome> {
    return this.dispatchWithPlan(await this.plan(name), event);
  }

  async dispatchWithPlan(plan: RolloutPlan, event: RolloutEvent): Promise<DispatchOutcome> {
    const { store, clock } = this.deps;
    const name = plan.name;
    const before = await store.rollouts.get(name);
    if (before && before.pending.length > 0) await this.carryOut(plan, before.pending);
    const state = (await store.rollouts.get(name))?.state ?? initialRolloutState(name);
    const now = clock.now();
    const result = reduce(state, event, { clock, plan, config: this.deps.config, observed: await this.observations(), graph: buildDatasetGraph(this.deps.project) });
    if (result.refused) {
      await this.audit(result.actions);
      throw new SluiceError(event.kind === 'approve' ? 'FORBIDDEN' : 'CONFLICT', `rollout ${name}: ${result.refused}`, { field: event.kind });
    }
    const pending = result.actions.filter((a) => EFFECTS.includes(a.kind));
    await store.transaction(async (tx) => {
      await tx.rollouts.save({ name, plan, state: result.state, pending }, now);
      for (const t of result.transitions) await tx.rollouts.appendLog(name, { type: 'transition', transition: t }, now);
      if (result.verdicts.length > 0) await tx.rollouts.appendLog(name, { type: 'verdicts', verdicts: result.verdicts }, now);
      if (result.batch) await tx.rollouts.appendLog(name, { type: 'batch', batch: result.batch }, now);
      await this.audit(result.actions);
    });
    for (const a of result.actions) if (a.kind === 'notify') this.deps.log?.(`[${a.level}] ${a.rollout}: ${a.message}`);
    if (pending.length > 0) await this.carryOut(plan, pending);
    if (result.state.kind === 'promoted' && state.kind !== 'promoted') await this.deps.effects.retireBaseline(plan);
    return { rollout: name, state: result.state, result };
  }

  /** Carries out pending effects, then clears them from the stored rollout. */
  private async carryOut(plan: RolloutPlan, actions: readonly RolloutAction[]): Promise<void> {
    await this.deps.effects.carryOut(plan, actions);
    const stored = await this.deps.store.rollouts.get(plan.name);
    if (stored) await this.deps.store.rollouts.save({ name: plan.name, plan: stored.plan, state: stored.state, pending: [] }, this.deps.clock.now());
  }

  private async audit(actions: readonly RolloutAction[]): Promise<void> {
    for (const a of actions) {
      if (a.kind !== 'audit') continue;
      await this.deps.audit.append({ actor: a.entry.actor, action: `rollout.${a.entry.type}`, target: `rollout/${a.entry.rollout}`, reason: a.entry.message, details: a.entry.details }, this.deps.clock.now());
    }
  }

  /** Other rollouts, dataset freshness and recent stage transitions, for dependency gates and staggering. */
  async observations(): Promise<Observations> {
    const rollouts: Record<string, { state: string; reached: readonly string[] }> = {};
    const recentTransitions: { rollout: string; environment: string; at: string }[] = [];
    for (const r of await this.list()) {
      rollouts[r.name] = { state: r.state.kind, reached: r.state.reached };
      for (const e of await this.log(r.name)) {
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

  /** Rollouts that move a step of this pipeline and cross this environment (active, or ended and still reverting). */
  async concerning(pipeline: string, environment: string): Promise<RolloutPlan[]> {
    return (await this.list())
      .filter((r) => ACTIVE_STATES.includes(r.state.kind) || r.state.kind === 'aborted' || r.state.kind === 'rolled_back')
      .map((r) => r.plan)
      .filter((p) => p.steps.some((s) => s.pipeline === pipeline) && p.environments.some((e) => e.name === environment));
  }

  /** The timer: lets every active rollout re-judge time-based gates (soak, windows). */
  async tick(): Promise<DispatchOutcome[]> {
    const out: DispatchOutcome[] = [];
    for (const r of await this.list()) if (ACTIVE_STATES.includes(r.state.kind)) out.push(await this.dispatchWithPlan(r.plan, { kind: 'tick' }));
    return out;
  }
}
