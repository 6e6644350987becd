/**
 * Rollout controller core: plans, gates, the pure reducer, rollback planning and reports.
 * No I/O here. Wiring (adapter side):
 *   1. parse `rollouts/NAME.yaml` with parseRolloutPlan(file, text, knownSteps)
 *   2. before `start`, refuse when checkConflicts(activeRollouts, plan, datasetsOf) is non-empty
 *   3. for every event: read state + observations from the store, call reduce(state, event, ctx),
 *      then in one transaction store state, transitions, verdicts, batch and audit entries,
 *      then carry out set_flag_exposure -> republish -> rerun_downstream; notify last
 *   4. `rollout report`: buildRolloutReport(transitions, batches, verdicts, state) + renderReportMarkdown
 */
export { parseRolloutPlan } from './parse-rollout-plan.ts';
export type { ParseRolloutPlanResult } from './parse-rollout-plan.ts';
export { exposureOf, stepKey } from './rollout-plan.ts';
export type { CanaryDimension, CanaryTarget, DataKind, EnvironmentPlan, Exposure, KnownStep, RiskEntry, RolloutPlan, StageMode, StagePlan, StepRef } from './rollout-plan.ts';
export { GATE_KINDS } from './gate-spec.ts';
export type {
  AnomalyGateSpec, ApprovalGateSpec, ChecksGateSpec, DependencyGateSpec, DiffGateSpec, Direction, FreezeWindow, GateKind, GateSpec, JudgeGateSpec, JudgeMetric,
  MetricBound, MetricsGateSpec, OnFail, Severity, SoakGateSpec, WeeklySlot, Weekday, WindowGateSpec,
} from './gate-spec.ts';
export type {
  AnomalyResult, Approval, BatchEvidence, BatchMetrics, BatchRecord, CheckResult, ColumnDiff, DiffSummary, GateContext, MetricValues, Observations, RecentTransition, UpstreamRollout,
} from './gate-evidence.ts';
export { toVerdict, worstVerdict } from './gate-verdict.ts';
export type { GateOutcome, GateVerdict, VerdictKind } from './gate-verdict.ts';
export { evaluateGate, evaluateGateOutcome } from './gates/evaluate-gate.ts';
export { evaluateChecksGate } from './gates/checks-gate.ts';
export { evaluateDiffGate, diffShares } from './gates/diff-gate.ts';
export { evaluateMetricsGate } from './gates/metrics-gate.ts';
export { evaluateJudgeGate } from './gates/judge-gate.ts';
export type { MetricJudgement } from './gates/judge-gate.ts';
export { mannWhitneyU, normalCdf } from './gates/mann-whitney.ts';
export type { MannWhitneyResult } from './gates/mann-whitney.ts';
export { evaluateSoakGate } from './gates/soak-gate.ts';
export { evaluateWindowGate } from './gates/window-gate.ts';
export { approvalRefusal, countedApprovers, evaluateApprovalGate } from './gates/approval-gate.ts';
export { evaluateDependencyGate } from './gates/dependency-gate.ts';
export { evaluateAnomalyGate } from './gates/anomaly-gate.ts';
export { reduce } from './reduce.ts';
export type { ControllerConfig, ReduceContext, ReduceResult } from './reduce.ts';
export { ACTIVE_STATES, TERMINAL_STATES, initialRolloutState, positionKey } from './rollout-state.ts';
export type { InFlightRun, PendingMove, Publication, PublishedPartition, RolloutCommon, RolloutState, StagePosition, StateKind } from './rollout-state.ts';
export type { EventKind, RolloutEvent } from './rollout-event.ts';
export { SYSTEM_ACTOR } from './rollout-action.ts';
export type { ActionKind, AuditEntry, RolloutAction } from './rollout-action.ts';
export type { StatePoint, Transition } from './transition.ts';
export { approvalsNeeded, comparePositions, nextPosition, positionAt, resolveStageRef, stageAt } from './stage-navigation.ts';
export { checkStagger } from './check-stagger.ts';
export type { StaggerConfig, StaggerDecision } from './check-stagger.ts';
export { checkConflicts } from './check-conflicts.ts';
export type { ActiveRollout, Conflict } from './check-conflicts.ts';
export { downstreamOrder, planRollback } from './plan-rollback.ts';
export type { DatasetGraph, PlanRollbackInput, RepublishItem, RerunItem, RollbackPlan, TouchedPartition } from './plan-rollback.ts';
export { buildRolloutReport } from './build-rollout-report.ts';
export type { ReportEntry, ReportStage, ReportVerdict, RolloutReport } from './build-rollout-report.ts';
export { renderReportMarkdown } from './render-report-markdown.ts';
export { formatDuration, parseDuration } from './parse-duration.ts';
