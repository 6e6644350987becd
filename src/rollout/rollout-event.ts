import type { BatchEvidence } from './gate-evidence.ts';
import type { Publication } from './rollout-state.ts';

/**
 * Everything that can happen to a rollout. The runner sends run_started, batch_completed and
 * run_finished; a timer sends tick; people send start, approve, pause, resume, abort, rollback and
 * promote (always with an actor, and a reason for the state-changing ones).
 */
export type RolloutEvent =
  | { readonly kind: 'start'; readonly actor: string; readonly reason?: string }
  /** A run pinned its flags and began; transitions wait until it ends. */
  | { readonly kind: 'run_started'; readonly runId: string; readonly environment: string; readonly partition: string; readonly stage?: string }
  /** A run ended without publishing (failed or cancelled); a failed run counts as an unsuccessful batch. */
  | { readonly kind: 'run_finished'; readonly runId: string; readonly success: boolean; readonly error?: string }
  /** A run finished and published; evidence feeds the gates. `stage` is the stage it was pinned to. */
  | {
      readonly kind: 'batch_completed';
      readonly runId: string;
      readonly environment: string;
      readonly partition: string;
      readonly stage?: string;
      readonly success: boolean;
      readonly evidence: BatchEvidence;
      readonly publications: readonly Publication[];
    }
  | { readonly kind: 'tick' }
  | { readonly kind: 'approve'; readonly actor: string; readonly reason?: string }
  | { readonly kind: 'pause'; readonly actor: string; readonly reason: string }
  | { readonly kind: 'resume'; readonly actor: string; readonly reason: string }
  | { readonly kind: 'abort'; readonly actor: string; readonly reason: string }
  | { readonly kind: 'rollback'; readonly actor: string; readonly reason: string }
  /** Move on now, skipping the current stage's gates (never approvals); `toStage` is `STAGE`, `ENV/STAGE` or `promoted`. */
  | { readonly kind: 'promote'; readonly actor: string; readonly reason: string; readonly toStage?: string };

export type EventKind = RolloutEvent['kind'];
