import type { DiffGateSpec } from '../gate-spec.ts';
import type { DiffSummary, GateContext } from '../gate-evidence.ts';
import type { GateOutcome } from '../gate-verdict.ts';
import { outcome } from '../gate-verdict.ts';
import { latestBatches, pct } from './latest-batches.ts';

export type DiffShares = {
  readonly changedShare: number;
  readonly onlyBaselineShare: number;
  readonly onlyCandidateShare: number;
};

/** Shares of a diff: changed and baseline-only rows over baseline rows, candidate-only over candidate rows. */
export function diffShares(d: DiffSummary): DiffShares {
  return {
    changedShare: d.rowsChanged / Math.max(1, d.rowsBaseline),
    onlyBaselineShare: d.rowsOnlyBaseline / Math.max(1, d.rowsBaseline),
    onlyCandidateShare: d.rowsOnlyCandidate / Math.max(1, d.rowsCandidate),
  };
}

/**
 * Diff and drift thresholds between candidate and baseline outputs, judged on each of the last
 * `window` batches (every one must be within bounds). Column thresholds: exact column name first,
 * then `*`.
 */
export function evaluateDiffGate(spec: DiffGateSpec, ctx: GateContext): GateOutcome {
  const batches = latestBatches(ctx.batches, 'diff', spec.window);
  if (batches.length < spec.window) return outcome('wait', `waiting for diffs: ${batches.length} of ${spec.window} batch(es)`, { batches: batches.length, window: spec.window });
  const breaches: string[] = [];
  const observed = batches.map((b) => {
    const d = b.evidence.diff;
    const s = diffShares(d);
    const over = (label: string, value: number, max: number | undefined): void => {
      if (max !== undefined && value > max) breaches.push(`${label} ${label.includes('PSI') || label.includes('KS') ? value.toFixed(3) : pct(value)} > ${label.includes('PSI') || label.includes('KS') ? max : pct(max)} (run ${b.runId})`);
    };
    over('changed rows', s.changedShare, spec.maxChangedShare);
    over('baseline-only rows', s.onlyBaselineShare, spec.maxOnlyBaselineShare);
    over('candidate-only rows', s.onlyCandidateShare, spec.maxOnlyCandidateShare);
    for (const c of d.columns) {
      over(`column ${c.column} mismatch`, c.mismatchShare, spec.maxColumnMismatch?.[c.column] ?? spec.maxColumnMismatch?.['*']);
      if (c.psi !== undefined) over(`column ${c.column} PSI`, c.psi, spec.maxPsi);
      if (c.ks !== undefined) over(`column ${c.column} KS`, c.ks, spec.maxKs);
    }
    return { run: b.runId, partition: b.partition, ...s, rowsBaseline: d.rowsBaseline, rowsCandidate: d.rowsCandidate, columns: d.columns };
  });
  const thresholds = {
    maxChangedShare: spec.maxChangedShare,
    maxColumnMismatch: spec.maxColumnMismatch,
    maxOnlyBaselineShare: spec.maxOnlyBaselineShare,
    maxOnlyCandidateShare: spec.maxOnlyCandidateShare,
    maxPsi: spec.maxPsi,
    maxKs: spec.maxKs,
  };
  const inputs = { thresholds, observed };
  if (breaches.length > 0) return outcome('failed', `diff over threshold: ${breaches.join('; ')}`, inputs);
  const worst = Math.max(...observed.map((o) => o.changedShare));
  return outcome('pass', `diff within thresholds over ${batches.length} batch(es) (worst changed-row share ${pct(worst)})`, inputs);
}
