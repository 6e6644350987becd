import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { BatchEvidence, BatchRecord, GateContext } from '../gate-evidence.ts';
import type { GateSpec, JudgeGateSpec, WindowGateSpec } from '../gate-spec.ts';
import { evaluateGate } from './evaluate-gate.ts';
import { mannWhitneyU } from './mann-whitney.ts';
import { approvalRefusal } from './approval-gate.ts';

const NOW = new Date('2026-03-02T10:00:00Z');

function batch(i: number, evidence: BatchEvidence, success = true): BatchRecord {
  return { runId: `r${i}`, environment: 'prod', stage: 'canary-10', partition: `2026-03-0${(i % 9) + 1}`, at: NOW.toISOString(), success, evidence };
}

function ctx(over: Partial<GateContext> = {}): GateContext {
  return { now: NOW, batches: [], windowStart: '2026-03-02T08:00:00Z', approvals: [], runInFlight: false, startedBy: 'alice', ...over };
}

describe('gate: checks', () => {
  const spec: GateSpec = { id: 'c', kind: 'checks', onFail: 'rollback', failOn: 'error', window: 1, checks: undefined };
  test('waits without results, passes clean, rolls back on an error, ignores warnings unless asked', () => {
    assert.equal(evaluateGate(spec, ctx()).verdict, 'wait');
    const clean = batch(1, { checks: [{ name: 'not_null(id)', success: true, severity: 'error' }, { name: 'fresh', success: false, severity: 'warn' }] });
    assert.equal(evaluateGate(spec, ctx({ batches: [clean] })).verdict, 'pass');
    assert.equal(evaluateGate({ ...spec, failOn: 'warn' }, ctx({ batches: [clean] })).verdict, 'rollback');
    const bad = batch(2, { checks: [{ name: 'refunds_kept', success: false, severity: 'error', observed: 17 }] });
    const v = evaluateGate(spec, ctx({ batches: [clean, bad] }));
    assert.equal(v.verdict, 'rollback');
    assert.match(v.reason, /refunds_kept/);
    assert.deepEqual((v.inputs['failing'] as unknown[]).length, 1);
  });
  test('a listed check that did not run fails with on_fail', () => {
    const v = evaluateGate({ ...spec, onFail: 'fail', checks: ['contract'] }, ctx({ batches: [batch(1, { checks: [] })] }));
    assert.equal(v.verdict, 'fail');
    assert.match(v.reason, /did not run: contract/);
  });
});

describe('gate: diff and drift', () => {
  const spec: GateSpec = { id: 'd', kind: 'diff', onFail: 'fail', window: 2, maxChangedShare: 0.01, maxColumnMismatch: { amount: 0.001, '*': 0.05 }, maxOnlyBaselineShare: 0, maxPsi: 0.2, maxKs: 0.1 };
  const diff = (changed: number, amountMismatch: number, onlyBase = 0, psi = 0.01) => ({
    diff: { rowsBaseline: 10_000, rowsCandidate: 10_000 - onlyBase, rowsChanged: changed, rowsOnlyBaseline: onlyBase, rowsOnlyCandidate: 0, columns: [{ column: 'amount', mismatchShare: amountMismatch, psi, ks: 0.02 }, { column: 'note', mismatchShare: 0.04 }] },
  });
  test('waits for the window, passes within thresholds', () => {
    assert.equal(evaluateGate(spec, ctx({ batches: [batch(1, diff(10, 0))] })).verdict, 'wait');
    const v = evaluateGate(spec, ctx({ batches: [batch(1, diff(10, 0)), batch(2, diff(50, 0.0005))] }));
    assert.equal(v.verdict, 'pass', v.reason);
  });
  test('fails on changed share, column mismatch, one-sided rows and PSI, naming each', () => {
    const v = evaluateGate(spec, ctx({ batches: [batch(1, diff(10, 0)), batch(2, diff(200, 0.002, 3, 0.35))] }));
    assert.equal(v.verdict, 'fail');
    assert.match(v.reason, /changed rows 2% > 1%/);
    assert.match(v.reason, /column amount mismatch 0\.2% > 0\.1%/);
    assert.match(v.reason, /baseline-only rows/);
    assert.match(v.reason, /column amount PSI 0\.350 > 0\.2/);
    assert.doesNotMatch(v.reason, /column note/);
  });
});

