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
  const re = /^\d{4}-\d{2}-\d{2}$/;
  if (!re.test(from) || !re.test(to)) throw new SluiceError('USAGE', `--from and --to take dates as YYYY-MM-DD (got ${from} and ${to})`);
  const a = Date.parse(`${from}T00:00:00Z`);
  const b = Date.parse(`${to}T00:00:00Z`);
  if (Number.isNaN(a) || Number.isNaN(b)) throw new SluiceError('USAGE', `not a date: ${Number.isNaN(a) ? from : to}`);
  if (b < a) throw new SluiceError('USAGE', `--to ${to} is before --from ${from}`);
  const out: string[] = [];
  for (let t = a; t <= b; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
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
