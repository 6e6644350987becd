import { mkdtempSync, rmSync } from 'node:fs';
import { partitionPredicate } from '../engine/partition-predicate.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Project } from '../config/project-model.ts';
import { quoteIdent } from '../engine/sql.ts';
import type { Warehouse } from '../engine/warehouse.ts';
import type { RollbackPlan } from '../rollout/plan-rollback.ts';
import type { RolloutState, StateKind } from '../rollout/rollout-state.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import type { Clock } from '../util/clock.ts';
import { SluiceError, messageOf } from '../util/errors.ts';
import { pipelineOfDataset } from './dataset-graph.ts';
import type { RolloutService } from './rollouts/rollout-service.ts';

/** Opened copies of the metadata store and of some environments' warehouses, in a temp folder, wired as a workspace. */
export interface RehearsalCopy extends AsyncDisposable {
  /** The project with its store and warehouse settings pointing at the copies. */
  readonly project: Project;
  readonly store: MetadataStore;
  /** The copied warehouse of an environment; refuses an environment that was not copied. */
  warehouseFor(environment: string): Promise<Warehouse>;
  /** The rollout service over the copies. */
  readonly rollouts: RolloutService;
  /** Bytes written by the copy. */
  readonly bytes: number;
}

export interface RehearsalDeps {
  readonly project: Project;
  /** The real store and warehouses: only read (and checkpointed by `copy`). */
  readonly store: MetadataStore;
  /** The real warehouse of an environment, or undefined when it has none yet (none is created). */
  readonly warehouseFor: (environment: string) => Promise<Warehouse | undefined>;
  readonly rollouts: Pick<RolloutService, 'state' | 'plan'>;
  readonly clock: Clock;
  /**
   * Writes consistent copies of the store and of these environments' warehouses into `dir` and
   * opens them (the composition root knows the adapters: it checkpoints DuckDB through the open
   * connection and backs SQLite up through its API); `log` receives the copy's notices.
   */
  readonly copy: (dir: string, environments: readonly string[], log: (line: string) => void) => Promise<RehearsalCopy>;
  /** Where the temp copy goes (default: the OS temp folder). It is deleted at the end. */
  readonly tempRoot?: string;
  readonly log?: (line: string) => void;
}

/** Row count plus the XOR and the sum of per-row hashes: equal multisets give equal checksums. */
export type Checksum = { readonly rows: number; readonly xor: string; readonly sum: string };

export type RestoredPartition = {
  readonly environment: string;
  readonly dataset: string;
  readonly partition: string;
  /** The baseline output the partition must show after the rollback. */
  readonly baselineVersion: string;
  /** What it showed before (with candidate rows). */
  readonly replacedVersion: string;
  /** What it shows in the copy after the rollback. */
  readonly publishedVersion: string | null;
  readonly published: Checksum;
  readonly baseline: Checksum;
  readonly equal: boolean;
};

export type DownstreamCheck = {
  readonly environment: string;
  readonly dataset: string;
  readonly partition: string;
  readonly publishedVersion: string | null;
  readonly runId: number | null;
  readonly runStatus: string | null;
  /** The published table's partition equals the re-run's output version. */
  readonly equal: boolean;
  readonly problem?: string;
};

export type RehearsalReport = {
  readonly rollout: string;
  readonly ok: boolean;
  readonly stateBefore: StateKind;
  readonly stageBefore: string | null;
  /** The state the rollback reached in the copy (rolled_back when it completed). */
  readonly stateAfter: StateKind;
  readonly environments: readonly string[];
  readonly copy: { readonly bytes: number; readonly ms: number };
  /** Wall time of the rollback in the copy: flags, republishing and downstream re-runs. */
  readonly rollbackMs: number;
  readonly verifyMs: number;
  /** What the rollback reverted (republish list, re-runs), as the controller planned it. */
  readonly plan: Pick<RollbackPlan, 'republish' | 'rerun' | 'reverted' | 'warnings'> | null;
  /** Runs that were in flight: the rehearsal treats them as finished without publishing. */
  readonly assumedFinished: readonly string[];
  readonly rowsRestored: number;
  readonly restored: readonly RestoredPartition[];
  readonly downstream: readonly DownstreamCheck[];
  /** The real store and warehouses showed the same publications, flags, audit head and rollout state afterwards. */
  readonly realUnchanged: boolean;
  readonly problems: readonly string[];
  readonly log: readonly string[];
};

const REHEARSABLE: readonly StateKind[] = ['progressing', 'awaiting_approval', 'paused', 'aborted', 'rolling_back'];

/**
 * `sluice rollout rehearse NAME`: performs the rollback of a rollout's current state on a copy of
 * the environments it touched (data and metadata), verifies that every partition the candidate
 * touched now equals its baseline output (checksums) and that downstream re-runs succeeded and are
 * what is published, measures the time, and deletes the copy. The real environment is only read.
 */
