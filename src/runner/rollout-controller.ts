import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Project } from '../config/project-model.ts';
import type { Warehouse } from '../engine/warehouse.ts';
import type { FlagDefinition, Strategy } from '../flags/flag.ts';
import { flagSet } from '../flags/flag.ts';
import { FlagStates, type FlagState } from '../flags/flag-states.ts';
import { checkConflicts } from '../rollout/check-conflicts.ts';
import type { GateVerdict } from '../rollout/gate-verdict.ts';
import type { BatchRecord, Observations } from '../rollout/gate-evidence.ts';
import { parseRolloutPlan } from '../rollout/parse-rollout-plan.ts';
import { reduce, type ControllerConfig, type ReduceResult } from '../rollout/reduce.ts';
import type { RolloutAction } from '../rollout/rollout-action.ts';
import type { RolloutEvent } from '../rollout/rollout-event.ts';
import type { Exposure, KnownStep, RolloutPlan, StepRef } from '../rollout/rollout-plan.ts';
import { ACTIVE_STATES, initialRolloutState, type RolloutState } from '../rollout/rollout-state.ts';
import type { Transition } from '../rollout/transition.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import type { SluiceMetrics } from '../telemetry/metrics.ts';
import type { Clock } from '../util/clock.ts';
import { SluiceError, configError, messageOf, type Problem } from '../util/errors.ts';
import { gatherEvidence } from './batch-evidence.ts';
import { buildDatasetGraph, dependsOn, pipelineOfDataset } from './dataset-graph.ts';
import { runPipeline, type RunRequest, type RunResult } from './run-pipeline.ts';
import { stepFlag } from './step-exposure.ts';

export interface RolloutControllerDeps {
  readonly project: Project;
  readonly store: MetadataStore;
  readonly clock: Clock;
  /** The warehouse of an environment (the composition root opens and caches them). */
  readonly warehouseFor: (environment: string) => Promise<Warehouse>;
  readonly metrics?: SluiceMetrics;
  readonly config?: ControllerConfig;
  readonly log?: (line: string) => void;
}

/** What is stored per rollout: the plan it started with, its state, and actions not yet carried out. */
interface StoredRollout {
  readonly state: RolloutState;
  readonly pending: readonly RolloutAction[];
}

/** Entries of a rollout's log (rollout_transitions): transitions, verdicts and batches, for reports. */
export type RolloutLogEntry =
  | { readonly type: 'transition'; readonly transition: Transition }
  | { readonly type: 'verdicts'; readonly verdicts: readonly GateVerdict[] }
  | { readonly type: 'batch'; readonly batch: BatchRecord };

export interface DispatchOutcome {
  readonly rollout: string;
  readonly state: RolloutState;
  readonly result: ReduceResult;
}

/**
 * The adapter around the pure reducer: loads plan and state from the store, feeds events, stores
 * the new state with its transitions, verdicts and audit entries in one transaction, then carries
 * out the actions (flags first, then republish, then downstream re-runs). Actions are stored as
 * pending until done, so a crash part-way is finished on the next event.
 */
export class RolloutController {
  private readonly flags: FlagStates;

  constructor(private readonly deps: RolloutControllerDeps) {
    this.flags = new FlagStates({ declared: deps.project.flags, store: deps.store, clock: deps.clock });
  }

