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

export interface ProfileAnomalyOptions extends Omit<AnomalyOptions, 'flatTolerance' | 'minChange'> {
  /** A null rate may move this much (absolute) from a perfectly flat history and stay normal (default 0.001). */
  readonly rateTolerance?: number;
  /** A row count may move this share of a perfectly flat history's level and stay normal (default 0.01). */
  readonly countTolerance?: number;
  /** Fewest rows (the new partition's, or the history's median) for any verdict (default 30). */
  readonly minRows?: number;
  /** A row count at most this many rows from the history's median is normal (default 5). */
  readonly minRowChange?: number;
}

/** The defaults of the minimum volume, also shown by `sluice profile`. */
export const MIN_ROWS = 30;
export const MIN_ROW_CHANGE = 5;

/**
 * Judges the watched metrics of a new profile against the dataset's history with the robust z-score
 * of `detectAnomaly` (median and MAD; threshold 3.5; at least 7 points). The history holds one point
 * per partition, the latest profile of each, never the new profile's own partition (re-running a
 * partition must not vote on itself). A point's time is its partition when the partition is a
 * date (so `day_of_week` seasonality follows the data's calendar, not the run's), else when it
 * was profiled. A perfectly flat history (MAD and mean deviation 0) tolerates small moves: 0.001
 * for null rates, 1 % of the level for row counts.
 *
 * A minimum volume as well as a minimum history: on tiny data the z-score flags noise (seen: a
 * row count of 2 against a median of 1, on seven partitions). So no metric is judged when both the
 * new partition and the history's median hold fewer than `minRows` rows (30): the verdict is
 * `insufficient_volume`, never flagged, as `insufficient_history` is. The larger of the two
 * counts, so a collapse from 1000 rows to 0 and a jump from 1 row to 1000 are still anomalies.
 * And a row count within `minRowChange` rows (5) of the median is normal whatever its score.
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
  const { rateTolerance = 0.001, countTolerance = 0.01, minRows = MIN_ROWS, minRowChange = MIN_ROW_CHANGE, ...anomaly } = options;
  const volume = volumeOf(points, current);
  return Object.entries(current.metrics).map(([metric, value]): ProfileAnomaly => {
    const series = points.flatMap((p) => (typeof p.metrics[metric] === 'number' ? [{ at: when(p), value: p.metrics[metric] as number }] : []));
    const level = series.length > 0 ? Math.abs(median(series.map((s) => s.value))) : 0;
    const rows = metric === 'row_count';
    const flatTolerance = rows ? countTolerance * level : rateTolerance;
    const judged = detectAnomaly(series, { at: when(current), value }, { ...anomaly, flatTolerance, ...(rows ? { minChange: minRowChange } : {}) });
    const tooSmall = judged.verdict !== 'insufficient_history' && volume !== undefined && Math.max(volume.now, volume.median) < minRows;
    const r: AnomalyResult = tooSmall && volume
      ? { ...judged, verdict: 'insufficient_volume', reason: `${volume.now} row(s) now, median ${volume.median} in ${volume.points} earlier partition(s); need ${minRows} rows in either (${judged.reason})` }
      : judged;
    return { ...r, metric, flagged: r.verdict === 'anomaly', expected: r.median, actual: value, message: `${metric}: ${r.verdict === 'anomaly' ? 'ANOMALY' : r.verdict.replace('_', ' ')}: ${r.reason}` };
  });
}

/** The row counts that decide whether there is enough data to judge: the new partition's and the history's median. */
function volumeOf(points: readonly ProfilePoint[], current: ProfilePoint): { now: number; median: number; points: number } | undefined {
  const now = current.metrics['row_count'];
  if (typeof now !== 'number') return undefined;
  const earlier = points.flatMap((p) => (typeof p.metrics['row_count'] === 'number' ? [p.metrics['row_count']] : []));
  return { now, median: earlier.length > 0 ? median(earlier) : 0, points: earlier.length };
}
