/**
 * Evidence the runner gathers after each batch and hands to the controller inside a
 * `batch_completed` event. Counts, shares and statistics only, never rows. Shares are 0..1.
 */

/** One check or contract result on the candidate output (from the quality module). */
export type CheckResult = {
  readonly name: string;
  readonly success: boolean;
  readonly severity: 'error' | 'warn';
  readonly observed?: number;
  readonly message?: string;
};

/** Per-column comparison of candidate against baseline, plus drift statistics where profiled. */
export type ColumnDiff = {
  readonly column: string;
  /** Share of matched rows whose value in this column differs. */
  readonly mismatchShare: number;
  /** Population stability index of the column's distribution, candidate vs baseline. */
  readonly psi?: number;
  /** Two-sample Kolmogorov–Smirnov statistic D (0..1). */
  readonly ks?: number;
};

/** The diff of one batch: baseline and candidate outputs joined on the step's key. */
export type DiffSummary = {
  readonly rowsBaseline: number;
  readonly rowsCandidate: number;
  /** Rows present on both sides whose values differ in any column. */
  readonly rowsChanged: number;
  readonly rowsOnlyBaseline: number;
  readonly rowsOnlyCandidate: number;
  readonly columns: readonly ColumnDiff[];
};

/**
 * Named metric values for one batch, e.g. `row_count`, `null_rate.amount`, `duration_ms`,
 * `error_rate`, `freshness_s`. Names are free; gates refer to them.
 */
export type MetricValues = Readonly<Record<string, number>>;

export type BatchMetrics = { readonly baseline: MetricValues; readonly candidate: MetricValues };

/** A flagged (or not) anomaly on a metric of the candidate output. */
export type AnomalyResult = {
  readonly metric: string;
  readonly flagged: boolean;
  readonly score?: number;
  readonly expected?: number;
  readonly actual?: number;
  readonly message?: string;
};

export type BatchEvidence = {
  readonly checks?: readonly CheckResult[];
  readonly diff?: DiffSummary;
  readonly metrics?: BatchMetrics;
  readonly anomalies?: readonly AnomalyResult[];
};

/** A completed batch as the controller remembers it. */
export type BatchRecord = {
  readonly runId: string;
  readonly environment: string;
  /** Stage id the run's flags were pinned to at its start. */
  readonly stage: string;
  readonly partition: string;
  /** ISO time the controller saw it complete. */
  readonly at: string;
  readonly success: boolean;
  readonly evidence: BatchEvidence;
};

/** What another rollout looks like, for dependency gates (read from the store by the adapter). */
export type UpstreamRollout = {
  readonly state: string;
  /** `ENV/STAGE` ids it has entered so far. */
  readonly reached: readonly string[];
};

export type RecentTransition = { readonly rollout: string; readonly environment: string; readonly at: string };

/**
 * Facts from outside this rollout that the adapter reads before calling `reduce`: other
 * rollouts, dataset freshness, and recent stage transitions (for staggering).
 */
export type Observations = {
  readonly rollouts?: Readonly<Record<string, UpstreamRollout>>;
  readonly datasets?: Readonly<Record<string, { readonly publishedAt: string }>>;
  readonly recentTransitions?: readonly RecentTransition[];
};

export type Approval = { readonly actor: string; readonly at: string; readonly reason?: string };

/** Everything a gate may look at, assembled by the reducer. */
export type GateContext = {
  readonly now: Date;
  /** Batches of the current stage since its evidence window opened, oldest first. */
  readonly batches: readonly BatchRecord[];
  /** When the stage's evidence window opened (stage entry or the last resume). */
  readonly windowStart: string;
  readonly startedBy?: string;
  readonly approvals: readonly Approval[];
  readonly runInFlight: boolean;
  readonly observed?: Observations;
};
