import type { GateVerdict } from './gate-verdict.ts';
import type { EventKind } from './rollout-event.ts';
import type { StateKind } from './rollout-state.ts';

export type StatePoint = { readonly state: StateKind; readonly environment?: string; readonly stage?: string };

/** One state change, stored and audited: who, when, why, and the gate evidence behind it. */
export type Transition = {
  readonly rollout: string;
  readonly at: string;
  readonly actor: string;
  readonly event: EventKind;
  readonly from: StatePoint;
  readonly to: StatePoint;
  readonly reason: string;
  readonly evidence: readonly GateVerdict[];
};
