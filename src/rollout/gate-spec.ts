/**
 * Gate definitions as written in a plan (normalised). Every gate has an `id` (unique in the plan),
 * a `kind`, and `onFail`: `fail` pauses the rollout and tells people, `rollback` reverts it.
 * Durations are milliseconds; shares are fractions in 0..1.
 */

export type OnFail = 'fail' | 'rollback';

type GateBase = { readonly id: string; readonly onFail: OnFail };

export type Severity = 'error' | 'warn';

/** Checks and contracts on the candidate output of the latest batch(es). */
export type ChecksGateSpec = GateBase & {
  readonly kind: 'checks';
  /** Only these checks count (all when absent); a listed check missing from the evidence fails. */
  readonly checks?: readonly string[];
  /** Lowest severity that fails the gate: `error` (default) ignores warnings. */
  readonly failOn: Severity;
  /** How many latest batches must be clean (default 1). */
  readonly window: number;
};

/** Candidate-vs-baseline diff and drift thresholds; absent thresholds are not checked. */
export type DiffGateSpec = GateBase & {
  readonly kind: 'diff';
  readonly maxChangedShare?: number;
  /** Per-column mismatch share: one number for every column, or per column (`*` = default). */
  readonly maxColumnMismatch?: Readonly<Record<string, number>>;
  readonly maxOnlyBaselineShare?: number;
  readonly maxOnlyCandidateShare?: number;
  readonly maxPsi?: number;
  readonly maxKs?: number;
  /** The worst of the last N batches is judged (default 1). */
  readonly window: number;
};

export type Direction = 'increase' | 'decrease' | 'either';

/** A bound on one metric of candidate against baseline, over the mean of the last N batches. */
export type MetricBound = {
  readonly metric: string;
  /** Which way of moving is bad (default either). */
  readonly direction: Direction;
  /** |cand - base| / |base| allowed in the bad direction. */
  readonly maxRelative?: number;
  /** |cand - base| allowed in the bad direction. */
  readonly maxAbsolute?: number;
};

export type MetricsGateSpec = GateBase & {
  readonly kind: 'metrics';
  readonly window: number;
  readonly bounds: readonly MetricBound[];
};

export type JudgeMetric = {
  readonly metric: string;
  readonly direction: Direction;
  /** Minimum relative shift of the mean in the bad direction that counts (default 0). */
  readonly effectSize: number;
  /** A failing critical metric fails the whole judgement. */
  readonly critical: boolean;
};

/** Automated canary analysis across batches: per metric Mann–Whitney U, then a score. */
export type JudgeGateSpec = GateBase & {
  readonly kind: 'judge';
  readonly metrics: readonly JudgeMetric[];
  /** Batches compared (latest N). */
  readonly window: number;
  /** Fewer batches than this: wait. */
  readonly minBatches: number;
  /** Significance level (default 0.05). */
  readonly alpha: number;
  /** Score (0..100) at or above which the judgement passes (default 95). */
  readonly passScore: number;
  /** Score at or above which it is marginal (wait for more data); below fails (default 75). */
  readonly marginalScore: number;
};

export type SoakGateSpec = GateBase & {
  readonly kind: 'soak';
  readonly minBatches: number;
  readonly minDurationMs: number;
};

export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7; // ISO: 1 = Monday

/** A weekly recurring slot, local to the gate's zone; `to` may be `24:00`. */
export type WeeklySlot = { readonly days: readonly Weekday[]; readonly from: string; readonly to: string };

export type FreezeWindow =
  | { readonly kind: 'range'; readonly from: string; readonly to: string }
  | ({ readonly kind: 'weekly' } & WeeklySlot)
  /** Every year from month-day to month-day (may wrap over new year), e.g. 12-20 .. 01-05. */
  | { readonly kind: 'annual'; readonly from: string; readonly to: string };

export type WindowGateSpec = GateBase & {
  readonly kind: 'window';
  /** IANA zone, e.g. Europe/Berlin. */
  readonly zone: string;
  /** Allowed slots; empty = always allowed (only freezes apply). */
  readonly allow: readonly WeeklySlot[];
  readonly freeze: readonly FreezeWindow[];
};

export type ApprovalGateSpec = GateBase & { readonly kind: 'approval'; readonly required: number };

export type DependencyGateSpec = GateBase & {
  readonly kind: 'dependency';
  /** Upstream rollout that must have reached `reached` (`ENV/STAGE` or `promoted`). */
  readonly rollout?: string;
  readonly reached?: string;
  /** Upstream dataset that must have been published within `maxAgeMs`. */
  readonly dataset?: string;
  readonly maxAgeMs?: number;
};

export type AnomalyGateSpec = GateBase & {
  readonly kind: 'anomaly';
  /** Guarded metric names (e.g. `row_count`, `null_rate.amount`); all when absent. */
  readonly metrics?: readonly string[];
  readonly window: number;
};

export type GateSpec =
  | ChecksGateSpec
  | DiffGateSpec
  | MetricsGateSpec
  | JudgeGateSpec
  | SoakGateSpec
  | WindowGateSpec
  | ApprovalGateSpec
  | DependencyGateSpec
  | AnomalyGateSpec;

export type GateKind = GateSpec['kind'];

export const GATE_KINDS: readonly GateKind[] = ['checks', 'diff', 'metrics', 'judge', 'soak', 'window', 'approval', 'dependency', 'anomaly'];
