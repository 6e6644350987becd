import type { AnomalyGateSpec } from '../gate-spec.ts';
import type { GateContext } from '../gate-evidence.ts';
import type { GateOutcome } from '../gate-verdict.ts';
import { outcome } from '../gate-verdict.ts';
import { latestBatches } from './latest-batches.ts';

/** An anomaly flagged on a guarded metric of the candidate output in the last `window` batches fails the gate. */
export function evaluateAnomalyGate(spec: AnomalyGateSpec, ctx: GateContext): GateOutcome {
  const batches = latestBatches(ctx.batches, 'anomalies', spec.window);
  if (batches.length < spec.window) return outcome('wait', `waiting for anomaly results: ${batches.length} of ${spec.window} batch(es)`, { batches: batches.length, window: spec.window });
  const guarded = (m: string): boolean => !spec.metrics || spec.metrics.includes(m);
  const flagged = batches.flatMap((b) => b.evidence.anomalies.filter((a) => a.flagged && guarded(a.metric)).map((a) => ({ run: b.runId, ...a })));
  const inputs = { guarded: spec.metrics ?? '*', runs: batches.map((b) => b.runId), anomalies: batches.map((b) => b.evidence.anomalies), flagged };
  if (flagged.length > 0) {
    const what = flagged.map((a) => `${a.metric}${a.actual !== undefined ? ` = ${a.actual}` : ''}${a.expected !== undefined ? ` (expected ${a.expected})` : ''}`);
    return outcome('failed', `anomaly on guarded metric(s): ${what.join('; ')}`, inputs);
  }
  return outcome('pass', `no anomaly on guarded metrics over ${batches.length} batch(es)`, inputs);
}
