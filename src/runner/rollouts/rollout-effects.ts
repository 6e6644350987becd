import type { Pipeline, Project } from '../../config/project-model.ts';
import { WHOLE } from '../../config/partitioning.ts';
import type { Publication, Warehouse } from '../../engine/warehouse.ts';
import { flagSet, type FlagDefinition } from '../../flags/flag.ts';
import type { FlagStates } from '../flag-states.ts';
import type { AuditTrail } from '../../governance/audit-trail.ts';
import { describeFlagChange, exposureFlagState } from '../../rollout/exposure-flag-state.ts';
import { rolloutSalt } from '../../flags/flag-salt.ts';
import type { RolloutAction } from '../../rollout/rollout-action.ts';
import type { RolloutPlan, StepRef } from '../../rollout/rollout-plan.ts';
import type { UnitOfWork } from '../../store/metadata-store.ts';
import type { Clock } from '../../util/clock.ts';
import { SluiceError } from '../../util/errors.ts';
import { crashPoint } from '../../util/crash-point.ts';
import { stableJson } from '../../util/stable-json.ts';
import { stateOf } from '../../flags/flag-state.ts';
import { dependsOn, pipelineOfDataset } from '../dataset-graph.ts';
import { tableName } from '../../engine/source.ts';
import { runPipeline, type RunnerDeps } from '../run-pipeline.ts';
import { stepFlag } from '../step-exposure.ts';

export interface RolloutEffectsDeps extends Omit<RunnerDeps, 'warehouse'> {
  readonly store: RunnerDeps['store'] & UnitOfWork;
  readonly audit: AuditTrail;
  readonly flags: FlagStates;
  readonly clock: Clock;
  /** The warehouse of an environment (the composition root opens and caches them). */
  readonly warehouseFor: (environment: string) => Promise<Warehouse>;
  readonly log?: (line: string) => void;
}

/**
 * Carries out what the reducer decided, in the order it listed: flags first (so the next run pins
 * the new exposure), then republishing (one atomic publish per environment), then downstream
 * re-runs in dependency order. Each effect is idempotent, so a crash part-way is finished by
 * carrying the same list out again.
 */
export class RolloutEffects {
  constructor(private readonly deps: RolloutEffectsDeps) {}

  async carryOut(plan: RolloutPlan, actions: readonly RolloutAction[]): Promise<void> {
    /** Partitions this list of effects restored or re-ran (`env\0dataset\0partition`): what re-runs read. */
    const changed = new Set<string>();
    /** env\0dataset -> the partitions of it this rollback re-ran (in its own partitioning). */
    const recomputed = new Map<string, readonly string[]>();
    for (const a of actions) {
      if (a.kind === 'set_flag_exposure') {
        for (const step of a.steps) {
          // The baseline exposure belongs to no rollout: runs pinned to it are plain baseline runs.
          const rollout = a.exposure.mode === 'baseline' ? {} : { rollout: a.rolloutId };
          const declared = this.flagOf(step);
          const now = await this.deps.flags.flag(a.environment, declared.name);
          // The salt stays the one the flag has (or declares): a rollout never re-buckets keys.
          const want = exposureFlagState(a.baseline, a.candidate, a.exposure, rolloutSalt(now, declared));
          // Setting the same state again after a crash would only add a revision: skip it when it stands.
          if (sameState(now, { ...want, ...rollout })) continue;
          await this.deps.flags.set(a.environment, declared.name, want, 'sluice', describeFlagChange(a), 'flag.set', rollout);
        }
        crashPoint('effects.flags');
      } else if (a.kind === 'republish') {
        for (const k of await this.republish(plan, a.items)) changed.add(k);
        crashPoint('effects.republished');
      } else if (a.kind === 'rerun_downstream') {
        for (const item of a.items) {
          const partitions = item.partitions.filter((p) => item.because.some((d) => changed.has(`${item.environment}\0${d}\0${p}`)));
          const rerun = await this.rerunDownstream(item.environment, item.dataset, partitions, plan.name, item.because, (d) => recomputed.get(`${item.environment}\0${d}`));
          recomputed.set(`${item.environment}\0${item.dataset}`, rerun);
          // Readers further down see what this re-run changed, in its own partitions and in the planner's.
          for (const p of [...partitions, ...rerun]) changed.add(`${item.environment}\0${item.dataset}\0${p}`);
          crashPoint('effects.rerun');
        }
      }
    }
  }

