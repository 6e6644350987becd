import type { BatchRecord } from './gate-evidence.ts';
import type { GateVerdict } from './gate-verdict.ts';
import type { Transition } from './transition.ts';

/** Entries of a rollout's log: transitions, verdicts and batches, in order; reports read them. */
export type RolloutLogEntry =
  | { readonly type: 'transition'; readonly transition: Transition }
  | { readonly type: 'verdicts'; readonly verdicts: readonly GateVerdict[] }
  | { readonly type: 'batch'; readonly batch: BatchRecord };
