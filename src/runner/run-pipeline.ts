import { performance } from 'node:perf_hooks';
import type { Dataset, Pipeline, Project } from '../config/project-model.ts';
import { quoteIdent, quoteLiteral } from '../engine/sql.ts';
import type { OutputVersion, Publication, Warehouse } from '../engine/warehouse.ts';
import type { MetadataStore, RunRecord, StepArtifact, StepRunRecord } from '../store/metadata-store.ts';
import type { SluiceMetrics } from '../telemetry/metrics.ts';
import type { Clock } from '../util/clock.ts';
import { SluiceError, messageOf } from '../util/errors.ts';
import { afterPublish, validateOutput } from './validate-output.ts';
import { selectVersions, type VersionOverrides } from './version-selection.ts';

export interface RunnerDeps {
  readonly project: Project;
  readonly warehouse: Warehouse;
  readonly store: MetadataStore;
  readonly clock: Clock;
  readonly metrics?: SluiceMetrics;
}

export interface RunRequest {
  readonly pipeline: string;
  readonly partition: string;
  readonly environment: string;
  readonly actor: string;
  readonly overrides?: VersionOverrides;
  /** The flag snapshot pinned at the start (recorded with the run). */
  readonly flags?: Readonly<Record<string, unknown>>;
  /** Called between phases; tests use it to stop a run at a chosen point. */
  readonly onPhase?: (phase: RunPhase, detail: string) => void | Promise<void>;
}

export type RunPhase = 'sources-bound' | 'step-done' | 'before-publish' | 'published';

export interface StepOutcome extends StepRunRecord {
  readonly output: OutputVersion | null;
}

export interface RunResult {
  readonly run: RunRecord;
  readonly steps: readonly StepOutcome[];
  readonly publications: readonly Publication[];
}

/**
 * Runs one pipeline on one partition: binds the partition's source rows, computes every step into
 * a new immutable output version, checks each dataset's output, then publishes all datasets of the
 * run in one transaction. A failure before the publish leaves every publication as it was.
 */
export async function runPipeline(deps: RunnerDeps, req: RunRequest): Promise<RunResult> {
  const { project, warehouse, store, clock } = deps;
  const pipeline = requirePipeline(project, req.pipeline);
  requireEnvironment(project, req.environment);
  const selections = selectVersions(pipeline, req.overrides);
  const artifacts: Record<string, StepArtifact> = {};
  for (const step of pipeline.steps) {
    const sel = selections.get(step.name);
    const v = sel ? step.versions.get(sel.version) : undefined;
    if (!sel || !v) throw new SluiceError('USAGE', `step ${step.name} has no version "${sel?.version}"`, { step: step.name, version: sel?.version });
    artifacts[step.name] = { version: v.name, hash: v.hash };
  }

  // Sources first: a missing partition or mismatching files fail here, before anything is recorded.
  const sourceRows = new Map<string, number>();
  for (const source of pipeline.sources.values()) {
    const { rows } = await warehouse.bindSource(source, req.partition, project.root);
    sourceRows.set(source.name, rows);
  }
  await req.onPhase?.('sources-bound', req.partition);

  const run = store.transaction(() => {
    const r = store.startRun({ pipeline: pipeline.name, partition: req.partition, environment: req.environment, actor: req.actor, artifacts, flags: req.flags ?? {}, engine: `duckdb` }, clock.now());
    store.appendAudit({ actor: req.actor, action: 'run.started', target: `run/${r.id}`, reason: `${pipeline.name} partition ${req.partition} in ${req.environment}`, details: { artifacts, flags: req.flags ?? {} } }, clock.now());
    return r;
  });

  const outcomes: StepOutcome[] = [];
  const rowsOut = new Map<string, number>(sourceRows);
  try {
    for (const step of pipeline.steps) {
      const artifact = artifacts[step.name] as StepArtifact;
      const version = step.versions.get(artifact.version);
      if (!version) throw new SluiceError('INTERNAL', `version ${artifact.version} of ${step.name} vanished`);
      const started = performance.now();
      const rowsIn = step.inputs.reduce((n, input) => n + (rowsOut.get(input) ?? 0), 0);
      let output: OutputVersion;
      try {
        output = await warehouse.createOutputVersion(
          { id: outputVersionId(step.name, run.id), pipeline: pipeline.name, step: step.name, stepVersion: version.name, versionHash: version.hash, partition: req.partition, runId: run.id },
          version.sql,
          clock.now(),
        );
      } catch (e) {
        const message = e instanceof SluiceError && e.code === 'SQL_FAILED' ? `${messageOf(e)} (${version.sqlFile})` : messageOf(e);
        store.recordStep({ runId: run.id, step: step.name, version: version.name, versionHash: version.hash, outputVersionId: null, rowsIn, rowsOut: 0, durationMs: performance.now() - started, status: 'failed', error: message });
        throw new SluiceError(e instanceof SluiceError ? e.code : 'SQL_FAILED', message, { step: step.name, version: version.name, file: version.sqlFile }, [], { cause: e });
      }
      await warehouse.bindOutput(step.name, output.id);
      rowsOut.set(step.name, output.rowCount);
      const record: StepRunRecord = { runId: run.id, step: step.name, version: version.name, versionHash: version.hash, outputVersionId: output.id, rowsIn, rowsOut: output.rowCount, durationMs: performance.now() - started, status: 'succeeded', error: null };
      store.recordStep(record);
      deps.metrics?.rowsWritten.inc({ pipeline: pipeline.name, step: step.name, environment: req.environment }, output.rowCount);
      deps.metrics?.stepSeconds.observe({ pipeline: pipeline.name, step: step.name, environment: req.environment }, record.durationMs / 1000);
      outcomes.push({ ...record, output });
      await req.onPhase?.('step-done', step.name);
    }

    const items = [];
    const freshness: { dataset: string; newest: string | null }[] = [];
    for (const dataset of pipeline.datasets.values()) {
      const out = outcomes.find((o) => o.step === dataset.step)?.output;
      if (!out) throw new SluiceError('INTERNAL', `no output for step ${dataset.step}`);
      const newest = await checkDatasetOutput(warehouse, dataset, out, req.partition);
      freshness.push({ dataset: dataset.name, newest });
      await validateOutput(deps, dataset, out, run.id);
      items.push({ dataset: dataset.name, partitionColumn: dataset.partitionColumn, partition: req.partition, versionId: out.id });
    }
    await req.onPhase?.('before-publish', req.partition);
    const publications = await warehouse.publish(items, { runId: run.id, actor: req.actor, reason: `run ${run.id}`, at: clock.now() });
    await req.onPhase?.('published', req.partition);
    for (const dataset of pipeline.datasets.values()) {
      const out = outcomes.find((o) => o.step === dataset.step)?.output;
      if (out) await afterPublish(deps, dataset, out, run.id, req.environment);
    }

    const finished = store.transaction(() => {
      for (const p of publications) {
        store.appendAudit({ actor: req.actor, action: 'publish', target: `dataset/${p.dataset}/${p.partition}`, reason: `run ${run.id}`, details: { version: p.versionId, previous: p.previousVersionId, seq: p.seq } }, clock.now());
      }
      for (const f of freshness) {
        store.recordFreshness({ environment: req.environment, dataset: f.dataset, partition: req.partition, newestEventTime: f.newest, runId: run.id, measuredAt: clock.now().toISOString() });
      }
      const r = store.finishRun(run.id, { status: 'succeeded', published: publications.map((p) => `${p.dataset}/${p.partition}@${p.versionId}`) }, clock.now());
      store.appendAudit({ actor: req.actor, action: 'run.finished', target: `run/${run.id}`, reason: 'succeeded', details: { published: r.published } }, clock.now());
      return r;
    });
    deps.metrics?.runs.inc({ pipeline: pipeline.name, environment: req.environment, status: 'succeeded' });
    for (const f of freshness) if (f.newest) deps.metrics?.freshness.set({ dataset: f.dataset, environment: req.environment }, Date.parse(f.newest) / 1000);
    return { run: finished, steps: outcomes, publications };
  } catch (e) {
    store.transaction(() => {
      store.finishRun(run.id, { status: 'failed', error: messageOf(e) }, clock.now());
      store.appendAudit({ actor: req.actor, action: 'run.failed', target: `run/${run.id}`, reason: messageOf(e), details: {} }, clock.now());
    });
    deps.metrics?.runs.inc({ pipeline: pipeline.name, environment: req.environment, status: 'failed' });
    throw e;
  }
}

