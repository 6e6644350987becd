import type { Dataset } from '../config/project-model.ts';
import type { OutputVersion } from '../engine/warehouse.ts';
import { runChecks } from '../quality/run-checks.ts';
import { SluiceError } from '../util/errors.ts';
import type { RunnerDeps } from './run-pipeline.ts';

/**
 * Write, audit, publish: what a dataset's output must pass before it is published. A failing
 * `error` check stops the run before anything is published; results are stored with the run.
 */
export async function validateOutput(deps: RunnerDeps, dataset: Dataset, out: OutputVersion, runId: number): Promise<void> {
  if (dataset.checks.length === 0) return;
  const report = await runChecks(deps.warehouse, out.table, dataset.checks, { now: deps.clock.now(), indexColumns: dataset.primaryKey });
  deps.store.recordCheckResults({ runId, dataset: dataset.name, partition: out.partition, versionId: out.id, results: report.results });
  if (report.success) return;
  const failed = report.results.filter((r) => !r.success && r.severity === 'error');
  throw new SluiceError('CHECK_FAILED', `dataset ${dataset.name}: ${failed.length} error check(s) failed on output ${out.id} of step ${out.step} (${out.stepVersion}); nothing was published:\n${failed.map((r) => `  - ${r.message}`).join('\n')}`, { step: out.step, version: out.stepVersion, field: `datasets.${dataset.name}.checks` });
}

/**
 * After a publish: observers of the published output (profiles, anomaly history). Never decides
 * anything about the publish that already happened; failures are reported, not thrown.
 */
export async function afterPublish(_deps: RunnerDeps, _dataset: Dataset, _out: OutputVersion, _runId: number, _environment: string): Promise<void> {}
