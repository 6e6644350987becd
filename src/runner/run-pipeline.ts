import { performance } from 'node:perf_hooks';
import type { Dataset, Pipeline, Project } from '../config/project-model.ts';
import { quoteIdent, quoteLiteral } from '../engine/sql.ts';
import { holdsValue, partitionPredicate } from '../engine/partition-predicate.ts';
import { resolvePartition } from '../config/partitioning.ts';
import { dependsOn } from './dataset-graph.ts';
import { planSelection, selectSteps, type SelectionPlan } from './select-steps.ts';
import type { OutputVersion, Publication, Warehouse, WarehouseSession } from '../engine/warehouse.ts';
import type { AuditTrail } from '../governance/audit-trail.ts';
import type { MetadataStore, PinnedFlags, RunRecord, StepArtifact, StepRunRecord } from '../store/metadata-store.ts';
import type { SluiceMetrics } from '../telemetry/metrics.ts';
import type { Clock } from '../util/clock.ts';
import { SluiceError, messageOf } from '../util/errors.ts';
import { afterPublish, validateOutput, type OutputCheck } from './validate-output.ts';
import { stepCheckTarget } from '../config/step-check-target.ts';
import { requireEnvironment } from '../config/require-environment.ts';
import { candidateEvidence, type EvidenceOptions } from './candidate-evidence.ts';
import type { BatchEvidence } from '../rollout/gate-evidence.ts';
import { assertNotKilled, stepExposures, type StepExposure } from './step-exposure.ts';
import { FlagStates } from './flag-states.ts';
import { snapshotFlags, type FlagSnapshot } from '../flags/flag-snapshot.ts';
import { sliceSql } from '../flags/bucket-sql.ts';
import { createHash } from 'node:crypto';
import { crashPoint } from '../util/crash-point.ts';
import { keepLease, LEASE_MS, processOwner } from '../util/lease.ts';

export interface RunnerDeps {
  readonly project: Project;
  readonly warehouse: Warehouse;
  readonly store: MetadataStore;
  readonly audit: AuditTrail;
  readonly clock: Clock;
  readonly metrics?: SluiceMetrics;
  /** Where notices go (a profile that could not be stored, say). */
  readonly log?: (line: string) => void;
}

export interface RunRequest {
  readonly pipeline: string;
  readonly partition: string;
  readonly environment: string;
  readonly actor: string;
  /** The flag snapshot to pin; by default the environment's flag states at the run's start. */
  readonly flags?: FlagSnapshot;
  /** Called between phases; tests use it to stop a run at a chosen point. */
  readonly onPhase?: (phase: RunPhase, detail: string) => void | Promise<void>;
  /** Called once the run is recorded, before any step runs (rollouts track runs in flight). */
  readonly onStarted?: (run: RunRecord) => void | Promise<void>;
  /**
   * Steps whose output is taken from an existing output version instead of being computed (used to
   * re-run only what reads a restored partition). Their datasets are not published again.
   */
  readonly reuseOutputs?: Readonly<Record<string, string>>;
  /**
   * Model selection (`STEP+`, `+STEP`, see select-steps.ts): only the selected steps are computed
   * and publish their datasets; the steps they read come from what is published for the partition,
   * or are computed (not published) when nothing is. Rollouts see the run only when it computes
   * their step.
   */
  readonly select?: string;
  /** A queued run: its queue item and claim token, checked by the warehouse at publish (PublishMeta.fence). */
  readonly fence?: { readonly item: string; readonly token: number };
  /**
   * How much evidence to gather about a sliced step's candidate (default: its checks only, which
   * decide whether its rows may be published at all).
   */
  readonly evidenceFor?: (exposure: SlicedExposure) => Omit<EvidenceOptions, 'environment'>;
  /**
   * Judges a sliced step's candidate right after the step computed, before any downstream step
   * reads it and before anything is published (a rollout's gates that need only this batch). A
   * rejected candidate leaves the batch on the baseline output, downstream included.
   */
  readonly judgeCandidate?: (c: { readonly step: string; readonly exposure: SlicedExposure; readonly evidence: BatchEvidence }) => Promise<CandidateJudgement>;
}

export type SlicedExposure = Extract<StepExposure, { kind: 'sliced' }>;

export interface CandidateJudgement {
  readonly accept: boolean;
  readonly reason?: string;
}