describe('gate: metrics', () => {
  const m = (base: Record<string, number>, cand: Record<string, number>) => ({ metrics: { baseline: base, candidate: cand } });
  const spec: GateSpec = {
    id: 'm', kind: 'metrics', onFail: 'rollback', window: 3,
    bounds: [
      { metric: 'row_count', direction: 'decrease', maxRelative: 0.02 },
      { metric: 'null_rate.amount', direction: 'increase', maxAbsolute: 0.001 },
      { metric: 'duration_ms', direction: 'increase', maxRelative: 0.5 },
    ],
  };
  test('judges the mean of the last N batches against relative and absolute bounds', () => {
    const ok = [1, 2, 3].map((i) => batch(i, m({ row_count: 1000, 'null_rate.amount': 0, duration_ms: 100 }, { row_count: 1010, 'null_rate.amount': 0.0005, duration_ms: 140 })));
    assert.equal(evaluateGate(spec, ctx({ batches: ok.slice(0, 2) })).verdict, 'wait');
    assert.equal(evaluateGate(spec, ctx({ batches: ok })).verdict, 'pass');
    const fewer = batch(4, m({ row_count: 1000, 'null_rate.amount': 0, duration_ms: 100 }, { row_count: 880, 'null_rate.amount': 0.0005, duration_ms: 100 }));
    const v = evaluateGate(spec, ctx({ batches: [...ok, fewer] }));
    assert.equal(v.verdict, 'rollback');
    assert.match(v.reason, /row_count moved 3\.33% \(1000 -> 966\.667\), limit 2%/);
  });
  test('a missing metric fails', () => {
    const b = [1, 2, 3].map((i) => batch(i, m({ row_count: 1 }, { row_count: 1 })));
    assert.match(evaluateGate(spec, ctx({ batches: b })).reason, /null_rate\.amount missing/);
  });
});

describe('Mann–Whitney U', () => {
  test('exact p-values without ties match the reference distribution', () => {
    const r = mannWhitneyU([1.1, 2.3, 3.5, 4.0, 5.2, 6.1, 7.7, 8.4, 9.9, 10.5], [3.3, 4.4, 5.5, 6.6, 7.2, 8.8, 9.1, 10.1, 11.7, 12.9]);
    assert.equal(r.method, 'exact');
    assert.equal(r.u1, 32);
    assert.ok(Math.abs(r.pLess - 0.095158) < 1e-5, String(r.pLess));
    assert.ok(Math.abs(r.pTwoSided - 0.190316) < 1e-5, String(r.pTwoSided));
    assert.equal(mannWhitneyU([1, 2, 3], [4, 5, 6]).pLess, 0.05);
  });
  test('normal approximation with tie and continuity correction', () => {
    const r = mannWhitneyU([1, 2, 2, 3, 3, 3, 4, 5, 5, 6], [3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9]);
    assert.equal(r.method, 'normal');
    assert.equal(r.u1, 17.5);
    assert.ok(Math.abs(r.pLess - 0.0026034) < 1e-5, String(r.pLess));
    assert.ok(Math.abs(r.pTwoSided - 0.0052067) < 2e-5, String(r.pTwoSided));
    assert.ok(Math.abs(r.pGreater - 0.997885) < 1e-4, String(r.pGreater));
    assert.ok(r.rankBiserial < 0);
  });
  test('identical samples are not significant', () => {
    const r = mannWhitneyU([5, 5, 5, 5, 5, 5, 5, 5], [5, 5, 5, 5, 5, 5, 5, 5]);
    assert.equal(r.pTwoSided, 1);
  });
});

