import type { GateSpec } from '../gate-spec.ts';
import type { GateContext } from '../gate-evidence.ts';
import type { GateOutcome, GateVerdict } from '../gate-verdict.ts';
import { toVerdict } from '../gate-verdict.ts';
import { evaluateAnomalyGate } from './anomaly-gate.ts';
import { evaluateApprovalGate } from './approval-gate.ts';
import { evaluateChecksGate } from './checks-gate.ts';
import { evaluateDependencyGate } from './dependency-gate.ts';
import { evaluateDiffGate } from './diff-gate.ts';
import { evaluateJudgeGate } from './judge-gate.ts';
import { evaluateMetricsGate } from './metrics-gate.ts';
import { evaluateSoakGate } from './soak-gate.ts';
import { evaluateWindowGate } from './window-gate.ts';

export function evaluateGateOutcome(spec: GateSpec, ctx: GateContext): GateOutcome {
  switch (spec.kind) {
    case 'checks':
      return evaluateChecksGate(spec, ctx);
    case 'diff':
      return evaluateDiffGate(spec, ctx);
    case 'metrics':
      return evaluateMetricsGate(spec, ctx);
    case 'judge':
      return evaluateJudgeGate(spec, ctx);
    case 'soak':
      return evaluateSoakGate(spec, ctx);
    case 'window':
      return evaluateWindowGate(spec, ctx);
    case 'approval':
      return evaluateApprovalGate(spec, ctx);
    case 'dependency':
      return evaluateDependencyGate(spec, ctx);
    case 'anomaly':
      return evaluateAnomalyGate(spec, ctx);
  }
}

/** Evaluates one gate into a verdict (pass | wait | fail | rollback) stamped with the clock's time. */
export function evaluateGate(spec: GateSpec, ctx: GateContext): GateVerdict {
  return toVerdict(spec, evaluateGateOutcome(spec, ctx), ctx.now);
}