export type RunPhase = 'sources-bound' | 'step-done' | 'before-publish' | 'published';

export interface StepOutcome extends StepRunRecord {
  /** The output downstream steps read and datasets publish. */
  readonly output: OutputVersion | null;
  readonly exposure: StepExposure;
  /** For a sliced step: the full outputs of both versions, computed over the same input. */
  readonly baselineOutput?: OutputVersion;
  readonly candidateOutput?: OutputVersion;
  readonly baselineMs?: number;
  readonly candidateMs?: number;
  /** A candidate that failed: the baseline was published alone and the error is evidence for the gates. */
  readonly candidateError?: string;
  /** The output the candidate's rows would have been published in (blend, or candidate at 100 %). */
  readonly exposedOutput?: OutputVersion;
  /** Why the candidate's rows were not published in this batch (it failed, broke a check, or a gate said so). */
  readonly candidateRejected?: string;
  /** What this batch tells about the candidate (sliced steps). */
  readonly evidence?: BatchEvidence;
  /** True when the output was taken from an existing version (reuseOutputs). */
  readonly reused?: boolean;
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
  await using session = await deps.warehouse.openSession();
  return await runInSession(deps, session, req);
}

async function runInSession(deps: RunnerDeps, session: WarehouseSession, req: RunRequest): Promise<RunResult> {
  const { project, warehouse, store, audit, clock } = deps;
  const pipeline = requirePipeline(project, req.pipeline);
  requireEnvironment(project, req.environment);
  const partition = resolvePartition(pipeline.partitioning, req.partition);
  req = { ...req, partition: partition.value };
  // Batch-boundary consistency: flags are evaluated once, here, and the snapshot is recorded.
  const snapshot = req.flags ?? (await new FlagStates({ declared: project.flags, store, audit, clock }).snapshot(req.environment));
  const flagSet = snapshotFlags(snapshot);
  const exposureCtx = { environment: req.environment, partition: req.partition, now: clock.now() };
  assertNotKilled(flagSet, pipeline.name, exposureCtx);
  const allExposures = stepExposures(pipeline, flagSet, exposureCtx);
  const selection = req.select === undefined ? undefined : await selectionFor(warehouse, pipeline, req.select, partition.value);
  // A selected run is a batch of the rollouts of the steps it selects (they compute and publish
  // the candidate as any run would); a step it only computes as an unpublished input runs its
  // baseline, and a step it reads or leaves out pins nothing.
  const exposures = selection ? selectedExposures(allExposures, selection) : allExposures;
  const reuseOutputs = { ...selection?.reuse, ...req.reuseOutputs };
  const artifacts: Record<string, StepArtifact> = {};
  for (const step of pipeline.steps) {
    // What the run computes: a step a selected run only reads or leaves out is recorded as its baseline, without a candidate.
    const all = allExposures.get(step.name) as StepExposure;
    const e: StepExposure = exposures.get(step.name) ?? (all.kind === 'single' ? all : { kind: 'single', step: step.name, version: all.baseline, reason: 'not computed by this selected run' });
    for (const name of e.kind === 'single' ? [e.version] : [e.baseline, e.candidate]) {
      if (!step.versions.has(name)) throw new SluiceError('USAGE', `step ${step.name} has no version "${name}" (flag ${e.flag ?? '-'})`, { step: step.name, version: name });
    }
    const base = step.versions.get(e.kind === 'single' ? e.version : e.baseline);
    const cand = e.kind === 'sliced' ? step.versions.get(e.candidate) : undefined;
    artifacts[step.name] = { version: base?.name ?? '', hash: base?.hash ?? '', ...(cand && e.kind === 'sliced' ? { candidate: { version: cand.name, hash: cand.hash, percent: e.percent, flag: e.flag } } : {}) };
  }
  const pinned: PinnedFlags = { snapshot, exposures: Object.fromEntries(exposures) };

  // Sources first: a missing partition or mismatching files fail here, before anything is recorded.
  const sourceRows = new Map<string, number>();
  await session.bindPartition(partition);
  for (const source of pipeline.sources.values()) {
    if (selection && ![...selection.compute].some((s) => pipeline.steps.find((x) => x.name === s)?.inputs.includes(source.name))) continue;
    const { rows } = await session.bindSource(source, partition, project.root, { allowEmpty: emptyAllowed(pipeline, source.name) });
    sourceRows.set(source.name, rows);
  }
  await req.onPhase?.('sources-bound', req.partition);

  const engine = `${warehouse.engine.kind} ${warehouse.engine.version}`;
  const run = await store.transaction(async (tx) => {
    const r = await tx.runs.start({ pipeline: pipeline.name, partition: req.partition, environment: req.environment, actor: req.actor, artifacts, flags: pinned, engine }, clock.now(), { owner: processOwner(), until: new Date(clock.now().getTime() + LEASE_MS) });
    await audit.append({ actor: req.actor, action: 'run.started', target: `run/${r.id}`, reason: `${pipeline.name} partition ${req.partition} in ${req.environment}${req.select ? ` (--select ${req.select})` : ''}`, details: { pipeline: pipeline.name, partition: req.partition, environment: req.environment, actor: req.actor, artifacts, exposures: pinned.exposures, ...(selection ? { select: req.select, computes: [...selection.compute], reads: selection.reuse } : {}) } }, clock.now());
    return r;
  });

  const outcomes: StepOutcome[] = [];
  const rowsOut = new Map<string, number>(sourceRows);
  /** Check runs already made in this run, by dataset and output version. */
  const checked = new Map<string, OutputCheck>();
  crashPoint('run.recorded');
  // The run is its own intent: while its process lives the lease is renewed; recovery (runner/recover.ts) takes over a run whose owner is gone.
  const lease = keepLease((until) => store.runs.renewLease(run.id, until), clock);
  let published = false;
  try {
    await req.onStarted?.(run);
    for (const step of pipeline.steps) {
      if (selection && !selection.compute.has(step.name) && reuseOutputs[step.name] === undefined) continue;
      const exposure = (exposures.get(step.name) ?? allExposures.get(step.name)) as StepExposure;
      const started = performance.now();
      const rowsIn = step.inputs.reduce((n, input) => n + (rowsOut.get(input) ?? 0), 0);
      const compute = async (versionName: string, id: string): Promise<OutputVersion> => {
        const version = step.versions.get(versionName);
        if (!version) throw new SluiceError('INTERNAL', `version ${versionName} of ${step.name} vanished`);
        try {
          return await session.createOutputVersion({ id, pipeline: pipeline.name, step: step.name, stepVersion: version.name, versionHash: version.hash, partition: req.partition, runId: run.id }, version.sql, clock.now());
        } catch (e) {
          const message = e instanceof SluiceError && e.code === 'SQL_FAILED' ? `${messageOf(e)} (${version.sqlFile})` : messageOf(e);
          await store.runs.recordStep({ runId: run.id, step: step.name, version: version.name, versionHash: version.hash, outputVersionId: null, rowsIn, rowsOut: 0, durationMs: performance.now() - started, status: 'failed', error: message });
          throw new SluiceError(e instanceof SluiceError ? e.code : 'SQL_FAILED', message, { step: step.name, version: version.name, file: version.sqlFile }, [], { cause: e });
        }
      };
      let output: OutputVersion;
      let baselineOutput: OutputVersion | undefined;
      let candidateOutput: OutputVersion | undefined;
      let baselineMs: number | undefined;
      let candidateMs: number | undefined;
      let candidateError: string | undefined;
      let exposedOutput: OutputVersion | undefined;
      let candidateRejected: string | undefined;
      let evidence: BatchEvidence | undefined;
      const reuse = reuseOutputs[step.name];
      if (reuse) {
        const existing = await warehouse.outputVersion(reuse);
        if (!existing || existing.step !== step.name || existing.partition !== req.partition) {
          throw new SluiceError('USAGE', `output version ${reuse} is not an output of step ${step.name} for partition ${req.partition}`, { step: step.name });
        }
        output = existing;
      } else if (exposure.kind === 'single') {
        output = await compute(exposure.version, outputVersionId(step.name, run.id));
      } else {
        const t0 = performance.now();
        baselineOutput = await compute(exposure.baseline, `${outputVersionId(step.name, run.id)}.${exposure.baseline}`);
        baselineMs = performance.now() - t0;
        const t1 = performance.now();
        try {
          candidateOutput = await compute(exposure.candidate, `${outputVersionId(step.name, run.id)}.${exposure.candidate}`);
        } catch (e) {
          // A broken candidate must not stop the baseline: it is published alone, and the error is evidence.
          candidateError = messageOf(e);
        }
        candidateMs = performance.now() - t1;
        if (candidateOutput && exposure.percent > 0) {
          try {
            exposedOutput = exposure.percent >= 100 ? candidateOutput : await composeSlice(session, exposure, baselineOutput, candidateOutput, outputVersionId(step.name, run.id), clock.now());
          } catch (e) {
            candidateError = `the blend of ${exposure.baseline} and ${exposure.candidate} could not be built: ${messageOf(e)}`;
          }
        }
        // Write, audit, publish: the candidate is judged now, before downstream steps read it.
        const judged = await candidateEvidence({ ...deps, engine: session }, pipeline, step.name, { baseline: baselineOutput, ...(candidateOutput && !candidateError ? { candidate: candidateOutput } : {}), ...(candidateError ? { candidateError } : {}), ...(exposedOutput ? { exposed: exposedOutput } : {}), baselineMs, candidateMs, ...(step.sliceKey ? { sliceKey: step.sliceKey } : {}) }, { full: false, drift: false, ...req.evidenceFor?.(exposure), environment: req.environment });
        evidence = judged.evidence;
        for (const [k, v] of judged.checked) checked.set(k, v);
        candidateRejected = judged.broken;
        if (!candidateRejected && req.judgeCandidate) {
          const verdict = await req.judgeCandidate({ step: step.name, exposure, evidence });
          if (!verdict.accept) candidateRejected = verdict.reason ?? 'a gate rejected the candidate';
        }
        output = exposedOutput && !candidateRejected ? exposedOutput : baselineOutput;
      }
      await session.bindOutput(step.name, output.id);
      rowsOut.set(step.name, output.rowCount);
      const record: StepRunRecord = { runId: run.id, step: step.name, version: output.stepVersion, versionHash: output.versionHash, outputVersionId: output.id, rowsIn, rowsOut: output.rowCount, durationMs: performance.now() - started, status: 'succeeded', error: null };
      await store.runs.recordStep(record);
      // A staging step's own checks run as soon as it computed: a failing error check stops the run
      // before anything downstream reads the output (a dataset's step runs them with its dataset).
      if (step.checks.length > 0 && !reuse && ![...pipeline.datasets.values()].some((d) => d.step === step.name)) {
        await validateOutput(deps, stepCheckTarget(step, pipeline.partitioning), output, run.id, undefined, session, `step ${step.name}`);
      }
      // A selected run computes a dataset's step it does not publish only as an input: it must pass
      // what its publish would have to (checks, contract) before the selected steps read it.
      if (selection && !reuse && !selection.publish.has(step.name)) {
        for (const d of pipeline.datasets.values()) if (d.step === step.name) await validateOutput(deps, d, output, run.id, undefined, session, `dataset ${d.name} (an unpublished input of --select ${req.select})`);
      }
      deps.metrics?.rowsWritten.inc({ pipeline: pipeline.name, step: step.name, environment: req.environment }, output.rowCount);
      deps.metrics?.stepSeconds.observe({ pipeline: pipeline.name, step: step.name, environment: req.environment }, record.durationMs / 1000);
      outcomes.push({ ...record, output, exposure, baselineOutput, candidateOutput, baselineMs, candidateMs, candidateError, exposedOutput, candidateRejected, evidence, reused: reuse !== undefined });
      await req.onPhase?.('step-done', step.name);
    }

    const items = [];
    const freshness: { dataset: string; newest: string | null }[] = [];
    for (const dataset of pipeline.datasets.values()) {
      if (selection && !selection.publish.has(dataset.step)) continue;
      const outcome = outcomes.find((o) => o.step === dataset.step);
      const out = outcome?.output;
      if (!out) throw new SluiceError('INTERNAL', `no output for step ${dataset.step}`);
      if (outcome.reused) continue;
      const newest = await checkDatasetOutput(warehouse, dataset, out, req.partition);
      freshness.push({ dataset: dataset.name, newest });
      await validateOutput(deps, dataset, out, run.id, checked.get(`${dataset.name}\0${out.id}`), session);
      items.push({ dataset: dataset.name, partitionColumn: dataset.partitionColumn ?? null, partition: req.partition, versionId: out.id, rollout: outcome.exposure.rollout ?? null });
    }
    await req.onPhase?.('before-publish', req.partition);
    crashPoint('run.before-publish');
    const publications = items.length === 0 ? [] : await warehouse.publish(items, { runId: run.id, actor: req.actor, reason: `run ${run.id}${req.fence ? ` (queue item ${req.fence.item}, claim ${req.fence.token})` : ''}`, at: clock.now(), ...(req.fence ? { fence: req.fence } : {}) });
    published = publications.length > 0;
    crashPoint('run.published');
    await req.onPhase?.('published', req.partition);

    // The audit entries of the publish right after it: the window a crash can open is one statement.
    const finished = await store.transaction(async (tx) => {
      for (const p of publications) {
        await audit.append({ actor: req.actor, action: 'publish', target: `dataset/${p.dataset}/${p.partition}`, reason: `run ${run.id}`, details: { environment: req.environment, run: run.id, version: p.versionId, previous: p.previousVersionId, seq: p.seq } }, clock.now());
      }
      for (const f of freshness) {
        await tx.runs.recordFreshness({ environment: req.environment, dataset: f.dataset, partition: req.partition, newestEventTime: f.newest, runId: run.id, measuredAt: clock.now().toISOString() });
      }
      const r = await tx.runs.finish(run.id, { status: 'succeeded', published: publications.map((p) => `${p.dataset}/${p.partition}@${p.versionId}`) }, clock.now());
      await audit.append({ actor: req.actor, action: 'run.finished', target: `run/${run.id}`, reason: 'succeeded', details: { published: r.published } }, clock.now());
      return r;
    });
    crashPoint('run.finished');
    // Observers of what was published: profiles and anomaly verdicts; they never change the publish or the run.
    for (const dataset of pipeline.datasets.values()) {
      const out = outcomes.find((o) => o.step === dataset.step)?.output;
      if (!out || !publications.some((p) => p.dataset === dataset.name)) continue;
      if (dataset.profile) await afterPublish(deps, dataset, out, run.id, req.environment).catch((e: unknown) => deps.log?.(`run ${run.id}: profiling ${dataset.name} failed: ${messageOf(e)}`));
    }
    deps.metrics?.runs.inc({ pipeline: pipeline.name, environment: req.environment, status: 'succeeded' });
    for (const f of freshness) if (f.newest) deps.metrics?.freshness.set({ dataset: f.dataset, environment: req.environment }, Date.parse(f.newest) / 1000);
    return { run: finished, steps: outcomes, publications };
  } catch (e) {
    // Published but not recorded (the store failed right after the publish): the run stays running,
    // and once this process is gone recovery audits what it published and finishes it.
    if (published) throw e;
    await store.transaction(async (tx) => {
      await tx.runs.finish(run.id, { status: 'failed', error: messageOf(e) }, clock.now());
      await audit.append({ actor: req.actor, action: 'run.failed', target: `run/${run.id}`, reason: messageOf(e), details: {} }, clock.now());
    });
    deps.metrics?.runs.inc({ pipeline: pipeline.name, environment: req.environment, status: 'failed' });
    throw e;
  } finally {
    lease.stop();
  }
}