  /** Plans in rollouts/*.yaml, parsed against the project's steps. */
  plans(): RolloutPlan[] {
    const dir = join(this.deps.project.root, 'rollouts');
    if (!existsSync(dir)) return [];
    return readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => this.parsePlanFile(join('rollouts', f)));
  }

  plan(name: string): RolloutPlan {
    const stored = this.deps.store.rollout(name);
    if (stored) return stored.plan as RolloutPlan;
    const found = this.findPlan(name);
    if (!found) throw new SluiceError('NOT_FOUND', `no rollout plan "${name}" in rollouts/ (plans: ${this.plans().map((p) => p.name).join(', ') || 'none'})`, { field: 'rollout' });
    return found;
  }

  /** The plan named `name`; another plan file's problems are reported only when no valid file holds it. */
  private findPlan(name: string): RolloutPlan | undefined {
    const dir = join(this.deps.project.root, 'rollouts');
    if (!existsSync(dir)) return undefined;
    const problems: Problem[] = [];
    for (const f of readdirSync(dir).filter((x) => /\.ya?ml$/.test(x)).sort()) {
      const rel = join('rollouts', f);
      const r = parseRolloutPlan(rel, readFileSync(join(this.deps.project.root, rel), 'utf8'), this.knownSteps());
      if (r.ok && r.plan.name === name) return r.plan;
      if (!r.ok) problems.push(...r.problems);
    }
    if (problems.length > 0) throw configError(problems);
    return undefined;
  }

  private parsePlanFile(rel: string): RolloutPlan {
    const r = parseRolloutPlan(rel, readFileSync(join(this.deps.project.root, rel), 'utf8'), this.knownSteps());
    if (!r.ok) throw configError(r.problems);
    return r.plan;
  }

  private knownSteps(): KnownStep[] {
    return [...this.deps.project.pipelines.values()].flatMap((p) =>
      p.steps.map((s) => ({ pipeline: p.name, step: s.name, versions: [...s.versions.keys()], sliceKey: s.sliceKey, datasets: [...p.datasets.values()].filter((d) => d.step === s.name).map((d) => d.name) })),
    );
  }

  state(name: string): RolloutState {
    return this.stored(name)?.state ?? initialRolloutState(name);
  }

  private stored(name: string): StoredRollout | undefined {
    const r = this.deps.store.rollout(name);
    return r ? (r.state as StoredRollout) : undefined;
  }

  /** Every rollout the store knows, with its state. */
  list(): { name: string; state: RolloutState; plan: RolloutPlan }[] {
    return this.deps.store.rollouts().map((r) => ({ name: r.name, state: (r.state as StoredRollout).state, plan: r.plan as RolloutPlan }));
  }

  log(name: string): RolloutLogEntry[] {
    return this.deps.store.rolloutTransitions(name) as RolloutLogEntry[];
  }

  async start(name: string, actor: string, reason?: string): Promise<DispatchOutcome> {
    const existing = this.stored(name);
    if (existing && existing.state.kind !== 'pending') {
      throw new SluiceError('CONFLICT', `rollout ${name} was already started (it is ${existing.state.kind})`, { field: 'rollout' });
    }
    const plan = this.findPlan(name);
    if (!plan) throw new SluiceError('NOT_FOUND', `no rollout plan "${name}" in rollouts/`, { field: 'rollout' });
    for (const s of plan.steps) {
      if (!stepFlag(flagSet(this.deps.project.flags), s.pipeline, s.step)) {
        throw new SluiceError('CONFIG_INVALID', `step ${s.pipeline}.${s.step} has no version flag; declare a variant flag scoped to it in flags/`, { step: s.step });
      }
    }
    const active = this.list().filter((r) => r.name !== name && ACTIVE_STATES.includes(r.state.kind)).map((r) => ({ name: r.name, state: r.state.kind, plan: r.plan }));
    const datasetsOf = (s: StepRef): string[] => [...(this.deps.project.pipelines.get(s.pipeline)?.datasets.values() ?? [])].filter((d) => d.step === s.step).map((d) => d.name);
    const conflicts = checkConflicts(active, plan, datasetsOf);
    if (conflicts.length > 0) {
      throw new SluiceError('CONFLICT', `rollout ${name} conflicts with running rollouts: ${conflicts.map((c) => JSON.stringify(c)).join('; ')}`);
    }
    return this.dispatchWithPlan(plan, { kind: 'start', actor, reason });
  }

  async dispatch(name: string, event: RolloutEvent): Promise<DispatchOutcome> {
    return this.dispatchWithPlan(this.plan(name), event);
  }

  private async dispatchWithPlan(plan: RolloutPlan, event: RolloutEvent): Promise<DispatchOutcome> {
    const name = plan.name;
    const before = this.stored(name);
    if (before && before.pending.length > 0) await this.carryOut(plan, before.pending);
    const state = before?.state ?? initialRolloutState(name);
    const now = this.deps.clock.now();
    const result = reduce(state, event, { clock: this.deps.clock, plan, config: this.deps.config, observed: this.observations(), graph: buildDatasetGraph(this.deps.project) });
    if (result.refused) {
      this.audit(result.actions);
      throw new SluiceError(event.kind === 'approve' ? 'FORBIDDEN' : 'CONFLICT', `rollout ${name}: ${result.refused}`, { field: event.kind });
    }
    const pending = result.actions.filter((a) => a.kind === 'set_flag_exposure' || a.kind === 'republish' || a.kind === 'rerun_downstream');
    this.deps.store.transaction(() => {
      this.deps.store.saveRollout(name, plan, { state: result.state, pending } satisfies StoredRollout, now);
      for (const t of result.transitions) this.deps.store.appendRolloutTransition(name, { type: 'transition', transition: t } satisfies RolloutLogEntry, now);
      if (result.verdicts.length > 0) this.deps.store.appendRolloutTransition(name, { type: 'verdicts', verdicts: result.verdicts } satisfies RolloutLogEntry, now);
      if (result.batch) this.deps.store.appendRolloutTransition(name, { type: 'batch', batch: result.batch } satisfies RolloutLogEntry, now);
      this.audit(result.actions);
    });
    for (const a of result.actions) if (a.kind === 'notify') this.deps.log?.(`[${a.level}] ${a.rollout}: ${a.message}`);
    if (pending.length > 0) await this.carryOut(plan, pending);
    if (result.state.kind === 'promoted' && state.kind !== 'promoted') this.retireBaseline(plan);
    return { rollout: name, state: result.state, result };
  }

  private audit(actions: readonly RolloutAction[]): void {
    for (const a of actions) {
      if (a.kind !== 'audit') continue;
      this.deps.store.appendAudit({ actor: a.entry.actor, action: `rollout.${a.entry.type}`, target: `rollout/${a.entry.rollout}`, reason: a.entry.message, details: a.entry.details }, this.deps.clock.now());
    }
  }

  /** Carries out flag, republish and re-run actions in order, then clears them from the store. */
  private async carryOut(plan: RolloutPlan, actions: readonly RolloutAction[]): Promise<void> {
    for (const a of actions) {
      if (a.kind === 'set_flag_exposure') {
        for (const step of a.steps) this.setExposure(a.environment, step, a.baseline, a.candidate, a.exposure, plan.name);
      } else if (a.kind === 'republish') {
        // One transaction per environment: a rollback's partitions come back together or not at all.
        for (const environment of [...new Set(a.items.map((i) => i.environment))]) {
          const items = a.items.filter((i) => i.environment === environment);
          const w = await this.deps.warehouseFor(environment);
          const publishItems = items.map((item) => {
            const ds = pipelineOfDataset(this.deps.project, item.dataset)?.datasets.get(item.dataset);
            if (!ds) throw new SluiceError('NOT_FOUND', `rollback: unknown dataset ${item.dataset}`);
            return { dataset: item.dataset, partitionColumn: ds.partitionColumn, partition: item.partition, versionId: item.outputVersion };
          });
          const pubs = await w.publish(publishItems, { runId: null, actor: 'sluice', reason: `rollback of ${plan.name}`, at: this.deps.clock.now() });
          this.deps.store.transaction(() => {
            for (const p of pubs) {
              this.deps.store.appendAudit({ actor: 'sluice', action: 'republish', target: `dataset/${p.dataset}/${p.partition}`, reason: `rollback of ${plan.name}`, details: { environment, version: p.versionId, previous: p.previousVersionId } }, this.deps.clock.now());
            }
          });
        }
      } else if (a.kind === 'rerun_downstream') {
        for (const item of a.items) await this.rerunDownstream(item.environment, item.dataset, item.partitions, plan.name);
      }
    }
    const stored = this.stored(plan.name);
    if (stored) this.deps.store.saveRollout(plan.name, plan, { state: stored.state, pending: [] } satisfies StoredRollout, this.deps.clock.now());
  }

  /** After promotion the candidate becomes every environment's baseline, computed alone. */
  private retireBaseline(plan: RolloutPlan): void {
    for (const env of plan.environments) {
      for (const step of plan.steps) {
        const flag = this.flagOf(step);
        const current = this.flags.flag(env.name, flag.name);
        if (!current.enabled && current.defaultVariant === plan.candidate) continue;
        this.flags.set(env.name, flag.name, { enabled: false, defaultVariant: plan.candidate, strategies: [] }, 'sluice', `rollout ${plan.name} promoted: ${plan.candidate} is the baseline`, 'flag.set');
      }
    }
  }

  private flagOf(step: StepRef): FlagDefinition {
    const f = stepFlag(flagSet(this.deps.project.flags), step.pipeline, step.step);
    if (!f) throw new SluiceError('CONFIG_INVALID', `step ${step.pipeline}.${step.step} has no version flag`, { step: step.step });
    return f;
  }

  /** The flag state that gives a step the exposure a stage asks for. */
  private setExposure(environment: string, step: StepRef, baseline: string, candidate: string, exposure: Exposure, rollout: string): void {
    const flag = this.flagOf(step);
    const salt = `${step.pipeline}.${step.step}`;
    const gradual = (percentage: number, stickiness = 'slice_key'): Strategy => ({ kind: 'gradual', percentage, stickiness, groupId: salt, constraints: [], segments: [] });
    const on = (strategies: Strategy[]): FlagState => ({ enabled: true, defaultVariant: baseline, variants: [{ name: candidate, weight: 100 }], strategies });
    let state: FlagState;
    switch (exposure.mode) {
      case 'baseline':
        state = { enabled: false, defaultVariant: baseline, variants: [{ name: candidate, weight: 100 }], strategies: [] };
        break;
      case 'shadow':
        state = on([gradual(0)]);
        break;
      case 'full':
        state = on([gradual(100)]);
        break;
      case 'canary': {
        const t = exposure.target;
        const field = (d: string): string => (d === 'datasets' ? 'dataset' : d === 'sources' ? 'source' : 'pipeline');
        state = t.kind === 'rows' ? on([gradual(t.percent)]) : t.kind === 'list' ? on([{ kind: 'list', field: field(t.dimension), values: t.values, constraints: [], segments: [] }]) : on([gradual(t.percent, field(t.dimension))]);
        break;
      }
    }
    this.flags.set(environment, flag.name, state, 'sluice', `rollout ${rollout}: ${exposure.mode}${exposure.mode === 'canary' ? ` ${JSON.stringify(exposure.target)}` : ''}`);
  }

  /** Re-runs the steps that publish `dataset`, reading the (restored) published outputs of everything else. */
  private async rerunDownstream(environment: string, dataset: string, partitions: readonly string[], rollout: string): Promise<void> {
    const pipeline = pipelineOfDataset(this.deps.project, dataset);
    if (!pipeline) return;
    const w = await this.deps.warehouseFor(environment);
    const target = pipeline.datasets.get(dataset)?.step ?? '';
    // Everything not downstream of the re-run dataset is read from what is published now.
    const keep = [...pipeline.datasets.values()].filter((d) => d.name !== dataset && !dependsOn(pipeline, d.step, target));
    const current = await w.currentPublications();
    for (const partition of partitions) {
      const published = new Map(current.filter((p) => p.partition === partition).map((p) => [p.dataset, p.versionId]));
      const reuse: Record<string, string> = {};
      for (const d of keep) {
        const v = published.get(d.name);
        if (v) reuse[d.step] = v;
      }
      await runPipeline({ project: this.deps.project, warehouse: w, store: this.deps.store, clock: this.deps.clock, metrics: this.deps.metrics }, { pipeline: pipeline.name, partition, environment, actor: 'sluice', reuseOutputs: reuse });
      this.deps.log?.(`re-ran ${dataset} ${partition} in ${environment} (rollback of ${rollout})`);
    }
  }

  /** Other rollouts, dataset freshness and recent transitions, for dependency gates and staggering. */
  private observations(): Observations {
    const rollouts: Record<string, { state: string; reached: readonly string[] }> = {};
    const recentTransitions: { rollout: string; environment: string; at: string }[] = [];
    for (const r of this.list()) {
      rollouts[r.name] = { state: r.state.kind, reached: r.state.reached };
      for (const e of this.log(r.name)) {
        if (e.type === 'transition' && e.transition.to.environment && e.transition.to.stage && e.transition.from.stage !== e.transition.to.stage) {
          recentTransitions.push({ rollout: r.name, environment: e.transition.to.environment, at: e.transition.at });
        }
      }
    }
    const datasets: Record<string, { publishedAt: string }> = {};
    for (const env of this.deps.project.environments) {
      for (const f of this.deps.store.freshness(env)) {
        const prev = datasets[f.dataset];
        if (!prev || prev.publishedAt < f.measuredAt) datasets[f.dataset] = { publishedAt: f.measuredAt };
      }
    }
    return { rollouts, datasets, recentTransitions };
  }

  /** Active rollouts that move a step of this pipeline and cross this environment. */
  concerning(pipeline: string, environment: string): RolloutPlan[] {
    return this.list()
      .filter((r) => ACTIVE_STATES.includes(r.state.kind) || r.state.kind === 'aborted' || r.state.kind === 'rolled_back')
      .map((r) => r.plan)
      .filter((p) => p.steps.some((s) => s.pipeline === pipeline) && p.environments.some((e) => e.name === environment));
  }

  /**
   * Runs a pipeline and tells every rollout that moves one of its steps: run_started when it is
   * recorded, then batch_completed with the evidence (or run_finished when it failed).
   */
  async run(deps: { warehouse: Warehouse }, req: RunRequest): Promise<{ result: RunResult; rollouts: DispatchOutcome[] }> {
    const plans = this.concerning(req.pipeline, req.environment);
    const stages = new Map<string, string | undefined>();
    let runId: string | undefined;
    const runnerDeps = { project: this.deps.project, warehouse: deps.warehouse, store: this.deps.store, clock: this.deps.clock, metrics: this.deps.metrics };
    let result: RunResult;
    try {
      result = await runPipeline(runnerDeps, {
        ...req,
        onStarted: async (run) => {
          runId = String(run.id);
          for (const p of plans) {
            const st = this.state(p.name);
            const stage = st.position?.environment === req.environment ? st.position.stageId : undefined;
            stages.set(p.name, stage);
            if (ACTIVE_STATES.includes(st.kind)) await this.dispatchWithPlan(p, { kind: 'run_started', runId: runId, environment: req.environment, partition: req.partition, ...(stage ? { stage } : {}) });
          }
          await req.onStarted?.(run);
        },
      });
    } catch (e) {
      if (runId !== undefined) {
        for (const p of plans) {
          if (this.state(p.name).inFlight.some((f) => f.runId === runId)) await this.dispatchWithPlan(p, { kind: 'run_finished', runId, success: false, error: messageOf(e) });
        }
      }
      throw e;
    }
    const outcomes: DispatchOutcome[] = [];
    for (const p of plans) {
      const pipeline = this.deps.project.pipelines.get(req.pipeline);
      if (!pipeline) continue;
      const needsDrift = p.environments.some((e) => e.stages.some((s) => s.gates.some((g) => g.kind === 'diff' && (g.maxPsi !== undefined || g.maxKs !== undefined))));
      const gathered = await gatherEvidence({ project: this.deps.project, warehouse: deps.warehouse, clock: this.deps.clock }, pipeline, p.steps, result.steps, { drift: needsDrift });
      const { evidence, success } = gathered;
      let publications = gathered.publications;
      const stage = stages.get(p.name);
      const current = this.state(p.name);
      const active = ACTIVE_STATES.includes(current.kind);
      // After an abort or rollback only a late candidate publication still matters (it gets reverted),
      // and a baseline run that republished a partition the candidate touched: the reducer must know,
      // or a later rollback would publish the older baseline output over this newer one.
      if (!active && !publications.some((x) => x.candidateRows)) {
        publications = result.publications
          .filter((x) => current.published.some((q) => q.candidateRows && q.environment === req.environment && q.dataset === x.dataset && q.partition === x.partition))
          .map((x) => ({ dataset: x.dataset, partition: x.partition, outputVersion: x.versionId, baselineOutputVersion: x.versionId, candidateRows: false }));
        if (publications.length === 0) continue;
      }
      try {
        outcomes.push(await this.dispatchWithPlan(p, { kind: 'batch_completed', runId: String(result.run.id), environment: req.environment, partition: req.partition, ...(stage ? { stage } : {}), success, evidence, publications }));
      } catch (e) {
        if (active) throw e;
        this.deps.log?.(`rollout ${p.name}: ${messageOf(e)}`);
      }
    }
    return { result, rollouts: outcomes };
  }

  /** The timer: lets every active rollout re-judge time-based gates (soak, windows). */
  async tick(): Promise<DispatchOutcome[]> {
    const out: DispatchOutcome[] = [];
    for (const r of this.list()) if (ACTIVE_STATES.includes(r.state.kind)) out.push(await this.dispatchWithPlan(r.plan, { kind: 'tick' }));
    return out;
  }
}