describe('gate: statistical judge', () => {
  const spec: JudgeGateSpec = {
    id: 'j', kind: 'judge', onFail: 'rollback', window: 20, minBatches: 8, alpha: 0.05, passScore: 95, marginalScore: 50,
    metrics: [
      { metric: 'row_count', direction: 'decrease', effectSize: 0.01, critical: true },
      { metric: 'duration_ms', direction: 'increase', effectSize: 0.2, critical: false },
    ],
  };
  const batches = (rowDrop: number, slow: number) =>
    Array.from({ length: 10 }, (_, i) => batch(i, { metrics: { baseline: { row_count: 1000 + i * 7, duration_ms: 100 + (i % 3) }, candidate: { row_count: (1000 + i * 7) * (1 - rowDrop) + (i % 2), duration_ms: (100 + (i % 3)) * (1 + slow) + 0.5 } } }));
  test('waits until the minimum number of batches', () => {
    assert.equal(evaluateGate(spec, ctx({ batches: batches(0, 0).slice(0, 7) })).verdict, 'wait');
  });
  test('passes when the candidate is like the baseline', () => {
    const v = evaluateGate(spec, ctx({ batches: batches(0, 0) }));
    assert.equal(v.verdict, 'pass', v.reason);
    assert.equal(v.inputs['score'], 100);
  });
  test('a failing critical metric fails the whole judgement', () => {
    const v = evaluateGate(spec, ctx({ batches: batches(0.03, 0) }));
    assert.equal(v.verdict, 'rollback');
    assert.match(v.reason, /critical metric\(s\) failed: row_count/);
  });
  test('a significant but too small shift passes; a non-critical failure gives a marginal score that waits', () => {
    assert.equal(evaluateGate(spec, ctx({ batches: batches(0, 0.1) })).verdict, 'pass');
    const v = evaluateGate(spec, ctx({ batches: batches(0, 0.5) }));
    assert.equal(v.verdict, 'wait');
    assert.match(v.reason, /marginal score 50/);
    assert.equal(evaluateGate({ ...spec, marginalScore: 60 }, ctx({ batches: batches(0, 0.5) })).verdict, 'rollback');
  });
  test('the decrease direction ignores increases', () => {
    const v = evaluateGate(spec, ctx({ batches: batches(-0.05, 0) }));
    assert.equal(v.verdict, 'pass', v.reason);
  });
});

describe('gate: soak', () => {
  const spec: GateSpec = { id: 's', kind: 'soak', onFail: 'fail', minBatches: 2, minDurationMs: 3_600_000 };
  test('needs both successful batches and time in the stage', () => {
    const b = [batch(1, {}), batch(2, {}, false)];
    assert.match(evaluateGate(spec, ctx({ batches: b })).reason, /1 of 2 successful batches/);
    const two = [...b, batch(3, {})];
    assert.equal(evaluateGate(spec, ctx({ batches: two, now: new Date('2026-03-02T08:59:00Z') })).verdict, 'wait');
    assert.equal(evaluateGate(spec, ctx({ batches: two, now: new Date('2026-03-02T09:00:00Z') })).verdict, 'pass');
  });
});

describe('gate: time windows across daylight-saving changes (Europe/Berlin)', () => {
  const spec: WindowGateSpec = {
    id: 'w', kind: 'window', onFail: 'fail', zone: 'Europe/Berlin',
    allow: [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '16:00' }],
    freeze: [
      { kind: 'range', from: '2026-10-24T23:00:00.000Z', to: '2026-10-25T03:00:00.000Z' },
      { kind: 'annual', from: '12-20', to: '01-05' },
      { kind: 'weekly', days: [5], from: '14:00', to: '24:00' },
    ],
  };
  const at = (iso: string, runInFlight = false) => evaluateGate(spec, ctx({ now: new Date(iso), runInFlight }));
  test('spring forward (29 March 2026): 09:00 local moves from 08:00Z to 07:00Z', () => {
    assert.equal(at('2026-03-27T08:30:00Z').verdict, 'pass'); // Fri 09:30 CET
    assert.equal(at('2026-03-27T07:30:00Z').verdict, 'wait'); // Fri 08:30 CET
    assert.equal(at('2026-03-30T07:30:00Z').verdict, 'pass'); // Mon 09:30 CEST
    assert.equal(at('2026-03-26T14:30:00Z').verdict, 'pass'); // Thu 15:30 CET
    const v = at('2026-03-30T14:30:00Z'); // Mon 16:30 CEST
    assert.equal(v.verdict, 'wait');
    assert.match(v.reason, /Mon 2026-03-30 16:30 Europe\/Berlin \(UTC\+02:00\)/);
  });
  test('fall back (25 October 2026): 09:00 local moves from 07:00Z to 08:00Z', () => {
    assert.equal(at('2026-10-23T07:30:00Z').verdict, 'pass'); // Fri 09:30 CEST
    assert.equal(at('2026-10-26T07:30:00Z').verdict, 'wait'); // Mon 08:30 CET
    assert.equal(at('2026-10-26T08:30:00Z').verdict, 'pass'); // Mon 09:30 CET
  });
  test('freeze windows: a local range over the repeated hour, the year end, Friday afternoons', () => {
    // 02:30 happens twice on 25 October; both are inside the 01:00-04:00 local freeze (23:00Z-03:00Z)
    assert.match(at('2026-10-25T00:30:00Z').reason, /inside freeze/);
    assert.match(at('2026-10-25T01:30:00Z').reason, /inside freeze/);
    assert.match(at('2026-12-22T10:00:00Z').reason, /freeze window 12-20 \.\. 01-05/);
    assert.match(at('2027-01-05T10:00:00Z').reason, /freeze/);
    assert.equal(at('2027-01-06T10:00:00Z').verdict, 'pass');
    assert.equal(at('2026-03-27T12:59:00Z').verdict, 'pass'); // Fri 13:59 CET
    assert.match(at('2026-03-27T13:00:00Z').reason, /freeze/); // Fri 14:00 CET
  });
  test('only at a batch boundary', () => {
    const v = at('2026-03-27T08:30:00Z', true);
    assert.equal(v.verdict, 'wait');
    assert.match(v.reason, /run is in flight/);
  });
});

