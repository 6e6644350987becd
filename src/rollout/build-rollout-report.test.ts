import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../util/clock.ts';
import { buildRolloutReport } from './build-rollout-report.ts';
import type { BatchRecord } from './gate-evidence.ts';
import type { GateVerdict } from './gate-verdict.ts';
import { parseRolloutPlan } from './parse-rollout-plan.ts';
import { reduce } from './reduce.ts';
import type { RolloutEvent } from './rollout-event.ts';
import type { RolloutState } from './rollout-state.ts';
import { initialRolloutState } from './rollout-state.ts';
import { renderReportMarkdown } from './render-report-markdown.ts';
import type { Transition } from './transition.ts';

const parsed = parseRolloutPlan('rollouts/orders-v2.yaml', `step: orders.clean_orders
baseline: v1
candidate: v2
gates:
  checks: { kind: checks, on_fail: rollback }
environments:
  - { name: dev, stages: [{ mode: shadow, gates: [checks] }, { mode: canary, percent: 10, gates: [checks] }] }
  - { name: prod, stages: [{ mode: canary, percent: 10, gates: [checks] }] }
`);

describe('rollout report', () => {
  test('timeline of stages, batches with verdicts and numbers, decisions, people, and what was reverted', () => {
    assert.ok(parsed.ok);
    const plan = parsed.plan;
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    let state: RolloutState = initialRolloutState(plan.name);
    const transitions: Transition[] = [];
    const batches: BatchRecord[] = [];
    const verdicts: GateVerdict[] = [];
    const send = (e: RolloutEvent): void => {
      clock.advance(60_000);
      const r = reduce(state, e, { clock, plan, graph: { orders_clean: ['revenue'] } });
      state = r.state;
      transitions.push(...r.transitions);
      verdicts.push(...r.verdicts);
      if (r.batch) batches.push(r.batch);
    };
    const batch = (runId: string, ok: boolean, candidateRows: boolean): void =>
      send({
        kind: 'batch_completed', runId, environment: state.position?.environment ?? 'dev', partition: `p-${runId}`, success: true,
        evidence: { checks: [{ name: 'refunds_kept', success: ok, severity: 'error', observed: ok ? 0 : 42 }] },
        publications: [{ dataset: 'orders_clean', partition: `p-${runId}`, outputVersion: `${runId}:${candidateRows ? 'mix' : 'v1'}`, baselineOutputVersion: `${runId}:v1`, candidateRows }],
      });
    send({ kind: 'start', actor: 'alice', reason: 'ORD-7' });
    batch('r1', true, false);
    send({ kind: 'pause', actor: 'bob', reason: 'lunch' });
    send({ kind: 'resume', actor: 'bob', reason: 'back' });
    batch('r2', true, true);
    send({ kind: 'approve', actor: 'carol' });
    batch('r3', false, true);
    assert.equal(state.kind, 'rolled_back');

    const report = buildRolloutReport(transitions, batches, verdicts, state);
    assert.equal(report.outcome, 'rolled_back');
    assert.equal(report.startedBy, 'alice');
    assert.deepEqual(report.stages.map((s) => [`${s.environment}/${s.stage}`, s.batches, s.leftTo?.state]), [['dev/shadow', 1, 'progressing'], ['dev/canary-10', 1, 'progressing'], ['prod/canary-10', 1, 'rolled_back']]);
    assert.deepEqual(report.reverted?.republish.map((r) => r.partition), ['p-r2', 'p-r3']);
    assert.deepEqual(report.reverted?.rerun.map((r) => `${r.environment}:${r.dataset}`), ['dev:revenue', 'prod:revenue']);
    const lastBatch = report.timeline.filter((e) => e.kind === 'batch').pop();
    assert.ok(lastBatch?.kind === 'batch');
    assert.equal(lastBatch.verdicts[0]?.verdict, 'rollback');
    assert.deepEqual((lastBatch.verdicts[0]?.inputs['failing'] as { check: string }[])[0]?.check, 'refunds_kept');
    assert.deepEqual(report.people.map((p) => p.actor), ['alice', 'bob', 'carol']);
    assert.ok(report.people.find((p) => p.actor === 'carol')?.did.includes('approved prod/canary-10'));
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);

    const md = renderReportMarkdown(report);
    assert.match(md, /^# Rollout orders-v2: rolled_back/);
    assert.match(md, /\| prod \| canary-10 \| .* \| rolled_back prod\/canary-10 \| 1 \| 0 \| 0 \/ 0 \/ 0 \/ 1 \|/);
    assert.match(md, /republished `r3:v1` \(baseline of run r3\) over `r3:mix`/);
    assert.match(md, /\*\*bob\*\* pause at .*: lunch/);
    assert.match(md, /ROLLBACK `checks` \(checks, before publish\): check\(s\) failed on the candidate: refunds_kept/);
    assert.match(md, /Nothing was deleted/);
  });
  test('each gate verdict once per batch: a tick that passes a soak names the batch it rests on instead of repeating its checks', () => {
    const soaking = parseRolloutPlan('rollouts/soaked.yaml', `step: orders.clean_orders
baseline: v1
candidate: v2
gates:
  checks: { kind: checks, on_fail: rollback }
  soak: { kind: soak, min_duration: 1h }
environments:
  - { name: dev, stages: [{ mode: shadow, gates: [checks, soak] }, { mode: canary, percent: 10, gates: [checks] }] }
`);
    assert.ok(soaking.ok);
    const plan = soaking.plan;
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    let state: RolloutState = initialRolloutState(plan.name);
    const transitions: Transition[] = [];
    const batches: BatchRecord[] = [];
    const verdicts: GateVerdict[] = [];
    const send = (e: RolloutEvent, ms: number): void => {
      clock.advance(ms);
      const r = reduce(state, e, { clock, plan });
      state = r.state;
      transitions.push(...r.transitions);
      verdicts.push(...r.verdicts);
      if (r.batch) batches.push(r.batch);
    };
    send({ kind: 'start', actor: 'alice' }, 0);
    const evidence = { checks: [{ name: 'refunds_kept', success: true, severity: 'error' as const, observed: 0 }] };
    send({ kind: 'batch_completed', runId: 'r1', environment: 'dev', partition: 'p1', success: true, evidence, publications: [] }, 60_000);
    send({ kind: 'tick' }, 10 * 60_000); // soak still waits: stored, but no transition
    send({ kind: 'tick' }, 60 * 60_000); // soak passes: dev/shadow -> dev/canary-10
    assert.equal(state.position?.stageId, 'canary-10');
    assert.equal(verdicts.filter((v) => v.gate === 'checks').length, 3, 'the controller judged checks on the batch and on both ticks');

    const report = buildRolloutReport(transitions, batches, verdicts, state, plan);
    const moved = report.timeline.find((e) => e.kind === 'transition' && e.to.stage === 'canary-10');
    assert.ok(moved?.kind === 'transition');
    assert.deepEqual(moved.evidence.map((v) => [v.gate, v.verdict]), [['soak', 'pass']], 'only the verdict that changed');
    assert.deepEqual(moved.repeated, { batch: 'r1', gates: ['checks'] });
    assert.deepEqual(report.stages[0]?.verdictCounts, { pass: 2, wait: 1, fail: 0, rollback: 0 }, 'checks once, soak waiting on the batch, soak passing on the tick');
    const md = renderReportMarkdown(report);
    assert.equal(md.match(/`checks` \(checks, before publish\)/g)?.length, 1, md);
    assert.match(md, /-> progressing dev\/canary-10\*\* by sluice \(tick\): all 2 gate\(s\) of dev\/shadow passed \(on the verdicts of batch r1 above: checks\)\n {2}- pass `soak`/);
    assert.match(md, /\| dev \| shadow \| .* \| 1 \| 0 \| 2 \/ 1 \/ 0 \/ 0 \|/);
  });
});
