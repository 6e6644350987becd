import type { ApprovalGateSpec } from '../gate-spec.ts';
import type { Approval, GateContext } from '../gate-evidence.ts';
import type { GateOutcome } from '../gate-verdict.ts';
import { outcome } from '../gate-verdict.ts';

/** Distinct approvers other than the starter; the starter's own approval never counts. */
export function countedApprovers(approvals: readonly Approval[], startedBy: string | undefined): string[] {
  return [...new Set(approvals.map((a) => a.actor))].filter((a) => a !== startedBy);
}

/** Why an approval is refused, or undefined when it may be recorded. */
export function approvalRefusal(actor: string, startedBy: string | undefined, approvals: readonly Approval[]): string | undefined {
  if (actor === startedBy) return `approval refused: ${actor} started this rollout, and approvals must come from someone else`;
  if (approvals.some((a) => a.actor === actor)) return `approval refused: ${actor} has already approved this stage`;
  return undefined;
}

/** N approvals from people other than the one who started the rollout. */
export function evaluateApprovalGate(spec: Pick<ApprovalGateSpec, 'required'>, ctx: Pick<GateContext, 'approvals' | 'startedBy'>): GateOutcome {
  const approvers = countedApprovers(ctx.approvals, ctx.startedBy);
  const inputs = { required: spec.required, approvers, startedBy: ctx.startedBy ?? null };
  if (approvers.length >= spec.required) return outcome('pass', `approved by ${approvers.join(', ')}`, inputs);
  return outcome('wait', `waiting for approval: ${approvers.length} of ${spec.required}${approvers.length ? ` (${approvers.join(', ')})` : ''}, from someone other than ${ctx.startedBy ?? 'the starter'}`, inputs);
}