export function outputVersionId(step: string, runId: number): string {
  return `${step}.r${runId}`;
}

export function requirePipeline(project: Project, name: string): Pipeline {
  const p = project.pipelines.get(name);
  if (!p) throw new SluiceError('NOT_FOUND', `unknown pipeline "${name}" (pipelines: ${[...project.pipelines.keys()].join(', ')})`, { field: 'pipeline' });
  return p;
}

export function requireEnvironment(project: Project, env: string): void {
  if (!project.environments.includes(env)) {
    throw new SluiceError('USAGE', `unknown environment "${env}" (environments: ${project.environments.join(', ')})`, { field: 'env' });
  }
}

/** Every row of a dataset's output must belong to the run's partition; returns the newest event time. */
async function checkDatasetOutput(warehouse: Warehouse, dataset: Dataset, out: OutputVersion, partition: string): Promise<string | null> {
  const cols = await warehouse.columns(out.table);
  const names = new Set(cols.map((c) => c.name));
  for (const [field, col] of [['partition_column', dataset.partitionColumn], ['event_time', dataset.eventTime]] as const) {
    if (col && !names.has(col)) {
      throw new SluiceError('DATA_INVALID', `dataset ${dataset.name}: ${field} "${col}" is not a column of step ${out.step} (${out.stepVersion}) output (columns: ${[...names].join(', ')})`, { step: out.step, version: out.stepVersion, field: `datasets.${dataset.name}.${field}` });
    }
  }
  const newest = dataset.eventTime ? `max(${quoteIdent(dataset.eventTime)})::VARCHAR` : 'NULL';
  const [r] = await warehouse.query(`SELECT count(*) FILTER (WHERE ${quoteIdent(dataset.partitionColumn)}::VARCHAR IS DISTINCT FROM ${quoteLiteral(partition)})::BIGINT AS outside, ${newest} AS newest FROM ${out.table}`);
  const outside = Number(r?.['outside'] ?? 0);
  if (outside > 0) {
    throw new SluiceError('DATA_INVALID', `dataset ${dataset.name}: ${outside} rows of step ${out.step} (${out.stepVersion}) have ${dataset.partitionColumn} other than partition ${partition}`, { step: out.step, version: out.stepVersion });
  }
  const v = r?.['newest'];
  return v === null || v === undefined ? null : String(v);
}
