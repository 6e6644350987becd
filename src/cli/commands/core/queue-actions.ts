import { randomUUID } from 'node:crypto';
import { effectiveSettings } from '../../../app/adapters.ts';
import { currentActor, openWorkspace } from '../../../app/open-workspace.ts';
import { resolvePartition } from '../../../config/partitioning.ts';
import { requirePipeline } from '../../../runner/run-pipeline.ts';
import { queueItems, work } from '../../../runner/worker.ts';
import { selectSteps } from '../../../runner/select-steps.ts';
import { SluiceError, messageOf } from '../../../util/errors.ts';
import { formatTable } from '../../../util/format-table.ts';
import { processOwner } from '../../../util/lease.ts';
import { parseDuration } from '../../../rollout/parse-duration.ts';
import type { CliContext } from '../cli-context.ts';
import { positiveInt } from '../parse-options.ts';

/**
 * `run --queue` / `backfill --queue`: the runs are checked as a run would check them (project,
 * pipeline, partitions, selection), then enqueued as one batch for `sluice worker`; nothing runs here.
 */
export async function enqueueRuns(cli: CliContext, pipeline: string, partitions: (p: ReturnType<typeof requirePipeline>) => string[], select?: string): Promise<void> {
  await using ws = await openWorkspace(cli.globals().project, cli.globals().env, { check: true });
  const p = requirePipeline(ws.project, pipeline);
  const list = partitions(p);
  for (const v of list) resolvePartition(p.partitioning, v);
  if (select !== undefined) selectSteps(p, select);
  const batch = randomUUID();
  const items = await ws.store.queue.enqueue(queueItems(pipeline, list, ws.environment, currentActor(), batch, select), ws.clock.now());
  cli.out({
    json: { batch, items },
    text: [`queued ${items.length} run(s) of ${pipeline} in ${ws.environment} as batch ${batch}: items ${items.map((i) => i.id).join(', ')}`, `a worker runs them: npx sluice --project ${cli.globals().project} ${ws.environment !== ws.project.defaultEnvironment ? `--env ${ws.environment} ` : ''}worker --drain`].join('\n'),
  });
}

export interface WorkerCliOptions {
  readonly drain: boolean;
  readonly maxItems?: string;
  readonly lease: string;
  readonly poll: string;
}

/** `sluice worker`: claims and runs queued runs of this environment until told to stop (or, with --drain, until none is left). */
export async function runWorker(cli: CliContext, o: WorkerCliOptions): Promise<void> {
  const leaseMs = durationOption(o.lease, '--lease');
  const pollMs = durationOption(o.poll, '--poll');
  const maxItems = o.maxItems !== undefined ? positiveInt(o.maxItems, '--max-items') : undefined;
  let ws;
  try {
    ws = await openWorkspace(cli.globals().project, cli.globals().env, { recover: true, check: true, maintain: true });
  } catch (e) {
    if (/lock/i.test(messageOf(e))) throw severalWorkers(cli.globals().env ?? 'the default environment', e);
    throw e;
  }
  await using _ws = ws;
  const me = processOwner();
  // One DuckDB file cannot be shared: a second worker (or any writer) of this environment must wait for the warehouse, so refuse early and say why.
  if (effectiveSettings(ws.project).warehouse.kind === 'duckdb') {
    const others = (await ws.store.queue.list({ state: 'claimed' })).filter((i) => i.environment === ws.environment && i.worker !== me && i.leaseUntil !== null && Date.parse(i.leaseUntil) > ws.clock.now().getTime());
    if (others.length > 0) throw severalWorkers(ws.environment, undefined, others[0]?.worker ?? undefined);
  }
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const worked = await work({ store: ws.store, clock: ws.clock, run: (req) => ws.run(req), log: (line) => process.stderr.write(`${line}\n`) }, { worker: me, environment: ws.environment, drain: o.drain, ...(maxItems !== undefined ? { maxItems } : {}), leaseMs, pollMs, signal: stop.signal });
    const failed = worked.filter((w) => w.outcome === 'failed');
    cli.out({
      json: { worker: me, items: worked },
      text: worked.length === 0 ? `worker ${me}: nothing queued in ${ws.environment}` : [formatTable(worked.map((w) => ({ item: w.item, pipeline: w.pipeline, partition: w.partition, claim: w.token, outcome: w.outcome, run: w.runId ?? '', error: w.error ?? '' }))), '', `worker ${me}: ${worked.length} item(s), ${failed.length} failed`].join('\n'),
      exitCode: failed.length > 0 ? 5 : 0,
    });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

function durationOption(text: string, field: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new SluiceError('USAGE', `${field} takes a duration such as 30s or 2m (got ${JSON.stringify(text)})`, { field });
  return ms;
}

function severalWorkers(environment: string, cause?: unknown, other?: string): SluiceError {
  return new SluiceError(
    'CONFLICT',
    `another worker${other ? ` (${other})` : ''} is working on ${environment}, whose warehouse is one DuckDB file that one process writes at a time: several workers need the PostgreSQL warehouse (warehouse: { kind: postgres, url: ... } or SLUICE_WAREHOUSE_URL)`,
    { field: 'warehouse' },
    [],
    cause ? { cause } : undefined,
  );
}

