/**
 * How a run computes and publishes one step, decided once at the run's start from the pinned flag
 * snapshot:
 * - `single`: one version computes and publishes (no flag, flag disabled, or a kill switch on).
 * - `sliced`: baseline and candidate both compute over the full input; the published output is the
 *   baseline's rows whose slice-key bucket is outside `percent` plus the candidate's rows inside it.
 *   `percent` 0 is a shadow run (baseline published, candidate kept for diffing); 100 publishes the
 *   candidate while the baseline stays at hand for an instant rollback.
 *
 * `rollout` is the rollout attempt whose flag state the run pinned, when a rollout set it.
 */
export type StepExposure =
  | { readonly kind: 'single'; readonly step: string; readonly version: string; readonly flag?: string; readonly rollout?: string; readonly reason: string }
  | {
      readonly kind: 'sliced';
      readonly step: string;
      readonly baseline: string;
      readonly candidate: string;
      readonly percent: number;
      /** Salt of the bucket hash (the strategy's group id). */
      readonly salt: string;
      readonly sliceKey?: string;
      readonly flag: string;
      readonly rollout?: string;
      readonly reason: string;
    };
