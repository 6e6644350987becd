/**
 * The rollout plan model: what `rollouts/NAME.yaml` says once parsed and normalised (defaults
 * applied). Plain readonly data; `parseRolloutPlan` builds it, the reducer and gates read it.
 */
import type { GateSpec } from './gate-spec.ts';

/** One transformation that moves: a step of a pipeline. */
export type StepRef = { readonly pipeline: string; readonly step: string };

export type DataKind = 'sample' | 'synthetic' | 'real';

/** Which part of the work a canary stage sends to the candidate. */
export type CanaryTarget =
  /** Rows whose slice-key bucket falls in the first `percent` of buckets (sticky, monotone). */
  | { readonly kind: 'rows'; readonly percent: number }
  /** Exactly these datasets / sources / pipelines use the candidate. */
  | { readonly kind: 'list'; readonly dimension: CanaryDimension; readonly values: readonly string[] }
  /** A share (by bucket of the name) of the datasets / sources / pipelines use the candidate. */
  | { readonly kind: 'share'; readonly dimension: CanaryDimension; readonly percent: number };

export type CanaryDimension = 'datasets' | 'sources' | 'pipelines';

/** What a flag exposes in one environment. `baseline` is the state before and after a rollout. */
export type Exposure =
  | { readonly mode: 'baseline' }
  | { readonly mode: 'shadow' }
  | { readonly mode: 'canary'; readonly target: CanaryTarget }
  | { readonly mode: 'full' };

export type StageMode = 'shadow' | 'canary' | 'full';

export type StagePlan = {
  /** Unique within its environment; defaults to `shadow`, `canary-10`, `full`… */
  readonly id: string;
  readonly mode: StageMode;
  /** Present when mode is canary. */
  readonly target?: CanaryTarget;
  readonly gates: readonly GateSpec[];
  /** Approvals needed before entering this stage (0 = none). */
  readonly approvals: number;
};

export type EnvironmentPlan = {
  readonly name: string;
  readonly data?: DataKind;
  readonly stages: readonly StagePlan[];
};

export type RiskEntry = {
  readonly id: string;
  readonly exposure: string;
  readonly mitigation: string;
  /** Id of the gate that watches this risk; the parser checks it exists. */
  readonly gate: string;
};

export type RolloutPlan = {
  readonly name: string;
  readonly description?: string;
  /** One or several steps that move together. */
  readonly steps: readonly StepRef[];
  readonly baseline: string;
  readonly candidate: string;
  readonly environments: readonly EnvironmentPlan[];
  readonly risks: readonly RiskEntry[];
};

/** What the project knows, for cross-references the plan cannot check alone. */
export type KnownStep = StepRef & {
  readonly versions: readonly string[];
  /** The step's declared slice key; row canaries need one when given. */
  readonly sliceKey?: string;
  /** Datasets this step writes (for canary dataset lists and conflict checks). */
  readonly datasets?: readonly string[];
};

export function stepKey(s: StepRef): string {
  return `${s.pipeline}.${s.step}`;
}

/** The exposure a stage sets in its environment. */
export function exposureOf(stage: StagePlan): Exposure {
  if (stage.mode === 'shadow') return { mode: 'shadow' };
  if (stage.mode === 'full') return { mode: 'full' };
  return { mode: 'canary', target: stage.target ?? { kind: 'rows', percent: 0 } };
}
