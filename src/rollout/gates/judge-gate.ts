import type { JudgeGateSpec, JudgeMetric } from '../gate-spec.ts';
import type { GateContext } from '../gate-evidence.ts';
import type { GateOutcome } from '../gate-verdict.ts';
import { outcome } from '../gate-verdict.ts';
import { latestBatches, pct } from './latest-batches.ts';
import { mannWhitneyU } from './mann-whitney.ts';
import { badShift, mean } from './metrics-gate.ts';

export type MetricJudgement = {
  readonly metric: string;
  readonly direction: JudgeMetric['direction'];
  readonly critical: boolean;
  readonly pass: boolean;
  /** p-value of the test in the bad direction (two-sided for `either`). */
  readonly p: number;
  /** Relative shift of the candidate mean in the bad direction. */
  readonly effect: number;
  readonly rankBiserial: number;
  readonly baselineMean: number;
  readonly candidateMean: number;
  readonly n: number;
  readonly method: 'exact' | 'normal';
  readonly missing?: boolean;
};

/**
 * Automated canary analysis over batches, in the spirit of Kayenta: for each metric the
 * candidate's values in the last `window` batches are compared with the baseline's by a
 * Mann–Whitney U test. A metric fails when the shift in its bad direction is significant
 * (p < alpha) and at least `effectSize` (relative shift of the mean). Score = share of metrics
 * that pass × 100; score ≥ passScore passes, ≥ marginalScore waits for more batches, below fails;
 * a failing critical metric fails the whole judgement whatever the score.
 */
export function evaluateJudgeGate(spec: JudgeGateSpec, ctx: GateContext): GateOutcome {
  const batches = latestBatches(ctx.batches, 'metrics', spec.window);
  if (batches.length < spec.minBatches) return outcome('wait', `waiting for batches to judge: ${batches.length} of ${spec.minBatches}`, { batches: batches.length, minBatches: spec.minBatches });
  const judgements: MetricJudgement[] = spec.metrics.map((m) => {
    const base = batches.map((b) => b.evidence.metrics.baseline[m.metric]).filter((v): v is number => v !== undefined);
    const cand = batches.map((b) => b.evidence.metrics.candidate[m.metric]).filter((v): v is number => v !== undefined);
    const baselineMean = mean(base);
    const candidateMean = mean(cand);
    if (base.length < spec.minBatches || cand.length < spec.minBatches) {
      return { metric: m.metric, direction: m.direction, critical: m.critical, pass: false, p: 1, effect: 0, rankBiserial: 0, baselineMean, candidateMean, n: Math.min(base.length, cand.length), method: 'normal', missing: true };
    }
    const t = mannWhitneyU(cand, base);
    const p = m.direction === 'increase' ? t.pGreater : m.direction === 'decrease' ? t.pLess : t.pTwoSided;
    const effect = badShift(m.direction, baselineMean, candidateMean).relative;
    const bad = p < spec.alpha && effect >= m.effectSize && effect > 0;
    return { metric: m.metric, direction: m.direction, critical: m.critical, pass: !bad, p, effect, rankBiserial: t.rankBiserial, baselineMean, candidateMean, n: cand.length, method: t.method };
  });
  const passed = judgements.filter((j) => j.pass).length;
  const score = judgements.length === 0 ? 100 : (passed / judgements.length) * 100;
  const criticalFailed = judgements.filter((j) => j.critical && !j.pass);
  const inputs = { runs: batches.map((b) => b.runId), alpha: spec.alpha, passScore: spec.passScore, marginalScore: spec.marginalScore, score, metrics: judgements };
  const describeFail = (j: MetricJudgement): string =>
    j.missing ? `${j.metric} (missing values)` : `${j.metric} ${j.candidateMean.toPrecision(4)} vs ${j.baselineMean.toPrecision(4)}, shift ${pct(j.effect)}, p=${j.p.toPrecision(2)}`;
  const failedList = judgements.filter((j) => !j.pass).map(describeFail).join('; ');
  if (criticalFailed.length > 0) return outcome('failed', `critical metric(s) failed: ${criticalFailed.map(describeFail).join('; ')}`, inputs);
  const scoreText = `score ${score.toFixed(0)} (${passed}/${judgements.length} metrics pass)`;
  if (score >= spec.passScore) return outcome('pass', `${scoreText} over ${batches.length} batches`, inputs);
  if (score >= spec.marginalScore) return outcome('wait', `marginal ${scoreText}, below ${spec.passScore}; waiting for more batches: ${failedList}`, inputs);
  return outcome('failed', `${scoreText} below marginal ${spec.marginalScore}: ${failedList}`, inputs);
}