export async function rehearseRollback(deps: RehearsalDeps, name: string, actor: string): Promise<RehearsalReport> {
  await deps.rollouts.plan(name); // NOT_FOUND for a name with neither a plan nor a stored rollout
  const before = await deps.rollouts.state(name);
  if (!REHEARSABLE.includes(before.kind)) {
    throw new SluiceError('CONFLICT', `nothing to rehearse: rollout ${name} is ${before.kind}${before.kind === 'pending' ? ' (not started)' : ''}; a rollback is possible from ${REHEARSABLE.join(', ')}`, { field: 'rollout' });
  }
  const environments = touchedEnvironments(before);
  const fingerprint = (): Promise<string> => realFingerprint(deps, name, environments);
  const realBefore = await fingerprint();
  const dir = mkdtempSync(join(deps.tempRoot ?? tmpdir(), 'sluice-rehearse-'));
  const lines: string[] = [];
  const log = (line: string): void => {
    lines.push(line);
    deps.log?.(line);
  };
  try {
    const t0 = performance.now();
    await using copy = await deps.copy(dir, environments, log);
    for (const env of environments) await copy.warehouseFor(env);
    const copyMs = performance.now() - t0;
    const lastRun = (await copy.store.runs.list({ limit: 1 }))[0]?.id ?? 0;
    const controller = copy.rollouts;
    const problems: string[] = [];
    const assumedFinished: string[] = [];
    // What is verified comes from the copy itself, so data, metadata and checks agree.
    const copied = await controller.state(name);

    const t1 = performance.now();
    try {
      if (copied.kind !== 'rolling_back') await controller.dispatch(name, { kind: 'rollback', actor, reason: `rehearsal by ${actor} (on a copy)` });
      // Runs in flight never finish in the copy: treat them as finished without publishing.
      for (let s = await controller.state(name); s.kind === 'rolling_back'; s = await controller.state(name)) {
        const runId = s.waitingFor[0];
        if (runId === undefined) break;
        assumedFinished.push(runId);
        await controller.dispatch(name, { kind: 'run_finished', runId, success: false, error: 'rehearsal: treated as finished without publishing' });
      }
    } catch (e) {
      problems.push(`the rollback failed: ${messageOf(e)}`);
    }
    const rollbackMs = performance.now() - t1;
    const after = await controller.state(name);
    if (after.kind !== 'rolled_back') problems.push(`the rollback ended in state ${after.kind}, not rolled_back`);
    const rollback = after.kind === 'rolled_back' ? after.rollback : undefined;

    const t2 = performance.now();
    const restored = await verifyRestored(copy, copied);
    for (const r of restored) if (!r.equal) problems.push(`${r.environment} ${r.dataset} ${r.partition} does not equal its baseline output ${r.baselineVersion} (shows ${r.publishedVersion ?? 'nothing'})`);
    const downstream = rollback ? await verifyDownstream(copy, rollback, lastRun) : [];
    for (const d of downstream) if (!d.equal) problems.push(`${d.environment} ${d.dataset} ${d.partition} did not recover: ${d.problem ?? 'differs from its re-run output'}`);
    const verifyMs = performance.now() - t2;

    const realUnchanged = (await fingerprint()) === realBefore;
    if (!realUnchanged) problems.push('the real environment changed during the rehearsal (another process wrote to it?)');
    return {
      rollout: name,
      ok: problems.length === 0,
      stateBefore: copied.kind,
      stageBefore: copied.position ? `${copied.position.environment}/${copied.position.stageId}` : null,
      stateAfter: after.kind,
      environments,
      copy: { bytes: copy.bytes, ms: copyMs },
      rollbackMs,
      verifyMs,
      plan: rollback ? { republish: rollback.republish, rerun: rollback.rerun, reverted: rollback.reverted, warnings: rollback.warnings } : null,
      assumedFinished,
      rowsRestored: restored.reduce((n, r) => n + r.baseline.rows, 0),
      restored,
      downstream,
      realUnchanged,
      problems,
      log: lines,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Environments whose flag the rollout set, where it saw publications, or where runs are in flight. */
function touchedEnvironments(s: RolloutState): string[] {
  return [...new Set([...Object.keys(s.exposures), ...s.published.map((p) => p.environment), ...s.inFlight.map((r) => r.environment)])].sort();
}

/** Every partition that carries candidate rows must show its baseline output again, row for row. */
async function verifyRestored(copy: RehearsalCopy, before: RolloutState): Promise<RestoredPartition[]> {
  const out: RestoredPartition[] = [];
  for (const p of before.published.filter((x) => x.candidateRows)) {
    const w = await copy.warehouseFor(p.environment);
    const ds = pipelineOfDataset(copy.project, p.dataset)?.datasets.get(p.dataset);
    const baseline = await w.outputVersion(p.baselineOutputVersion);
    if (!ds || !baseline) throw new SluiceError('NOT_FOUND', `rehearsal: ${ds ? `no output version ${p.baselineOutputVersion}` : `unknown dataset ${p.dataset}`} in ${p.environment}`);
    const pointer = (await w.currentPublications(p.dataset)).find((x) => x.partition === p.partition);
    const cols = await w.columns(baseline.table);
    const columns = cols.map((c) => c.name);
    const published = await checksum(w, await w.datasetTable(p.dataset), columns, partitionPredicate(ds.partitionColumn, cols.find((c) => c.name === ds.partitionColumn)?.type, p.partition));
    const base = await checksum(w, baseline.table, columns);
    out.push({
      environment: p.environment,
      dataset: p.dataset,
      partition: p.partition,
      baselineVersion: baseline.id,
      replacedVersion: p.outputVersion,
      publishedVersion: pointer?.versionId ?? null,
      published,
      baseline: base,
      equal: pointer?.versionId === baseline.id && sameChecksum(published, base),
    });
  }
  return out.sort((a, b) => a.environment.localeCompare(b.environment) || a.dataset.localeCompare(b.dataset) || a.partition.localeCompare(b.partition));
}

/** Every re-run downstream partition: a new run succeeded, and what is published equals its output. */
async function verifyDownstream(copy: RehearsalCopy, rollback: RollbackPlan, lastRealRun: number): Promise<DownstreamCheck[]> {
  const out: DownstreamCheck[] = [];
  for (const item of rollback.rerun) {
    const w = await copy.warehouseFor(item.environment);
    const ds = pipelineOfDataset(copy.project, item.dataset)?.datasets.get(item.dataset);
    for (const partition of item.partitions) {
      const base = { environment: item.environment, dataset: item.dataset, partition };
      const pointer = (await w.currentPublications(item.dataset)).find((x) => x.partition === partition);
      const version = pointer ? await w.outputVersion(pointer.versionId) : undefined;
      const run = version ? await copy.store.runs.get(version.runId) : undefined;
      const head = { ...base, publishedVersion: pointer?.versionId ?? null, runId: run?.id ?? null, runStatus: run?.status ?? null };
      if (!ds || !version || !run) {
        out.push({ ...head, equal: false, problem: 'nothing published' });
        continue;
      }
      if (run.id <= lastRealRun || run.status !== 'succeeded') {
        out.push({ ...head, equal: false, problem: run.id <= lastRealRun ? `still shows the output of run ${run.id}, from before the rollback` : `re-run ${run.id} ${run.status}` });
        continue;
      }
      const cols = await w.columns(version.table);
      const columns = cols.map((c) => c.name);
      const published = await checksum(w, await w.datasetTable(item.dataset), columns, partitionPredicate(ds.partitionColumn, cols.find((c) => c.name === ds.partitionColumn)?.type, partition));
      const expected = await checksum(w, version.table, columns);
      out.push({ ...head, equal: sameChecksum(published, expected), ...(sameChecksum(published, expected) ? {} : { problem: `published rows (${published.rows}) differ from re-run output ${version.id} (${expected.rows})` }) });
    }
  }
  return out;
}

export async function checksum(w: Warehouse, table: string, columns: readonly string[], where?: string): Promise<Checksum> {
  const { dialect } = w;
  const [xor, sum] = dialect.rowChecksums(columns.map(quoteIdent));
  const text = (e: string): string => dialect.castText(`coalesce(${e}, 0)`);
  const [r] = await w.query(`SELECT count(*) AS n, ${text(xor)} AS x, ${text(sum)} AS s FROM ${table}${where ? ` WHERE ${where}` : ''}`);
  return { rows: Number(r?.['n'] ?? 0), xor: String(r?.['x'] ?? '0'), sum: String(r?.['s'] ?? '0') };
}

function sameChecksum(a: Checksum, b: Checksum): boolean {
  return a.rows === b.rows && a.xor === b.xor && a.sum === b.sum;
}

/** What must not change in the real environment: publications, flag revisions, audit head, the rollout. */
async function realFingerprint(deps: RehearsalDeps, name: string, environments: readonly string[]): Promise<string> {
  const publications: Record<string, unknown> = {};
  for (const env of environments) publications[env] = (await (await deps.warehouseFor(env))?.currentPublications()) ?? null;
  const flags: Record<string, number> = {};
  for (const env of deps.project.environments) flags[env] = (await deps.store.flagRevisions.list(env)).length;
  return JSON.stringify({ publications, flags, audit: (await deps.store.audit.head()) ?? null, rollout: (await deps.store.rollouts.get(name)) ?? null, log: (await deps.store.rollouts.log(name)).length });
}
