import type { RepublishItem, RerunItem } from './plan-rollback.ts';
import type { Exposure, StepRef } from './rollout-plan.ts';

/** One entry for the hash-chained audit log; the adapter adds the chain fields. */
export type AuditEntry = {
  readonly rollout: string;
  readonly at: string;
  /** A person, or `sluice` for automatic decisions. */
  readonly actor: string;
  readonly type: 'transition' | 'flag' | 'batch' | 'approval' | 'refused' | 'republish' | 'rerun';
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
};

/**
 * Effects the reducer asks for, as plain data. Adapters carry them out in the listed order:
 * flags first (so the next run pins the new exposure), then republish, then downstream re-runs;
 * notify and audit are observers and never change a decision.
 */
export type RolloutAction =
  /** Set the steps' flag in one environment. Affects runs that start afterwards only. */
  | {
      readonly kind: 'set_flag_exposure';
      readonly rollout: string;
      /** The attempt whose exposure this is: the flag state carries it, and so do the runs that pin it. */
      readonly rolloutId: string;
      readonly environment: string;
      readonly steps: readonly StepRef[];
      readonly baseline: string;
      readonly candidate: string;
      readonly exposure: Exposure;
      /** The stage entered, numbered within its environment: flag history says `stage 2 of 4`. */
      readonly stage?: FlagExposureStage;
      /** Why the exposure changed outside a stage: a promotion, an abort or a rollback. */
      readonly occasion?: FlagExposureOccasion;
    }
  /** Publish existing output versions again (atomically per partition); never deletes. */
  | { readonly kind: 'republish'; readonly rollout: string; readonly items: readonly RepublishItem[] }
  /** Re-run downstream datasets for these partitions, in the listed (dependency) order. */
  | { readonly kind: 'rerun_downstream'; readonly rollout: string; readonly items: readonly RerunItem[] }
  | { readonly kind: 'notify'; readonly rollout: string; readonly level: 'info' | 'warn' | 'error'; readonly message: string }
  | { readonly kind: 'audit'; readonly entry: AuditEntry };

/** A stage of a plan, as flag history names it: its id and its place among its environment's stages. */
export type FlagExposureStage = { readonly id: string; readonly number: number; readonly of: number };

export type FlagExposureOccasion = 'promoted' | 'aborted' | 'rolled_back';

export type ActionKind = RolloutAction['kind'];

/** The actor recorded for decisions the controller takes on its own. */
export const SYSTEM_ACTOR = 'sluice';