/**
 * The published output of a row slice, itself an immutable output version: baseline rows whose key
 * is outside the slice plus candidate rows whose key is inside it (bucket as in flags/bucket.ts).
 */
async function composeSlice(session: WarehouseSession, e: Extract<StepExposure, { kind: 'sliced' }>, base: OutputVersion, cand: OutputVersion, id: string, at: Date): Promise<OutputVersion> {
  const inSlice = sliceSql(session.dialect, e.salt, quoteIdent(e.sliceKey ?? ''), e.percent);
  const columns = (await session.query(session.dialect.describeSql(base.table))).map((r) => String(r['column_name']));
  const sql = session.dialect.sliceUnion(base.table, cand.table, columns, inSlice);
  const hash = createHash('sha256').update(`${base.versionHash}|${cand.versionHash}|${e.salt}|${e.percent}`).digest('hex');
  return session.createOutputVersion({ id, pipeline: base.pipeline, step: base.step, stepVersion: `${e.baseline}+${e.candidate}@${e.percent}%`, versionHash: hash, partition: base.partition, runId: base.runId }, sql, at);
}

export function outputVersionId(step: string, runId: number): string {
  return `${step}.r${runId}`;
}

export function requirePipeline(project: Project, name: string): Pipeline {
  const p = project.pipelines.get(name);
  if (!p) throw new SluiceError('NOT_FOUND', `unknown pipeline "${name}" (pipelines: ${[...project.pipelines.keys()].join(', ')})`, { field: 'pipeline' });
  return p;
}


