import * as v from 'valibot';
import { jsonNumber } from './json-number.ts';
import type { BatchEvidence, BatchRecord } from '../../rollout/gate-evidence.ts';
import type { GateSpec } from '../../rollout/gate-spec.ts';
import type { GateVerdict } from '../../rollout/gate-verdict.ts';
import type { RollbackPlan } from '../../rollout/plan-rollback.ts';
import type { RolloutAction } from '../../rollout/rollout-action.ts';
import type { RolloutLogEntry } from '../../rollout/rollout-log.ts';
import type { CanaryTarget, Exposure, RolloutPlan, StepRef } from '../../rollout/rollout-plan.ts';
import type { RolloutState, StagePosition } from '../../rollout/rollout-state.ts';
import type { Transition } from '../../rollout/transition.ts';

/**
 * Rollout plans, states, log entries and pending actions as the store keeps them (JSON), checked
 * on the way out so callers get the domain types, not `unknown`. Each schema is typed against its
 * domain type, so a change to one that the other does not follow fails to compile.
 */
const str = v.string();
const num = jsonNumber;
const strs = v.array(v.string());
const details = v.record(v.string(), v.unknown());
const onFail = v.picklist(['fail', 'rollback']);
const direction = v.picklist(['increase', 'decrease', 'either']);
const weekly = { days: v.array(v.picklist([1, 2, 3, 4, 5, 6, 7])), from: str, to: str };

const stepRef: v.GenericSchema<unknown, StepRef> = v.object({ pipeline: str, step: str });

const gateSpec: v.GenericSchema<unknown, GateSpec> = v.variant('kind', [
  v.object({ kind: v.literal('checks'), id: str, onFail, checks: v.optional(strs), failOn: v.picklist(['error', 'warn']), window: num }),
  v.object({
    kind: v.literal('diff'),
    id: str,
    onFail,
    maxChangedShare: v.optional(num),
    maxColumnMismatch: v.optional(v.record(v.string(), num)),
    maxOnlyBaselineShare: v.optional(num),
    maxOnlyCandidateShare: v.optional(num),
    maxPsi: v.optional(num),
    maxKs: v.optional(num),
    window: num,
  }),
  v.object({ kind: v.literal('metrics'), id: str, onFail, window: num, bounds: v.array(v.object({ metric: str, direction, maxRelative: v.optional(num), maxAbsolute: v.optional(num) })) }),
  v.object({
    kind: v.literal('judge'),
    id: str,
    onFail,
    metrics: v.array(v.object({ metric: str, direction, effectSize: num, critical: v.boolean() })),
    window: num,
    minBatches: num,
    alpha: num,
    passScore: num,
    marginalScore: num,
  }),
  v.object({ kind: v.literal('soak'), id: str, onFail, minBatches: num, minDurationMs: num }),
  v.object({
    kind: v.literal('window'),
    id: str,
    onFail,
    zone: str,
    allow: v.array(v.object(weekly)),
    freeze: v.array(v.variant('kind', [v.object({ kind: v.literal('range'), from: str, to: str }), v.object({ kind: v.literal('weekly'), ...weekly }), v.object({ kind: v.literal('annual'), from: str, to: str })])),
  }),
  v.object({ kind: v.literal('approval'), id: str, onFail, required: num }),
  v.object({ kind: v.literal('dependency'), id: str, onFail, rollout: v.optional(str), reached: v.optional(str), dataset: v.optional(str), maxAgeMs: v.optional(num) }),
  v.object({ kind: v.literal('anomaly'), id: str, onFail, metrics: v.optional(strs), window: num }),
]);

const dimension = v.picklist(['datasets', 'sources', 'pipelines']);
const canaryTarget: v.GenericSchema<unknown, CanaryTarget> = v.variant('kind', [
  v.object({ kind: v.literal('rows'), percent: num }),
  v.object({ kind: v.literal('list'), dimension, values: strs }),
  v.object({ kind: v.literal('share'), dimension, percent: num }),
]);

const exposure: v.GenericSchema<unknown, Exposure> = v.variant('mode', [
  v.object({ mode: v.literal('baseline') }),
  v.object({ mode: v.literal('shadow') }),
  v.object({ mode: v.literal('canary'), target: canaryTarget }),
  v.object({ mode: v.literal('full') }),
]);

export const rolloutPlanSchema: v.GenericSchema<unknown, RolloutPlan> = v.object({
  name: str,
  description: v.optional(str),
  steps: v.array(stepRef),
  baseline: str,
  candidate: str,
  environments: v.array(
    v.object({
      name: str,
      data: v.optional(v.picklist(['sample', 'synthetic', 'real'])),
      stages: v.array(v.object({ id: str, mode: v.picklist(['shadow', 'canary', 'full']), target: v.optional(canaryTarget), gates: v.array(gateSpec), approvals: num })),
    }),
  ),
  risks: v.array(v.object({ id: str, exposure: str, mitigation: str, gate: str })),
});

const evidence: v.GenericSchema<unknown, BatchEvidence> = v.object({
  checks: v.optional(v.array(v.object({ name: str, success: v.boolean(), severity: v.picklist(['error', 'warn']), observed: v.optional(num), message: v.optional(str) }))),
  diff: v.optional(
    v.object({
      rowsBaseline: num,
      rowsCandidate: num,
      rowsChanged: num,
      rowsOnlyBaseline: num,
      rowsOnlyCandidate: num,
      columns: v.array(v.object({ column: str, mismatchShare: num, psi: v.optional(num), ks: v.optional(num) })),
    }),
  ),
  metrics: v.optional(v.object({ baseline: v.record(v.string(), num), candidate: v.record(v.string(), num) })),
  anomalies: v.optional(v.array(v.object({ metric: str, flagged: v.boolean(), score: v.optional(num), expected: v.optional(num), actual: v.optional(num), message: v.optional(str) }))),
});