  /**
   * One publish per environment, a compare-and-set on what the rollout saw: a rollback's partitions
   * come back together or not at all, and a partition published by someone else after the decision
   * (a later run, a manual republish) is left alone and said so. A partition already showing its
   * baseline counts as restored, so carrying the same effects out again after a crash is harmless.
   * Returns the partitions restored (`env\0dataset\0partition`).
   */
  private async republish(plan: RolloutPlan, items: Extract<RolloutAction, { kind: 'republish' }>['items']): Promise<string[]> {
    const restored: string[] = [];
    for (const environment of [...new Set(items.map((i) => i.environment))]) {
      const w = await this.deps.warehouseFor(environment);
      const current = new Map((await w.currentPublications()).map((p) => [`${p.dataset}\0${p.partition}`, p.versionId]));
      const mine = items.filter((i) => i.environment === environment);
      // What each item restores: the baseline of whichever of the rollout's candidate outputs is showing.
      const decide = (i: (typeof mine)[number]): { restore: string; replaces: string } | 'done' | 'unchanged' | 'superseded' => {
        const shown = current.get(`${i.dataset}\0${i.partition}`);
        // Its latest publication carried no candidate rows and still shows: nothing to restore.
        if (i.replaces === i.outputVersion && shown === i.outputVersion) return 'unchanged';
        if (shown === i.replaces) return { restore: i.outputVersion, replaces: i.replaces };
        const alt = i.alternatives?.find((a) => a.replaces === shown);
        if (alt) return { restore: alt.outputVersion, replaces: alt.replaces };
        if (shown === i.outputVersion || i.alternatives?.some((a) => a.outputVersion === shown)) return 'done';
        return 'superseded';
      };
      const decisions = mine.map((i) => ({ item: i, d: decide(i) }));
      const todo = decisions.flatMap((x) => (typeof x.d === 'object' ? [{ item: x.item, ...x.d }] : []));
      const done = decisions.filter((x) => x.d === 'done').map((x) => x.item);
      // A partition that never showed candidate rows of this rollout and shows something else now was not its data.
      const superseded = decisions.filter((x) => x.d === 'superseded' && x.item.replaces !== x.item.outputVersion).map((x) => x.item);
      const publishItems = todo.map(({ item, restore, replaces }) => {
        const ds = pipelineOfDataset(this.deps.project, item.dataset)?.datasets.get(item.dataset);
        if (!ds) throw new SluiceError('NOT_FOUND', `rollback: unknown dataset ${item.dataset}`);
        return { dataset: item.dataset, partitionColumn: ds.partitionColumn ?? null, partition: item.partition, versionId: restore, expected: replaces, rollout: null };
      });
      const pubs = publishItems.length > 0 ? await w.publish(publishItems, { runId: null, actor: 'sluice', reason: `rollback of ${plan.name}`, at: this.deps.clock.now(), intent: rollbackIntent(plan.name) }) : [];
      crashPoint('effects.published');
      // A partition restored before a crash has its publication already: audit it now if that was lost.
      const already = (await w.currentPublications()).filter((p) => done.some((d) => d.dataset === p.dataset && d.partition === p.partition));
      await this.deps.store.transaction(async () => {
        for (const p of [...pubs, ...already]) {
          const target = `dataset/${p.dataset}/${p.partition}`;
          if (already.includes(p) && (await this.deps.store.audit.list({ target })).some((e) => e.details['version'] === p.versionId && e.details['seq'] === p.seq)) continue;
          await this.deps.audit.append({ actor: 'sluice', action: 'republish', target, reason: `rollback of ${plan.name}`, details: { environment, version: p.versionId, previous: p.previousVersionId, seq: p.seq } }, this.deps.clock.now());
        }
        for (const s of superseded) {
          await this.deps.audit.append({ actor: 'sluice', action: 'republish.skipped', target: `dataset/${s.dataset}/${s.partition}`, reason: `rollback of ${plan.name}: the partition was published again after the decision; the later publication stands`, details: { environment, expected: s.replaces, found: current.get(`${s.dataset}\0${s.partition}`) ?? null, baseline: s.outputVersion } }, this.deps.clock.now());
        }
      });
      for (const s of superseded) this.deps.log?.(`rollback of ${plan.name}: ${environment} ${s.dataset} ${s.partition} was published again after the decision (${current.get(`${s.dataset}\0${s.partition}`) ?? 'nothing'}); left as it is`);
      for (const i of [...todo.map((x) => x.item), ...done]) restored.push(`${environment}\0${i.dataset}\0${i.partition}`);
    }
    return restored;
  }

