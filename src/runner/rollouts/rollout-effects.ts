import type { Warehouse } from '../../engine/warehouse.ts';
import { flagSet, type FlagDefinition } from '../../flags/flag.ts';
import type { FlagStates } from '../flag-states.ts';
import type { AuditTrail } from '../../governance/audit-trail.ts';
import { describeExposure, exposureFlagState } from '../../rollout/exposure-flag-state.ts';
import type { RolloutAction } from '../../rollout/rollout-action.ts';
import type { RolloutPlan, StepRef } from '../../rollout/rollout-plan.ts';
import type { UnitOfWork } from '../../store/metadata-store.ts';
import type { Clock } from '../../util/clock.ts';
import { SluiceError } from '../../util/errors.ts';
import { dependsOn, pipelineOfDataset } from '../dataset-graph.ts';
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
    for (const a of actions) {
      if (a.kind === 'set_flag_exposure') {
        for (const step of a.steps) {
          await this.deps.flags.set(a.environment, this.flagOf(step).name, exposureFlagState(step, a.baseline, a.candidate, a.exposure), 'sluice', `rollout ${plan.name}: ${describeExposure(a.exposure)}`);
        }
      } else if (a.kind === 'republish') {
        await this.republish(plan, a.items);
      } else if (a.kind === 'rerun_downstream') {
        for (const item of a.items) await this.rerunDownstream(item.environment, item.dataset, item.partitions, plan.name);
      }
    }
  }

  /** One publish per environment: a rollback's partitions come back together or not at all. */
  private async republish(plan: RolloutPlan, items: Extract<RolloutAction, { kind: 'republish' }>['items']): Promise<void> {
    for (const environment of [...new Set(items.map((i) => i.environment))]) {
      const w = await this.deps.warehouseFor(environment);
      const publishItems = items
        .filter((i) => i.environment === environment)
        .map((item) => {
          const ds = pipelineOfDataset(this.deps.project, item.dataset)?.datasets.get(item.dataset);
          if (!ds) throw new SluiceError('NOT_FOUND', `rollback: unknown dataset ${item.dataset}`);
          return { dataset: item.dataset, partitionColumn: ds.partitionColumn, partition: item.partition, versionId: item.outputVersion };
        });
      const pubs = await w.publish(publishItems, { runId: null, actor: 'sluice', reason: `rollback of ${plan.name}`, at: this.deps.clock.now() });
      await this.deps.store.transaction(async () => {
        for (const p of pubs) {
          await this.deps.audit.append({ actor: 'sluice', action: 'republish', target: `dataset/${p.dataset}/${p.partition}`, reason: `rollback of ${plan.name}`, details: { environment, version: p.versionId, previous: p.previousVersionId } }, this.deps.clock.now());
        }
      });
    }
  }

  /** After promotion the candidate becomes every environment's baseline, computed alone. */
  async retireBaseline(plan: RolloutPlan): Promise<void> {
    for (const env of plan.environments) {
      for (const step of plan.steps) {
        const flag = this.flagOf(step);
        const current = await this.deps.flags.flag(env.name, flag.name);
        if (!current.enabled && current.defaultVariant === plan.candidate) continue;
        await this.deps.flags.set(env.name, flag.name, { enabled: false, defaultVariant: plan.candidate, strategies: [] }, 'sluice', `rollout ${plan.name} promoted: ${plan.candidate} is the baseline`, 'flag.set');
      }
    }
  }

  private flagOf(step: StepRef): FlagDefinition {
    const f = stepFlag(flagSet(this.deps.project.flags), step.pipeline, step.step);
    if (!f) throw new SluiceError('CONFIG_INVALID', `step ${step.pipeline}.${step.step} has no version flag`, { step: step.step });
    return f;
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
      const { project, store, audit, clock, metrics } = this.deps;
      await runPipeline({ project, warehouse: w, store, audit, clock, ...(metrics ? { metrics } : {}) }, { pipeline: pipeline.name, partition, environment, actor: 'sluice', reuseOutputs: reuse });
      this.deps.log?.(`re-ran ${dataset} ${partition} in ${environment} (rollback of ${rollout})`);
    }
  }
}
