import { type AnomalyOptions, type AnomalyResult, detectAnomaly, median } from './detect-anomaly.ts';
import type { ColumnProfile } from './profile-table.ts';

/**
 * The metrics of a published output that are watched for anomalies against the dataset's own
 * history: `row_count` and `null_rate.<column>` for every column (the names rollout gates use).
 */
export function watchedMetrics(p: { readonly rowCount: number; readonly columns: readonly Pick<ColumnProfile, 'name' | 'nullRate'>[] }): Record<string, number> {
  const out: Record<string, number> = { row_count: p.rowCount };
  for (const c of p.columns) out[`null_rate.${c.name}`] = c.nullRate;
  return out;
}

/** One earlier profile of the dataset, as stored: its partition, when it was taken, its metrics. */
export interface ProfilePoint {
  readonly partition: string;
  /** When the profile was taken (ISO). */
  readonly at: string;
  /** A tie-breaker between profiles of one partition taken at the same time (the run id). */
  readonly order?: number;
  readonly metrics: Readonly<Record<string, number>>;
}

/** An anomaly verdict on one metric; `flagged`, `expected`, `actual` are what gate evidence reads. */
export interface ProfileAnomaly extends AnomalyResult {
  readonly metric: string;
  readonly flagged: boolean;
  /** The history's median, or null without enough history. */
  readonly expected: number | null;
  readonly actual: number;
  readonly message: string;
}

export interface ProfileAnomalyOptions extends Omit<AnomalyOptions, 'flatTolerance'> {
  /** A null rate may move this much (absolute) from a perfectly flat history and stay normal (default 0.001). */
  readonly rateTolerance?: number;
  /** A row count may move this share of a perfectly flat history's level and stay normal (default 0.01). */
  readonly countTolerance?: number;
}

/**
 * Judges the watched metrics of a new profile against the dataset's history with the robust z-score
 * of `detectAnomaly` (median and MAD; threshold 3.5; at least 7 points). The history holds one point
 * per partition, the latest profile of each, never the new profile's own partition (re-running a
 * partition must not vote on itself). A point's time is its partition when the partition is a
 * date (so `day_of_week` seasonality follows the data's calendar, not the run's), else when it
 * was profiled. A perfectly flat history (MAD and mean deviation 0) tolerates small moves: 0.001
 * for null rates, 1 % of the level for row counts.
 */
export function detectProfileAnomalies(history: readonly ProfilePoint[], current: ProfilePoint, options: ProfileAnomalyOptions = {}): ProfileAnomaly[] {
  const latest = new Map<string, ProfilePoint>();
  for (const p of history) {
    if (p.partition === current.partition) continue;
    const seen = latest.get(p.partition);
    if (!seen || p.at > seen.at || (p.at === seen.at && (p.order ?? 0) > (seen.order ?? 0))) latest.set(p.partition, p);
  }
  const points = [...latest.values()];
  const when = (p: ProfilePoint): string => (/^\d{4}-\d{2}-\d{2}$/.test(p.partition) ? `${p.partition}T00:00:00Z` : p.at);
  const { rateTolerance = 0.001, countTolerance = 0.01, ...anomaly } = options;
  return Object.entries(current.metrics).map(([metric, value]): ProfileAnomaly => {
    const series = points.flatMap((p) => (typeof p.metrics[metric] === 'number' ? [{ at: when(p), value: p.metrics[metric] as number }] : []));
    const level = series.length > 0 ? Math.abs(median(series.map((s) => s.value))) : 0;
    const flatTolerance = metric === 'row_count' ? countTolerance * level : rateTolerance;
    const r = detectAnomaly(series, { at: when(current), value }, { ...anomaly, flatTolerance });
    return { ...r, metric, flagged: r.verdict === 'anomaly', expected: r.median, actual: value, message: `${metric}: ${r.verdict === 'anomaly' ? 'ANOMALY' : r.verdict.replace('_', ' ')}: ${r.reason}` };
  });
}