  /**
   * After promotion the candidate becomes every environment's baseline, computed alone. Only flags
   * that still show this attempt's exposure are retired (a later rollout of the step owns its own),
   * so recovery may call it again after a crash. Returns how many flags it changed.
   */
  async retireBaseline(plan: RolloutPlan, attemptId: string): Promise<number> {
    let changed = 0;
    for (const env of plan.environments) {
      for (const step of plan.steps) {
        const flag = this.flagOf(step);
        const current = await this.deps.flags.flag(env.name, flag.name);
        if (current.rollout !== attemptId) continue;
        await this.deps.flags.set(env.name, flag.name, { enabled: false, defaultVariant: plan.candidate, strategies: [] }, 'sluice', `rollout ${plan.name} promoted: ${plan.candidate} is the baseline`, 'flag.set');
        changed++;
      }
    }
    return changed;
  }


  private flagOf(step: StepRef): FlagDefinition {
    const f = stepFlag(flagSet(this.deps.project.flags), step.pipeline, step.step);
    if (!f) throw new SluiceError('CONFIG_INVALID', `step ${step.pipeline}.${step.step} has no version flag`, { step: step.step });
    return f;
  }

  /**
   * Re-runs the steps that publish `dataset`, reading the (restored) published outputs of
   * everything else; returns the partitions it re-ran. `recomputedOf` tells which partitions of a
   * dataset re-ran earlier in this rollback (their keys are the reader's when they share its
   * pipeline).
   */
  private async rerunDownstream(environment: string, dataset: string, partitions: readonly string[], rollout: string, because: readonly string[], recomputedOf: (dataset: string) => readonly string[] | undefined): Promise<string[]> {
    const { project } = this.deps;
    const pipeline = pipelineOfDataset(project, dataset);
    if (!pipeline) return [];
    const rerun: string[] = [];
    const w = await this.deps.warehouseFor(environment);
    const target = pipeline.datasets.get(dataset)?.step ?? '';
    // Everything not downstream of the re-run dataset is read from what is published now.
    const keep = [...pipeline.datasets.values()].filter((d) => d.name !== dataset && !dependsOn(pipeline, d.step, target));
    const current = await w.currentPublications();
    for (const partition of rerunPartitions(project, pipeline, dataset, partitions, because, current, recomputedOf)) {
      const here = current.filter((p) => p.partition === partition);
      // Published after what it read was restored: it was computed from the restored data already
      // (this rollback's re-run before a crash, a later run, or the re-run of the dataset it reads
      // in its own pipeline), so it is not run again. What it read is the upstream partitions that
      // cover this one: the same key in its pipeline, else every overlapping (or, read whole, every) one.
      const readSeq = (d: string): number => Math.max(-1, ...current.filter((p) => p.dataset === d && reads(project, pipeline, d, p.partition, partition)).map((p) => p.seq));
      const ownSeq = here.find((p) => p.dataset === dataset)?.seq ?? -1;
      if (because.length > 0 && because.every((d) => readSeq(d) >= 0) && ownSeq > Math.max(...because.map(readSeq))) {
        this.deps.log?.(`${dataset} ${partition} in ${environment} was computed from the restored data already; not re-run`);
        continue;
      }
      const published = new Map(here.map((p) => [p.dataset, p.versionId]));
      const reuse: Record<string, string> = {};
      for (const d of keep) {
        const v = published.get(d.name);
        if (v) reuse[d.step] = v;
      }
      const { store, audit, clock, metrics } = this.deps;
      await runPipeline({ project, warehouse: w, store, audit, clock, ...(metrics ? { metrics } : {}) }, { pipeline: pipeline.name, partition, environment, actor: 'sluice', reuseOutputs: reuse });
      rerun.push(partition);
      this.deps.log?.(`re-ran ${dataset} ${partition} in ${environment} (rollback of ${rollout})`);
    }
    return rerun;
  }
}