export const batchRecordSchema: v.GenericSchema<unknown, BatchRecord> = v.object({ runId: str, environment: str, stage: str, partition: str, at: str, success: v.boolean(), evidence });

const gateKind = v.picklist(['checks', 'diff', 'metrics', 'judge', 'soak', 'window', 'approval', 'dependency', 'anomaly']);
export const gateVerdictSchema: v.GenericSchema<unknown, GateVerdict> = v.object({
  gate: str,
  gateKind,
  verdict: v.picklist(['pass', 'wait', 'fail', 'rollback']),
  reason: str,
  inputs: details,
  at: str,
  environment: v.optional(str),
  stage: v.optional(str),
  judged: v.optional(v.picklist(['before publish', 'after publish'])),
});

const stateKind = v.picklist(['pending', 'progressing', 'awaiting_approval', 'paused', 'rolling_back', 'promoted', 'aborted', 'rolled_back']);
const eventKind = v.picklist(['start', 'run_started', 'run_finished', 'batch_completed', 'tick', 'approve', 'pause', 'resume', 'abort', 'rollback', 'promote']);
const statePoint = v.object({ state: stateKind, environment: v.optional(str), stage: v.optional(str) });
export const transitionSchema: v.GenericSchema<unknown, Transition> = v.object({ rollout: str, at: str, actor: str, event: eventKind, from: statePoint, to: statePoint, reason: str, evidence: v.array(gateVerdictSchema) });

const republishItem = v.object({ environment: str, dataset: str, partition: str, outputVersion: str, replaces: str, runId: str, alternatives: v.optional(v.array(v.object({ replaces: str, outputVersion: str }))) });
const rerunItem = v.object({ environment: str, dataset: str, partitions: strs, because: strs });
const rollbackPlan: v.GenericSchema<unknown, RollbackPlan> = v.object({
  republish: v.array(republishItem),
  rerun: v.array(rerunItem),
  reverted: v.array(v.object({ environment: str, dataset: str, partitions: strs })),
  deletes: v.array(v.never()),
  warnings: strs,
});

const position: v.GenericSchema<unknown, StagePosition> = v.object({ env: num, stage: num, environment: str, stageId: str });
const pendingMove = { target: v.union([v.literal('promoted'), position]), override: v.boolean() };
const common = {
  rollout: str,
  id: str,
  startedBy: v.optional(str),
  startedAt: v.optional(str),
  position: v.optional(position),
  stageEnteredAt: v.optional(str),
  windowStart: v.optional(str),
  batches: v.array(batchRecordSchema),
  approvals: v.array(v.object({ actor: str, at: str, reason: v.optional(str) })),
  inFlight: v.array(v.object({ runId: str, environment: str, partition: str, stage: v.optional(str), startedAt: str })),
  published: v.array(v.object({ dataset: str, partition: str, outputVersion: str, baselineOutputVersion: str, candidateRows: v.boolean(), environment: str, runId: str, at: str, candidates: v.optional(v.array(v.object({ outputVersion: str, baselineOutputVersion: str, runId: str }))) })),
  exposures: v.record(v.string(), exposure),
  reached: strs,
  updatedAt: v.optional(str),
};

export const rolloutStateSchema: v.GenericSchema<unknown, RolloutState> = v.variant('kind', [
  v.object({ kind: v.literal('pending'), ...common }),
  v.object({ kind: v.literal('progressing'), ...common }),
  v.object({ kind: v.literal('awaiting_approval'), ...common, ...pendingMove }),
  v.object({ kind: v.literal('paused'), ...common, reason: str, resumeTo: v.picklist(['progressing', 'awaiting_approval']), move: v.optional(v.object(pendingMove)) }),
  v.object({ kind: v.literal('rolling_back'), ...common, reason: str, requestedBy: str, waitingFor: strs }),
  v.object({ kind: v.literal('promoted'), ...common }),
  v.object({ kind: v.literal('aborted'), ...common, reason: str }),
  v.object({ kind: v.literal('rolled_back'), ...common, reason: str, rollback: rollbackPlan }),
]);

export const rolloutActionSchema: v.GenericSchema<unknown, RolloutAction> = v.variant('kind', [
  v.object({
    kind: v.literal('set_flag_exposure'), rollout: str, rolloutId: str, environment: str, steps: v.array(stepRef), baseline: str, candidate: str, exposure,
    // Optional: actions stored before these fields existed still load (their flag reason names no stage).
    stage: v.optional(v.object({ id: str, number: num, of: num })),
    occasion: v.optional(v.picklist(['promoted', 'aborted', 'rolled_back'])),
  }),
  v.object({ kind: v.literal('republish'), rollout: str, items: v.array(republishItem) }),
  v.object({ kind: v.literal('rerun_downstream'), rollout: str, items: v.array(rerunItem) }),
  v.object({ kind: v.literal('notify'), rollout: str, level: v.picklist(['info', 'warn', 'error']), message: str }),
  v.object({
    kind: v.literal('audit'),
    entry: v.object({ rollout: str, at: str, actor: str, type: v.picklist(['transition', 'flag', 'batch', 'approval', 'refused', 'republish', 'rerun']), message: str, details }),
  }),
]);

export const rolloutLogEntrySchema: v.GenericSchema<unknown, RolloutLogEntry> = v.variant('type', [
  v.object({ type: v.literal('transition'), transition: transitionSchema }),
  v.object({ type: v.literal('verdicts'), verdicts: v.array(gateVerdictSchema) }),
  v.object({ type: v.literal('batch'), batch: batchRecordSchema }),
]);
