import type { SoakGateSpec } from '../gate-spec.ts';
import type { GateContext } from '../gate-evidence.ts';
import type { GateOutcome } from '../gate-verdict.ts';
import { outcome } from '../gate-verdict.ts';
import { formatDuration } from '../parse-duration.ts';

/** Soak: at least `minBatches` successful batches and `minDuration` since the stage's evidence window opened. */
export function evaluateSoakGate(spec: SoakGateSpec, ctx: GateContext): GateOutcome {
  const successful = ctx.batches.filter((b) => b.success).length;
  const elapsedMs = Math.max(0, ctx.now.getTime() - new Date(ctx.windowStart).getTime());
  const inputs = { successfulBatches: successful, minBatches: spec.minBatches, elapsedMs, minDurationMs: spec.minDurationMs, since: ctx.windowStart };
  const missing: string[] = [];
  if (successful < spec.minBatches) missing.push(`${successful} of ${spec.minBatches} successful batches`);
  if (elapsedMs < spec.minDurationMs) missing.push(`${formatDuration(elapsedMs)} of ${formatDuration(spec.minDurationMs)} in the stage`);
  if (missing.length > 0) return outcome('wait', `soaking: ${missing.join(', ')}`, inputs);
  return outcome('pass', `soaked ${successful} successful batches over ${formatDuration(elapsedMs)}`, inputs);
}