/**
 * The partitions of `dataset` a rollback re-runs, from the restored partitions of what it reads.
 * An unpartitioned reader is recomputed once. Inside one pipeline the keys carry over: those the
 * upstream dataset re-ran in this rollback, else the planner's (its restored partitions). A
 * reader in another pipeline re-runs its published partitions that read restored rows: all of
 * them when it reads the upstream whole, else those that overlap a restored partition in time (a
 * month over its days, a day over its hours) or share its value.
 */
function rerunPartitions(project: Project, pipeline: Pipeline, dataset: string, partitions: readonly string[], because: readonly string[], current: readonly Publication[], recomputedOf: (dataset: string) => readonly string[] | undefined): string[] {
  if (partitions.length === 0) return [];
  if (pipeline.partitioning.kind === 'whole') return [WHOLE];
  const own = [...new Set(current.filter((p) => p.dataset === dataset).map((p) => p.partition))].sort();
  const out = new Set<string>();
  for (const upstream of because) {
    if (pipeline.datasets.has(upstream)) {
      for (const p of recomputedOf(upstream) ?? partitions) out.add(p);
      continue;
    }
    for (const p of own) if (readsWhole(project, pipeline, upstream) || partitions.some((u) => overlaps(p, u))) out.add(p);
  }
  return [...out].sort();
}

/** Whether partition `readerPartition` of a dataset of `pipeline` read partition `upstreamPartition` of `upstream`. */
function reads(project: Project, pipeline: Pipeline, upstream: string, upstreamPartition: string, readerPartition: string): boolean {
  if (pipeline.datasets.has(upstream)) return upstreamPartition === readerPartition;
  return pipeline.partitioning.kind === 'whole' || readsWhole(project, pipeline, upstream) || overlaps(readerPartition, upstreamPartition);
}

/** A reader pipeline reads all of an upstream dataset of another pipeline: its source is not partitioned, or the upstream has one partition. */
function readsWhole(project: Project, pipeline: Pipeline, upstream: string): boolean {
  const source = [...pipeline.sources.values()].find((s) => s.kind === 'table' && tableName(s.table) === upstream);
  return !source?.partitionColumn || pipelineOfDataset(project, upstream)?.partitioning.kind === 'whole';
}

/** Two partition values that cover some of the same rows: equal, or one a time period inside the other. */
function overlaps(a: string, b: string): boolean {
  const inside = (fine: string, coarse: string): boolean => fine.startsWith(`${coarse}-`) || fine.startsWith(`${coarse}T`);
  return a === b || inside(a, b) || inside(b, a);
}

/** Two flag states that behave the same (the rollout id included). */
function sameState(a: Parameters<typeof stateOf>[0], b: Parameters<typeof stateOf>[0]): boolean {
  return stableJson(stateOf(a)) === stableJson(stateOf(b));
}

/** The intent a rollback's republish carries: its audit entries may still be pending while the rollout has pending effects. */
export function rollbackIntent(plan: string): string {
  return `rollback:${plan}`;
}
