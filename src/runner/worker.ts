import type { MetadataStore, NewQueueItem, QueueItem } from '../store/metadata-store.ts';
import { publishedByEarlierClaim } from '../engine/publish-fence.ts';
import type { Clock } from '../util/clock.ts';
import { messageOf } from '../util/errors.ts';
import type { RunRequest, RunResult } from './run-pipeline.ts';

/**
 * A worker: claims queued runs from the shared store one at a time, runs each as `sluice run`
 * would (rollouts see the batch), and records the outcome. The claim is a lease renewed while the
 * run lasts; a worker that stops renewing (killed, stopped, cut off) loses the item to the next
 * claim, and its fencing token goes stale: the store refuses its late heartbeat and finish, the
 * warehouse its late publish. Execution is at least once; publishing is once per queue item.
 */
export interface WorkerDeps {
  readonly store: MetadataStore;
  readonly clock: Clock;
  /** Runs one queued request (the workspace's run, with rollouts). */
  readonly run: (req: RunRequest) => Promise<{ readonly result: RunResult }>;
  readonly log?: (line: string) => void;
}

export interface WorkerOptions {
  /** Who claims: recorded with each claim (`host:pid` by default at the CLI). */
  readonly worker: string;
  /** Only items of this environment. */
  readonly environment?: string;
  /**
   * Stop when the environment's queue is empty: nothing queued and nothing claimed by anyone (an
   * item another worker holds may come back when its lease runs out, so a draining worker waits
   * for it), instead of waiting for more work.
   */
  readonly drain: boolean;
  /** Stop after this many items. */
  readonly maxItems?: number;
  readonly leaseMs: number;
  readonly pollMs: number;
  /** Stops the loop between items (SIGTERM at the CLI): the item in hand is finished first. */
  readonly signal?: AbortSignal;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface WorkedItem {
  readonly item: number;
  readonly partition: string;
  readonly pipeline: string;
  readonly token: number;
  /** done / failed as recorded; `lost`: another claim took the item meanwhile, so nothing of this one was recorded. */
  readonly outcome: 'done' | 'failed' | 'lost';
  readonly runId: number | null;
  readonly error?: string;
}

export async function work(deps: WorkerDeps, o: WorkerOptions): Promise<WorkedItem[]> {
  const out: WorkedItem[] = [];
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  while (!o.signal?.aborted && (o.maxItems === undefined || out.length < o.maxItems)) {
    const now = deps.clock.now();
    const item = await deps.store.queue.claim(o.worker, now, new Date(now.getTime() + o.leaseMs), o.environment ? { environment: o.environment } : undefined);
    if (!item) {
      if (o.drain && !(await unfinished(deps, o.environment))) break;
      await sleep(o.pollMs);
      continue;
    }
    out.push(await workOn(deps, o, item));
  }
  return out;
}

/** Whether items of the environment are still queued or held by a worker. */
async function unfinished(deps: WorkerDeps, environment: string | undefined): Promise<boolean> {
  const open = [...(await deps.store.queue.list({ state: 'queued' })), ...(await deps.store.queue.list({ state: 'claimed' }))];
  return open.some((i) => environment === undefined || i.environment === environment);
}

async function workOn(deps: WorkerDeps, o: WorkerOptions, item: QueueItem): Promise<WorkedItem> {
  const base = { item: item.id, partition: item.partition, pipeline: item.pipeline, token: item.token };
  let lost = false;
  const renew = async (): Promise<void> => {
    if (!(await deps.store.queue.heartbeat(item.id, item.token, new Date(deps.clock.now().getTime() + o.leaseMs)))) lost = true;
  };
  const timer = setInterval(() => void renew().catch(() => undefined), Math.max(50, o.leaseMs / 3));
  timer.unref();
  let runId: number | null = null;
  let error: string | undefined;
  try {
    const req: RunRequest = {
      pipeline: item.pipeline,
      partition: item.partition,
      environment: item.environment,
      actor: item.actor,
      ...(item.select !== null ? { select: item.select } : {}),
      fence: { item: String(item.id), token: item.token },
      onStarted: (run) => {
        runId = run.id;
      },
    };
    const { result } = await deps.run(req);
    runId = result.run.id;
  } catch (e) {
    error = messageOf(e);
    // Published by an earlier claim of the item (which died before it said so): the work is done.
    if (publishedByEarlierClaim(e)) error = undefined;
  } finally {
    clearInterval(timer);
  }
  const state = error === undefined ? 'done' : 'failed';
  const recorded = await deps.store.queue.finish(item.id, item.token, { state, runId, error: error ?? null }, deps.clock.now());
  if (!recorded || lost) {
    deps.log?.(`queue item ${item.id} (${item.pipeline} ${item.partition}): this worker's claim ${item.token} was taken over; its outcome is not recorded`);
    return { ...base, outcome: 'lost', runId, ...(error ? { error } : {}) };
  }
  return { ...base, outcome: state, runId, ...(error ? { error } : {}) };
}

/** The queue items of a run or backfill request, enqueued together as one batch. */
export function queueItems(pipeline: string, partitions: readonly string[], environment: string, actor: string, batch: string, select?: string): NewQueueItem[] {
  return partitions.map((partition) => ({ pipeline, partition, environment, actor, select: select ?? null, batch }));
}