function selectedExposures(all: ReadonlyMap<string, StepExposure>, selection: SelectionPlan): Map<string, StepExposure> {
  const out = new Map<string, StepExposure>();
  for (const [step, e] of all) {
    if (selection.publish.has(step)) out.set(step, e);
    else if (selection.compute.has(step)) out.set(step, e.kind === 'single' ? { kind: 'single', step, version: e.version, reason: `${e.reason}; an input of the selected steps` } : { kind: 'single', step, version: e.baseline, reason: `the baseline: an unpublished input of the selected steps, not a batch of ${e.rollout ?? 'the rollout'}` });
  }
  return out;
}

/** What a selected run computes and reads, from what each dataset publishes now for the partition. */
async function selectionFor(warehouse: Warehouse, pipeline: Pipeline, select: string, partition: string): Promise<SelectionPlan> {
  const selected = selectSteps(pipeline, select);
  const published = new Map<string, string>();
  const steps = new Map([...pipeline.datasets.values()].map((d) => [d.name, d.step]));
  for (const p of await warehouse.currentPublications()) {
    const step = steps.get(p.dataset);
    if (step && p.partition === partition) published.set(step, p.versionId);
  }
  return planSelection(pipeline, selected, (step) => published.get(step));
}

/** A partition predicate's refusal, told with the dataset or source it is about. */
function withPlace<T>(fn: () => T, what: string, field: string): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SluiceError) throw new SluiceError(e.code, `${what}: ${e.message}`, { ...e.place, field }, e.problems, { cause: e });
    throw e;
  }
}

