import { loadProjectForMetadata } from '../../../app/load-project.ts';
import { openMetadataReads, projectSettingsOrThrow } from '../../../app/open-metadata.ts';
import { pipelineOfDataset } from '../../../runner/dataset-graph.ts';
import { computedFromStore, publishedNow } from '../../../runner/run-report.ts';
import { SluiceError } from '../../../util/errors.ts';
import { formatTable } from '../../../util/format-table.ts';
import type { CliContext } from '../cli-context.ts';
import { positiveInt } from '../parse-options.ts';

// Reads of what ran and what is published: metadata only (the store and the warehouse's catalog),
// so they neither load an engine nor need the warehouse file, and they create nothing.

export interface RunsOptions {
  readonly pipeline?: string;
  readonly limit: string;
}

/** `sluice runs`: the most recent runs of the environment. */
export async function listRuns(cli: CliContext, o: RunsOptions): Promise<void> {
  const limit = positiveInt(o.limit, '--limit');
  await using md = await openMetadataReads(projectSettingsOrThrow(cli.globals().project), cli.globals().env);
  const runs = await md.store.runs.list({ pipeline: o.pipeline, environment: md.environment, limit });
  cli.out({
    json: runs,
    text: runs.length === 0
      ? `no runs${o.pipeline ? ` of ${o.pipeline}` : ''} in ${md.environment} yet`
      : formatTable(runs.map((r) => ({ id: r.id, pipeline: r.pipeline, partition: r.partition, env: r.environment, status: r.status, actor: r.actor, started: r.startedAt, finished: r.finishedAt ?? '', error: r.error ?? '' }))),
  });
}

/** `sluice run-show ID`: one run's record, what it computed, and what its partitions show now. */
export async function showRun(cli: CliContext, id: string): Promise<void> {
  const runId = positiveInt(id, 'run id');
  await using md = await openMetadataReads(await loadProjectForMetadata(cli.globals().project), cli.globals().env);
  const run = await md.store.runs.get(runId);
  if (!run) throw new SluiceError('NOT_FOUND', `no run ${id}`);
  const steps = await md.store.runs.steps(run.id);
  const catalog = await md.catalogFor(run.environment);
  const computed = computedFromStore(run, steps, catalog ? await catalog.outputVersions({ runId: run.id }) : []);
  const now = catalog ? await publishedNow(md.project, catalog, run) : [];
  const pinned = Object.values(run.flags.exposures).flatMap((e) => (e.rollout ? [`${e.step}: rollout ${e.rollout}`] : []));
  const text = [
    `run ${run.id}: ${run.pipeline} partition ${run.partition} in ${run.environment}`,
    `status: ${run.status}${run.error ? ` (${run.error})` : ''}`,
    `actor: ${run.actor}   started: ${run.startedAt}   finished: ${run.finishedAt ?? '-'}   engine: ${run.engine}`,
    ...(pinned.length ? [`pinned to: ${pinned.join(', ')}`] : []),
    '',
    'artifacts:',
    ...Object.entries(run.artifacts).map(([s, a]) => `  ${s} ${a.version} ${a.hash.slice(0, 12)}${a.candidate ? ` + candidate ${a.candidate.version} ${a.candidate.hash.slice(0, 12)} at ${a.candidate.percent} %` : ''}`),
    '',
    formatTable(steps.map((s) => ({ step: s.step, version: s.version, rows_in: s.rowsIn, rows_out: s.rowsOut, ms: Math.round(s.durationMs), status: s.status, output: s.outputVersionId ?? '', error: s.error ?? '' }))),
    '',
    'computed:',
    formatTable(computed.map((c) => ({ step: c.step, as: c.role, version: c.stepVersion, rows: c.rows, output: c.id }))),
    '',
    ...run.published.map((p) => `published ${p}`),
    ...now.map((n) => `now ${n.dataset} ${n.partition} shows ${n.shows}${n.byThisRun ? ' (this run)' : ` (published by ${n.since?.runId ? `run ${n.since.runId}` : n.since?.actor ?? '?'}${n.since?.reason ? `: ${n.since.reason}` : ''})`}`),
  ];
  cli.out({ json: { ...run, steps, computed, now }, text: text.join('\n') });
}

export interface PublicationsOptions {
  readonly partition?: string;
}

/** `sluice publications DATASET`: what each partition shows now, or one partition's history. */
export async function listPublications(cli: CliContext, dataset: string, o: PublicationsOptions): Promise<void> {
  await using md = await openMetadataReads(await loadProjectForMetadata(cli.globals().project), cli.globals().env);
  const catalog = await md.catalogFor(md.environment);
  const rows = !catalog ? [] : o.partition ? await catalog.publicationHistory(dataset, o.partition) : await catalog.currentPublications(dataset);
  if (rows.length === 0 && !pipelineOfDataset(md.project, dataset)) throw new SluiceError('NOT_FOUND', `unknown dataset "${dataset}"`);
  // What each row shows in the project's terms: the step version, or the blend of a canary.
  const stepVersions = new Map<string, string>();
  for (const id of new Set(rows.map((p) => p.versionId))) stepVersions.set(id, (await catalog?.outputVersion(id))?.stepVersion ?? '(deleted by gc)');
  cli.out({
    json: rows.map((p) => ({ ...p, stepVersion: stepVersions.get(p.versionId) })),
    text: rows.length === 0
      ? `nothing of ${dataset}${o.partition ? ` ${o.partition}` : ''} published in ${md.environment} yet`
      : formatTable(rows.map((p) => ({ seq: p.seq, partition: p.partition, shows: stepVersions.get(p.versionId) ?? '', version: p.versionId, previous: p.previousVersionId ?? '', at: p.publishedAt, actor: p.actor, reason: p.reason }))),
  });
}


/** `sluice queue [--batch B] [--state S]`: queued runs of the environment, oldest first, with who holds each and since when. */
export async function listQueue(cli: CliContext, o: { batch?: string; state?: string }): Promise<void> {
  const states = ['queued', 'claimed', 'done', 'failed'] as const;
  const state = o.state === undefined ? undefined : states.find((s) => s === o.state);
  if (o.state !== undefined && !state) throw new SluiceError('USAGE', `--state takes one of ${states.join(', ')} (got ${JSON.stringify(o.state)})`, { field: '--state' });
  await using md = await openMetadataReads(projectSettingsOrThrow(cli.globals().project), cli.globals().env);
  const items = (await md.store.queue.list({ ...(o.batch ? { batch: o.batch } : {}), ...(state ? { state } : {}) })).filter((i) => i.environment === md.environment);
  cli.out({
    json: items,
    text: items.length === 0
      ? `nothing queued in ${md.environment}`
      : formatTable(items.map((i) => ({ item: i.id, pipeline: i.pipeline, partition: i.partition, state: i.state, claims: i.token, worker: i.worker ?? '', lease_until: i.leaseUntil ?? '', run: i.runId ?? '', error: i.error ?? '', batch: i.batch.slice(0, 8) }))),
  });
}
