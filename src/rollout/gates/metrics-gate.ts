import type { Direction, MetricsGateSpec } from '../gate-spec.ts';
import type { GateContext } from '../gate-evidence.ts';
import type { GateOutcome } from '../gate-verdict.ts';
import { outcome } from '../gate-verdict.ts';
import { latestBatches, pct } from './latest-batches.ts';

/** A number for reasons: at most 6 significant digits. */
export function fmt(n: number): string {
  return Number.isFinite(n) ? String(Number(n.toPrecision(6))) : String(n);
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** How far `candidate` moved from `baseline` in the bad direction (0 when it moved the good way). */
export function badShift(direction: Direction, baseline: number, candidate: number): { absolute: number; relative: number } {
  const delta = candidate - baseline;
  const absolute = direction === 'increase' ? Math.max(0, delta) : direction === 'decrease' ? Math.max(0, -delta) : Math.abs(delta);
  const relative = absolute === 0 ? 0 : baseline === 0 ? Infinity : absolute / Math.abs(baseline);
  return { absolute, relative };
}

/**
 * Candidate against baseline for named metrics (row count, null rate, duration, error rate,
 * freshness…): the mean over the last `window` batches must stay within each bound's relative
 * and/or absolute limit in the bad direction. A metric missing from the evidence fails the gate.
 */
export function evaluateMetricsGate(spec: MetricsGateSpec, ctx: GateContext): GateOutcome {
  const batches = latestBatches(ctx.batches, 'metrics', spec.window);
  if (batches.length < spec.window) return outcome('wait', `waiting for metrics: ${batches.length} of ${spec.window} batch(es)`, { batches: batches.length, window: spec.window });
  const problems: string[] = [];
  const observed = spec.bounds.map((bound) => {
    const base = batches.map((b) => b.evidence.metrics.baseline[bound.metric]);
    const cand = batches.map((b) => b.evidence.metrics.candidate[bound.metric]);
    if (base.some((v) => v === undefined) || cand.some((v) => v === undefined)) {
      problems.push(`metric ${bound.metric} missing from the evidence`);
      return { metric: bound.metric, missing: true };
    }
    const b = mean(base as number[]);
    const c = mean(cand as number[]);
    const shift = badShift(bound.direction, b, c);
    const overRel = bound.maxRelative !== undefined && shift.relative > bound.maxRelative;
    const overAbs = bound.maxAbsolute !== undefined && shift.absolute > bound.maxAbsolute;
    if (overRel) problems.push(`${bound.metric} moved ${pct(shift.relative)} (${fmt(b)} -> ${fmt(c)}), limit ${pct(bound.maxRelative ?? 0)}`);
    if (overAbs) problems.push(`${bound.metric} moved ${fmt(shift.absolute)} (${fmt(b)} -> ${fmt(c)}), limit ${bound.maxAbsolute}`);
    return { metric: bound.metric, direction: bound.direction, baselineMean: b, candidateMean: c, ...shift, maxRelative: bound.maxRelative, maxAbsolute: bound.maxAbsolute, ok: !overRel && !overAbs };
  });
  const inputs = { runs: batches.map((b) => b.runId), observed };
  if (problems.length > 0) return outcome('failed', `metric bound(s) broken over ${batches.length} batch(es): ${problems.join('; ')}`, inputs);
  return outcome('pass', `${spec.bounds.length} metric bound(s) held over ${batches.length} batch(es)`, inputs);
}
