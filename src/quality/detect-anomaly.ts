/**
 * Flags a new value of a metric (a row count, a null rate, a mean) against its own history with a
 * robust z-score:  z = (value - median) / (1.4826 * MAD),  MAD = median(|x - median|).
 * 1.4826 makes MAD estimate the standard deviation of normal data, and median/MAD are not dragged
 * by the anomalies already in the history. When MAD is 0 (more than half the history identical),
 * the scale falls back to 1.2533 * mean absolute deviation; when that is 0 too (a flat series),
 * any value farther than `flatTolerance` from the flat level is an anomaly with an infinite score.
 * With `seasonality: 'day_of_week'` only history on the same UTC weekday as the new value counts.
 * A score says how unusual a move is for this series, not whether the move matters: `minChange`
 * keeps a move of a few units from counting as an anomaly however flat the series (a row count of
 * 2 against a steady 1 scores infinitely high, yet is one row).
 */
export interface MetricPoint {
  /** When the value was measured (ISO string or Date). */
  readonly at: string | Date;
  readonly value: number;
}

export interface AnomalyOptions {
  /** |z| above this is an anomaly (default 3.5, the usual cut-off for the modified z-score). */
  readonly threshold?: number;
  /** Fewest history points (after the seasonal filter) needed for a verdict (default 7). */
  readonly minHistory?: number;
  readonly seasonality?: 'none' | 'day_of_week';
  /** For a perfectly flat history: how far a value may move and still be normal (default 0). */
  readonly flatTolerance?: number;
  /** A value at most this far (absolute) from the median is normal whatever its score (default 0). */
  readonly minChange?: number;
}

/**
 * `insufficient_history`: too few earlier points to judge. `insufficient_volume`: the data is too
 * small for its metrics to mean much (set by `detectProfileAnomalies`, never by `detectAnomaly`).
 */
export type AnomalyVerdict = 'normal' | 'anomaly' | 'insufficient_history' | 'insufficient_volume';

export interface AnomalyResult {
  readonly verdict: AnomalyVerdict;
  readonly value: number;
  readonly median: number | null;
  readonly mad: number | null;
  /** The divisor used: 1.4826 * MAD, or its fallback. */
  readonly scale: number | null;
  readonly scaleMethod: 'mad' | 'mean_absolute_deviation' | 'flat' | null;
  readonly score: number | null;
  readonly threshold: number;
  readonly direction: 'high' | 'low' | null;
  readonly historyUsed: number;
  readonly seasonal: boolean;
  readonly reason: string;
}

export const MAD_SCALE = 1.4826;
export const MEAN_AD_SCALE = 1.2533;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function detectAnomaly(history: readonly MetricPoint[], current: MetricPoint, options: AnomalyOptions = {}): AnomalyResult {
  const threshold = options.threshold ?? 3.5;
  const minHistory = options.minHistory ?? 7;
  const seasonal = options.seasonality === 'day_of_week';
  const day = (p: MetricPoint): number => new Date(p.at).getUTCDay();
  const used = history.filter((p) => Number.isFinite(p.value) && (!seasonal || day(p) === day(current))).map((p) => p.value);
  const base = { value: current.value, threshold, historyUsed: used.length, seasonal };
  if (used.length < minHistory) {
    return {
      ...base,
      verdict: 'insufficient_history',
      median: null,
      mad: null,
      scale: null,
      scaleMethod: null,
      score: null,
      direction: null,
      reason: `${used.length} history point(s)${seasonal ? ' on the same weekday' : ''}; need ${minHistory}`,
    };
  }
  const med = median(used);
  const mad = median(used.map((x) => Math.abs(x - med)));
  const meanAd = used.reduce((s, x) => s + Math.abs(x - med), 0) / used.length;
  const dev = current.value - med;
  let scale: number;
  let scaleMethod: AnomalyResult['scaleMethod'];
  let score: number;
  if (mad > 0) {
    scale = MAD_SCALE * mad;
    scaleMethod = 'mad';
    score = dev / scale;
  } else if (meanAd > 0) {
    scale = MEAN_AD_SCALE * meanAd;
    scaleMethod = 'mean_absolute_deviation';
    score = dev / scale;
  } else {
    scale = 0;
    scaleMethod = 'flat';
    score = Math.abs(dev) <= (options.flatTolerance ?? 0) ? 0 : dev > 0 ? Infinity : -Infinity;
  }
  const minChange = options.minChange ?? 0;
  const small = Math.abs(dev) <= minChange;
  const anomaly = Math.abs(score) > threshold && !small;
  const direction = dev > 0 ? 'high' : dev < 0 ? 'low' : null;
  const scoreText = Number.isFinite(score) ? score.toFixed(2) : String(score);
  return {
    ...base,
    verdict: anomaly ? 'anomaly' : 'normal',
    median: med,
    mad,
    scale,
    scaleMethod,
    score,
    direction,
    reason: `value ${current.value} vs median ${med} of ${used.length}${seasonal ? ' same-weekday' : ''} points: robust z ${scoreText} (${scaleMethod} scale ${scale.toPrecision(4)}), threshold ${threshold}${small && Math.abs(score) > threshold ? `, but it moved ${Math.abs(dev)}, not more than ${minChange}` : ''}`,
  };
}
