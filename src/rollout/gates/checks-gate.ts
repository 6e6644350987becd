import type { ChecksGateSpec } from '../gate-spec.ts';
import type { GateContext } from '../gate-evidence.ts';
import type { GateOutcome } from '../gate-verdict.ts';
import { outcome } from '../gate-verdict.ts';
import { latestBatches } from './latest-batches.ts';

/**
 * Checks and contracts on the candidate output: the latest `window` batches with check results
 * must have no failing check at or above `failOn` severity, and every listed check must be there.
 */
export function evaluateChecksGate(spec: ChecksGateSpec, ctx: GateContext): GateOutcome {
  const batches = latestBatches(ctx.batches, 'checks', spec.window);
  if (batches.length < spec.window) return outcome('wait', `waiting for check results: ${batches.length} of ${spec.window} batch(es)`, { batches: batches.length, window: spec.window });
  const failing: { run: string; check: string; severity: string; message?: string }[] = [];
  const missing: { run: string; check: string }[] = [];
  for (const b of batches) {
    const considered = spec.checks ? b.evidence.checks.filter((c) => spec.checks?.includes(c.name)) : b.evidence.checks;
    for (const name of spec.checks ?? []) if (!b.evidence.checks.some((c) => c.name === name)) missing.push({ run: b.runId, check: name });
    for (const c of considered) {
      if (!c.success && (spec.failOn === 'warn' || c.severity === 'error')) failing.push({ run: b.runId, check: c.name, severity: c.severity, ...(c.message ? { message: c.message } : {}) });
    }
  }
  const inputs = { runs: batches.map((b) => b.runId), checks: batches.map((b) => b.evidence.checks), failOn: spec.failOn, failing, missing };
  if (failing.length > 0) return outcome('failed', `check(s) failed on the candidate: ${[...new Set(failing.map((f) => f.check))].join(', ')}`, inputs);
  if (missing.length > 0) return outcome('failed', `required check(s) did not run: ${[...new Set(missing.map((m) => m.check))].join(', ')}`, inputs);
  const n = batches.reduce((s, b) => s + b.evidence.checks.length, 0);
  return outcome('pass', `${n} check result(s) clean over ${batches.length} batch(es)`, inputs);
}
