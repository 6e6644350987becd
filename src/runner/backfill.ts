import { DAILY, listedPartitions, partitionsBetween, type Partitioning } from '../config/partitioning.ts';
import { SluiceError, messageOf, type ErrorCode } from '../util/errors.ts';
import { runPipeline, type RunnerDeps, type RunRequest, type RunResult } from './run-pipeline.ts';
import type { DispatchOutcome } from './rollouts/rollout-service.ts';
import { rolloutReaction, type RolloutReaction } from './run-report.ts';

export interface BackfillItem {
  readonly partition: string;
  readonly ok: boolean;
  readonly runId: number | null;
  /** Rows published per dataset. */
  readonly rows: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly error?: string;
  readonly errorCode?: ErrorCode;
  /** What the batch made rollouts do (roll back, pause). */
  readonly rollouts?: RolloutReaction;
}

/** Every day from `from` to `to`, both included (YYYY-MM-DD). */
export function dailyPartitions(from: string, to: string): string[] {
  return partitionsBetween(DAILY, from, to);
}

/**
 * The partitions a backfill walks: `--from/--to` for time partitions, `--partitions a,b` for any,
 * nothing for a categorical pipeline (every declared value) or an unpartitioned one (one run: it
 * is recomputed once per backfill, not once per partition of its upstream).
 */
export function backfillPartitions(p: Partitioning, o: { readonly from?: string | undefined; readonly to?: string | undefined; readonly partitions?: string | undefined }): string[] {
  if (o.partitions !== undefined && (o.from !== undefined || o.to !== undefined)) throw new SluiceError('USAGE', 'give --from/--to or --partitions, not both', { field: '--partitions' });
  if ((o.from === undefined) !== (o.to === undefined)) throw new SluiceError('USAGE', `${o.from === undefined ? '--from' : '--to'} is missing: a range takes both`, { field: o.from === undefined ? '--from' : '--to' });
  if (o.from !== undefined && o.to !== undefined) return partitionsBetween(p, o.from, o.to);
  const listed = o.partitions?.split(',').map((v) => v.trim()).filter((v) => v !== '');
  return listedPartitions(p, listed);
}

/** Runs partitions one after another; a failed partition is reported and the rest still run. */
export async function backfill(
  deps: RunnerDeps & { readonly runOne?: (req: RunRequest) => Promise<{ result: RunResult; rollouts: readonly DispatchOutcome[] }> },
  req: { pipeline: string; partitions: readonly string[]; environment: string; actor: string; stopOnError?: boolean },
  onItem?: (item: BackfillItem, done: number, total: number) => void,
): Promise<BackfillItem[]> {
  const items: BackfillItem[] = [];
  for (const partition of req.partitions) {
    const started = performance.now();
    let item: BackfillItem;
    try {
      const one: RunRequest = { pipeline: req.pipeline, partition, environment: req.environment, actor: req.actor };
      const { result: r, rollouts } = deps.runOne ? await deps.runOne(one) : { result: await runPipeline(deps, one), rollouts: [] };
      const rows: Record<string, number> = {};
      for (const p of r.publications) rows[p.dataset] = r.steps.find((s) => s.output?.id === p.versionId)?.rowsOut ?? 0;
      item = { partition, ok: true, runId: r.run.id, rows, seconds: (performance.now() - started) / 1000, rollouts: rolloutReaction(rollouts) };
    } catch (e) {
      if (e instanceof SluiceError && (e.code === 'USAGE' || e.code === 'CONFIG_INVALID')) throw e;
      item = { partition, ok: false, runId: null, rows: {}, seconds: (performance.now() - started) / 1000, error: messageOf(e), ...(e instanceof SluiceError ? { errorCode: e.code } : {}) };
    }
    items.push(item);
    onItem?.(item, items.length, req.partitions.length);
    if (!item.ok && req.stopOnError) break;
  }
  return items;
}
