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
});
