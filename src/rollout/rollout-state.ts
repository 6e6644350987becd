import type { Approval, BatchRecord } from './gate-evidence.ts';
import type { RollbackPlan } from './plan-rollback.ts';
import type { Exposure } from './rollout-plan.ts';

/** Where a rollout is: environment and stage, by index into the plan and by name. */
export type StagePosition = {
  readonly env: number;
  readonly stage: number;
  readonly environment: string;
  readonly stageId: string;
};

/** What a run published for one partition, as reported in `batch_completed`. */
export type Publication = {
  readonly dataset: string;
  readonly partition: string;
  /** The output version consumers now read. */
  readonly outputVersion: string;
  /** The baseline (control) output version computed in the same run. */
  readonly baselineOutputVersion: string;
  /** True when the published output carries any candidate rows. */
  readonly candidateRows: boolean;
};

/** A candidate-bearing output this rollout published for a partition, with the baseline of the same run. */
export type CandidatePublication = { readonly outputVersion: string; readonly baselineOutputVersion: string; readonly runId: string };

/**
 * The controller's view of the latest publication of a partition it has seen, and every
 * candidate-bearing output it ever published there (any of them may be showing again after a
 * manual republish; a rollback restores whichever is).
 */
export type PublishedPartition = Publication & {
  readonly environment: string;
  readonly runId: string;
  readonly at: string;
  readonly candidates?: readonly CandidatePublication[];
};

export type InFlightRun = {
  readonly runId: string;
  readonly environment: string;
  readonly partition: string;
  /** Stage id the run pinned its flags to, when the runner says. */
  readonly stage?: string;
  readonly startedAt: string;
};

/** A manual or automatic move that waits for approvals (or, when paused, resumes to). */
export type PendingMove = {
  /** The stage to enter, or `promoted` to finish. */
  readonly target: StagePosition | 'promoted';
  /** True when an operator's `promote` asked for it: the current stage's gates are skipped. */
  readonly override: boolean;
};

export type RolloutCommon = {
  /** The plan's name. */
  readonly rollout: string;
  /**
   * This attempt of the plan: its name for the first, `name#2`, `name#3`… for retries. Flag states
   * the rollout sets and every run and publication they produce carry it, so a rollout acts only
   * on its own data.
   */
  readonly id: string;
  readonly startedBy?: string;
  readonly startedAt?: string;
  /** Current stage; absent before the first stage is entered. */
  readonly position?: StagePosition;
  readonly stageEnteredAt?: string;
  /** Gates judge batches completed since this time (stage entry or last resume). */
  readonly windowStart?: string;
  /** Batches of the current stage, oldest first (bounded by config.maxBatchesKept). */
  readonly batches: readonly BatchRecord[];
  /** Approvals toward the next stage transition; cleared when a stage is entered. */
  readonly approvals: readonly Approval[];
  readonly inFlight: readonly InFlightRun[];
  /** Latest publication per (environment, dataset, partition) that this rollout has seen. */
  readonly published: readonly PublishedPartition[];
  /** What the controller has set each environment's flag to (absent = baseline). */
  readonly exposures: Readonly<Record<string, Exposure>>;
  /** `ENV/STAGE` ids entered so far, in order. */
  readonly reached: readonly string[];
  readonly updatedAt?: string;
};

/**
 * The rollout's state. `pending`: planned, not started. `progressing`: in a stage, gates judged
 * after each batch and on ticks. `awaiting_approval`: the next move is decided but needs
 * approvals. `paused`: a gate failed (on_fail: fail) or someone paused it; nothing moves until
 * resume. `rolling_back`: rollback decided and flags already back at baseline, waiting for runs
 * that were in flight to finish before republishing. `promoted`: finished, candidate everywhere.
 * `aborted`: stopped, flags back at baseline, published data left as it is (a rollback may still
 * follow). `rolled_back`: flags at baseline and every touched partition republished from baseline.
 */
export type RolloutState = RolloutCommon &
  (
    | { readonly kind: 'pending' }
    | { readonly kind: 'progressing' }
    | ({ readonly kind: 'awaiting_approval' } & PendingMove)
    | { readonly kind: 'paused'; readonly reason: string; readonly resumeTo: 'progressing' | 'awaiting_approval'; readonly move?: PendingMove }
    | { readonly kind: 'rolling_back'; readonly reason: string; readonly requestedBy: string; readonly waitingFor: readonly string[] }
    | { readonly kind: 'promoted' }
    | { readonly kind: 'aborted'; readonly reason: string }
    | { readonly kind: 'rolled_back'; readonly reason: string; readonly rollback: RollbackPlan }
  );

export type StateKind = RolloutState['kind'];

export const TERMINAL_STATES: readonly StateKind[] = ['promoted', 'rolled_back'];
/** States in which a rollout holds its steps and datasets (for conflict checks). */
export const ACTIVE_STATES: readonly StateKind[] = ['progressing', 'awaiting_approval', 'paused', 'rolling_back'];

export function initialRolloutState(rollout: string, id: string = rollout): RolloutState {
  return { kind: 'pending', rollout, id, batches: [], approvals: [], inFlight: [], published: [], exposures: {}, reached: [] };
}

/** The id of attempt `n` (1-based) of a plan. */
export function rolloutId(name: string, attempt: number): string {
  return attempt <= 1 ? name : `${name}#${attempt}`;
}

/** States after which a plan may be started again, as a new attempt. */
export const ENDED_STATES: readonly StateKind[] = ['promoted', 'aborted', 'rolled_back'];

export function positionKey(p: StagePosition | undefined): string | undefined {
  return p ? `${p.environment}/${p.stageId}` : undefined;
}