describe('gate: approvals', () => {
  const spec: GateSpec = { id: 'a', kind: 'approval', onFail: 'fail', required: 2 };
  test('counts distinct approvers other than the starter', () => {
    const approvals = [{ actor: 'alice', at: '' }, { actor: 'bob', at: '' }, { actor: 'bob', at: '' }];
    assert.equal(evaluateGate(spec, ctx({ approvals })).verdict, 'wait');
    assert.equal(evaluateGate(spec, ctx({ approvals: [...approvals, { actor: 'carol', at: '' }] })).verdict, 'pass');
  });
  test('the starter approving is refused with a clear reason', () => {
    assert.equal(approvalRefusal('alice', 'alice', []), 'approval refused: alice started this rollout, and approvals must come from someone else');
    assert.match(approvalRefusal('bob', 'alice', [{ actor: 'bob', at: '' }]) ?? '', /already approved/);
    assert.equal(approvalRefusal('bob', 'alice', []), undefined);
  });
});

describe('gate: dependency readiness', () => {
  const spec: GateSpec = { id: 'dep', kind: 'dependency', onFail: 'fail', rollout: 'raw-orders-v3', reached: 'prod/full', dataset: 'fx_rates', maxAgeMs: 6 * 3_600_000 };
  const observed = (state: string, reached: string[], publishedAt = '2026-03-02T06:00:00Z') => ({ rollouts: { 'raw-orders-v3': { state, reached } }, datasets: { fx_rates: { publishedAt } } });
  test('waits for the upstream stage and a fresh dataset, fails when upstream rolled back', () => {
    assert.match(evaluateGate(spec, ctx()).reason, /unknown/);
    assert.equal(evaluateGate(spec, ctx({ observed: observed('progressing', ['prod/canary-10']) })).verdict, 'wait');
    assert.equal(evaluateGate(spec, ctx({ observed: observed('progressing', ['prod/canary-10', 'prod/full']) })).verdict, 'pass');
    assert.equal(evaluateGate(spec, ctx({ observed: observed('promoted', []) })).verdict, 'pass');
    assert.match(evaluateGate(spec, ctx({ observed: observed('promoted', [], '2026-03-02T03:00:00Z') })).reason, /fx_rates is stale \(7h old, max 6h\)/);
    assert.equal(evaluateGate(spec, ctx({ observed: observed('rolled_back', []) })).verdict, 'fail');
  });
});

describe('gate: anomaly', () => {
  const spec: GateSpec = { id: 'an', kind: 'anomaly', onFail: 'rollback', window: 1, metrics: ['null_rate.amount'] };
  test('a flagged anomaly on a guarded metric rolls back; others are ignored', () => {
    assert.equal(evaluateGate(spec, ctx()).verdict, 'wait');
    const quiet = batch(1, { anomalies: [{ metric: 'row_count', flagged: true }, { metric: 'null_rate.amount', flagged: false }] });
    assert.equal(evaluateGate(spec, ctx({ batches: [quiet] })).verdict, 'pass');
    const loud = batch(2, { anomalies: [{ metric: 'null_rate.amount', flagged: true, actual: 0.2, expected: 0.01 }] });
    const v = evaluateGate(spec, ctx({ batches: [quiet, loud] }));
    assert.equal(v.verdict, 'rollback');
    assert.match(v.reason, /null_rate\.amount = 0\.2 \(expected 0\.01\)/);
  });
});