/** A source may be empty for a partition when every dataset that reads it (through any step) allows empty partitions. */
function emptyAllowed(pipeline: Pipeline, source: string): boolean {
  const readers = [...pipeline.datasets.values()].filter((d) => dependsOn(pipeline, d.step, source));
  return readers.length > 0 && readers.every((d) => d.allowEmpty);
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
  const { types } = warehouse.dialect;
  const newest = dataset.eventTime ? `CAST(max(${quoteIdent(dataset.eventTime)}) AS ${types.text})` : 'NULL';
  // The literal is cast once to the column's type (not the column to text on every row).
  const type = cols.find((c) => c.name === dataset.partitionColumn)?.type;
  const inside = withPlace(() => partitionPredicate(dataset.partitionColumn, type, partition), `dataset ${dataset.name}`, `datasets.${dataset.name}.partition`);
  const [r] = await warehouse.query(`SELECT CAST(count(*) FILTER (WHERE (${inside}) IS NOT TRUE) AS ${types.bigint}) AS outside, ${newest} AS newest FROM ${out.table}`).catch((e: unknown) => {
    throw new SluiceError('USAGE', `partition "${partition}" is not a value of ${dataset.name}.${dataset.partitionColumn}: ${messageOf(e)}`, { field: 'partition' });
  });
  // Two spellings of one value ("1" and "01" of an INTEGER column) would be two partitions of the same rows: only the column's own spelling names a partition.
  if (dataset.partitionColumn && type && holdsValue(type, partition)) {
    const [c] = await warehouse.query(`SELECT CAST(CAST(${quoteLiteral(partition)} AS ${type}) AS ${types.text}) AS canon`);
    const canon = c?.['canon'];
    if (canon !== undefined && canon !== null && String(canon) !== partition) {
      throw new SluiceError('USAGE', `partition "${partition}" of ${dataset.name} is stored as ${String(canon)} in ${dataset.partitionColumn} (${type}): name the partition ${String(canon)}`, { field: 'partition' });
    }
  }
  const outside = Number(r?.['outside'] ?? 0);
  if (outside > 0) {
    throw new SluiceError('DATA_INVALID', `dataset ${dataset.name}: ${outside} rows of step ${out.step} (${out.stepVersion}) have ${dataset.partitionColumn} other than partition ${partition}`, { step: out.step, version: out.stepVersion });
  }
  const v = r?.['newest'];
  return v === null || v === undefined ? null : String(v);
}
