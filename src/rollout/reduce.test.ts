import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../util/clock.ts';
import { checkConflicts } from './check-conflicts.ts';
import type { Observations } from './gate-evidence.ts';
import { parseRolloutPlan } from './parse-rollout-plan.ts';
import type { ControllerConfig, ReduceResult } from './reduce.ts';
import { reduce } from './reduce.ts';
import type { RolloutAction } from './rollout-action.ts';
import type { RolloutEvent } from './rollout-event.ts';
import type { RolloutPlan } from './rollout-plan.ts';
import type { RolloutState } from './rollout-state.ts';
import { initialRolloutState } from './rollout-state.ts';

const PLAN_YAML = `name: orders-v2
step: orders.clean_orders
baseline: v1
candidate: v2
gates:
  checks: { kind: checks, on_fail: rollback }
  soak: { kind: soak, min_batches: 2, min_duration: 1h }
  diff: { kind: diff, max_changed_share: 0.05, on_fail: fail }
environments:
  - name: dev
    stages:
      - { mode: shadow, gates: [checks, diff] }
      - { mode: canary, percent: 10, gates: [checks, soak] }
      - { mode: full, gates: [checks] }
  - name: prod
    stages:
      - { mode: canary, percent: 10, gates: [checks] }
      - { mode: full, gates: [checks] }
`;

function loadPlan(text = PLAN_YAML): RolloutPlan {
  const r = parseRolloutPlan('rollouts/orders-v2.yaml', text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.plan;
}

const GRAPH = { orders_clean: ['orders_daily'], orders_daily: ['revenue'] };

/** A small driver: keeps state and clock, records every result. */
class Harness {
  state: RolloutState;
  readonly clock = new ManualClock('2026-03-02T09:00:00Z');
  readonly results: ReduceResult[] = [];
  observed: Observations = {};
  private run = 0;
  constructor(
    readonly plan: RolloutPlan = loadPlan(),
    readonly config: ControllerConfig = {},
  ) {
    this.state = initialRolloutState(plan.name);
  }
  environments?: readonly string[];
  send(event: RolloutEvent): ReduceResult {
    const r = reduce(this.state, event, { clock: this.clock, plan: this.plan, config: this.config, observed: this.observed, graph: GRAPH, ...(this.environments ? { environments: this.environments } : {}) });
    this.state = r.state;
    this.results.push(r);
    return r;
  }
  /** Starts and completes one batch in the current environment. */
  batch(opts: { ok?: boolean; changed?: number; env?: string; partition?: string; stage?: string } = {}): ReduceResult {
    const runId = `run-${++this.run}`;
    const env = opts.env ?? this.state.position?.environment ?? 'dev';
    const partition = opts.partition ?? `2026-03-${String(this.run).padStart(2, '0')}`;
    const exposure = this.state.exposures[env] ?? { mode: 'baseline' };
    this.send({ kind: 'run_started', runId, environment: env, partition });
    return this.send(this.completion(runId, env, partition, exposure.mode === 'canary' || exposure.mode === 'full', opts));
  }
  completion(runId: string, environment: string, partition: string, candidateRows: boolean, opts: { ok?: boolean; changed?: number; stage?: string } = {}): RolloutEvent {
    return {
      kind: 'batch_completed', runId, environment, partition, success: true, ...(opts.stage ? { stage: opts.stage } : {}),
      evidence: {
        checks: [{ name: 'refunds_kept', success: opts.ok ?? true, severity: 'error' }],
        diff: { rowsBaseline: 1000, rowsCandidate: 1000, rowsChanged: opts.changed ?? 0, rowsOnlyBaseline: 0, rowsOnlyCandidate: 0, columns: [] },
      },
      publications: [{ dataset: 'orders_clean', partition, outputVersion: `${runId}:${candidateRows ? 'mixed' : 'v1'}`, baselineOutputVersion: `${runId}:v1`, candidateRows }],
    };
  }
  get where(): string {
    return `${this.state.kind}${this.state.position ? ` ${this.state.position.environment}/${this.state.position.stageId}` : ''}`;
  }
  actions(kind: RolloutAction['kind']): RolloutAction[] {
    return this.results.flatMap((r) => r.actions).filter((a) => a.kind === kind);
  }
}

/** Drives the harness from start to dev/full (shadow and canary passed). */
function toDevFull(h: Harness): void {
  h.send({ kind: 'start', actor: 'alice' });
  h.batch();
  h.batch();
  h.batch();
  h.clock.advance(3_600_000);
  h.send({ kind: 'tick' });
  assert.equal(h.where, 'progressing dev/full');
}

describe('reducer: start and automatic promotion', () => {
  test('start enters the first stage, sets the flag, and records a transition with a reason', () => {
    const h = new Harness();
    const r = h.send({ kind: 'start', actor: 'alice', reason: 'ticket ORD-7' });
    assert.equal(h.where, 'progressing dev/shadow');
    assert.equal(h.state.startedBy, 'alice');
    assert.deepEqual(r.transitions.map((t) => [t.from.state, t.to.state, t.to.stage, t.actor, t.reason]), [['pending', 'progressing', 'shadow', 'alice', 'ticket ORD-7']]);
    assert.deepEqual(r.actions.filter((a) => a.kind === 'set_flag_exposure').map((a) => a.kind === 'set_flag_exposure' && [a.environment, a.exposure]), [['dev', { mode: 'shadow' }]]);
    assert.ok(r.actions.some((a) => a.kind === 'audit' && a.entry.type === 'transition'));
    assert.match(h.send({ kind: 'start', actor: 'bob' }).refused ?? '', /cannot start: the rollout is progressing/);
  });

  test('every gate passing promotes at once; waiting gates hold the stage and say why', () => {
    const h = new Harness();
    h.send({ kind: 'start', actor: 'alice' });
    const r1 = h.batch();
    assert.equal(h.where, 'progressing dev/canary-10');
    assert.deepEqual(r1.transitions[0]?.evidence.map((v) => [v.gate, v.verdict]), [['checks', 'pass'], ['diff', 'pass']]);
    assert.deepEqual(h.state.exposures['dev'], { mode: 'canary', target: { kind: 'rows', percent: 10 } });
    const r2 = h.batch();
    assert.equal(h.where, 'progressing dev/canary-10');
    assert.deepEqual(r2.transitions, []);
    assert.match(r2.waiting?.join('\n') ?? '', /soaking: 1 of 2 successful batches, 0ms of 1h in the stage/);
    h.batch();
    h.clock.advance(3_599_999);
    assert.equal(h.send({ kind: 'tick' }).transitions.length, 0);
    h.clock.advance(1);
    const r3 = h.send({ kind: 'tick' });
    assert.equal(h.where, 'progressing dev/full');
    assert.equal(r3.transitions[0]?.actor, 'sluice');
    assert.match(r3.transitions[0]?.reason ?? '', /all 2 gate\(s\) of dev\/canary-10 passed/);
  });

  test('a batch pinned to the previous stage is recorded but is not evidence for the current one', () => {
    const h = new Harness();
    h.send({ kind: 'start', actor: 'alice' });
    h.batch();
    assert.equal(h.where, 'progressing dev/canary-10');
    h.send(h.completion('late', 'dev', 'p0', false, { stage: 'shadow', ok: false }));
    assert.equal(h.where, 'progressing dev/canary-10');
    assert.equal(h.state.batches.length, 0);
  });

  test('the last stage passing promotes the rollout and sets the candidate everywhere', () => {
    const h = new Harness();
    toDevFull(h);
    h.batch();
    assert.equal(h.where, 'awaiting_approval dev/full');
    h.send({ kind: 'approve', actor: 'bob' });
    assert.equal(h.where, 'progressing prod/canary-10');
    h.batch();
    assert.equal(h.where, 'progressing prod/full');
    const r = h.batch();
    assert.equal(h.where, 'promoted prod/full');
    assert.deepEqual(h.state.exposures, { dev: { mode: 'full' }, prod: { mode: 'full' } });
    assert.match(r.transitions[0]?.reason ?? '', /v2 is now the baseline in dev, prod$/);
    assert.match(h.send({ kind: 'rollback', actor: 'bob', reason: 'x' }).refused ?? '', /cannot roll back: the rollout is promoted/);
  });

  test('promotion says which environments run the candidate and which, outside the plan, still run the baseline', () => {
    const h = new Harness();
    h.environments = ['dev', 'test', 'stage', 'prod'];
    toDevFull(h);
    h.batch();
    h.send({ kind: 'approve', actor: 'bob' });
    h.batch();
    const r = h.batch();
    assert.equal(h.where, 'promoted prod/full');
    assert.match(r.transitions[0]?.reason ?? '', /v2 is now the baseline in dev, prod; test, stage \(not in the plan\) still run v1$/);
    const note = r.actions.find((a) => a.kind === 'notify');
    assert.match(note?.kind === 'notify' ? note.message : '', /test, stage \(not in the plan\) still run v1/);
  });
});

describe('reducer: approvals', () => {
  test('prod needs an approval from someone other than the starter; the starter is refused', () => {
    const h = new Harness();
    toDevFull(h);
    const r = h.batch();
    assert.equal(h.where, 'awaiting_approval dev/full');
    assert.match(r.transitions[0]?.reason ?? '', /prod\/canary-10 needs 1 approval\(s\) from someone other than alice/);
    const refused = h.send({ kind: 'approve', actor: 'alice' });
    assert.equal(refused.refused, 'approval refused: alice started this rollout, and approvals must come from someone else');
    assert.equal(refused.state, h.state);
    assert.ok(refused.actions.some((a) => a.kind === 'audit' && a.entry.type === 'refused' && a.entry.actor === 'alice'));
    assert.equal(h.where, 'awaiting_approval dev/full');
    const ok = h.send({ kind: 'approve', actor: 'bob', reason: 'change reviewed' });
    assert.equal(h.where, 'progressing prod/canary-10');
    assert.ok(ok.transitions[0]?.evidence.some((v) => v.gateKind === 'approval' && v.verdict === 'pass' && v.reason === 'approved by bob'));
    assert.deepEqual(h.state.approvals, []);
  });

  test('manual promote skips gates but never approvals', () => {
    const h = new Harness();
    h.send({ kind: 'start', actor: 'alice' });
    const r = h.send({ kind: 'promote', actor: 'alice', reason: 'hotfix', toStage: 'prod/full' });
    assert.equal(h.where, 'awaiting_approval dev/shadow');
    assert.equal(r.transitions[0]?.to.state, 'awaiting_approval');
    h.send({ kind: 'tick' });
    assert.equal(h.where, 'awaiting_approval dev/shadow');
    h.send({ kind: 'approve', actor: 'carol' });
    assert.equal(h.where, 'progressing prod/full');
    assert.deepEqual(h.state.reached, ['dev/shadow', 'prod/full']);
  });
});

describe('reducer: batch boundaries and manual commands', () => {
  test('transitions wait for runs in flight; promote is refused while a run is in flight', () => {
    const h = new Harness();
    h.send({ kind: 'start', actor: 'alice' });
    h.send({ kind: 'run_started', runId: 'a', environment: 'dev', partition: 'p1' });
    h.send({ kind: 'run_started', runId: 'b', environment: 'dev', partition: 'p2' });
    const r = h.send(h.completion('a', 'dev', 'p1', false));
    assert.equal(h.where, 'progressing dev/shadow');
    assert.match(r.waiting?.join() ?? '', /batch boundary: run\(s\) b in flight/);
    assert.match(h.send({ kind: 'promote', actor: 'alice', reason: 'go' }).refused ?? '', /cannot promote now: waiting for the batch boundary/);
    h.send({ kind: 'run_finished', runId: 'b', success: false });
    assert.equal(h.where, 'progressing dev/canary-10');
  });

  test('promote moves forward only and can jump stages', () => {
    const h = new Harness();
    h.send({ kind: 'start', actor: 'alice' });
    h.send({ kind: 'promote', actor: 'alice', reason: 'skip shadow', toStage: 'full' });
    assert.equal(h.where, 'progressing dev/full');
    assert.match(h.send({ kind: 'promote', actor: 'alice', reason: 'x', toStage: 'shadow' }).refused ?? '', /not after dev\/full; use rollback/);
    assert.match(h.send({ kind: 'promote', actor: 'alice', reason: 'x', toStage: 'nope' }).refused ?? '', /no stage "nope"/);
  });

  test('a failing fail-gate pauses and tells; resume judges only new batches', () => {
    const h = new Harness();
    h.send({ kind: 'start', actor: 'alice' });
    const r = h.batch({ changed: 200 });
    assert.equal(h.where, 'paused dev/shadow');
    assert.match(r.transitions[0]?.reason ?? '', /gate failed: gate diff: diff over threshold: changed rows 20% > 5%/);
    assert.ok(r.actions.some((a) => a.kind === 'notify' && a.level === 'error'));
    h.send({ kind: 'tick' });
    assert.equal(h.where, 'paused dev/shadow');
    assert.match(h.send({ kind: 'pause', actor: 'bob', reason: 'x' }).refused ?? '', /cannot pause: the rollout is paused/);
    h.clock.advance(1000);
    h.send({ kind: 'resume', actor: 'bob', reason: 'diff explained by the fix' });
    assert.equal(h.where, 'progressing dev/shadow');
    const t = h.send({ kind: 'tick' });
    assert.match(t.waiting?.join() ?? '', /waiting for check results/);
    h.batch();
    assert.equal(h.where, 'progressing dev/canary-10');
  });

  test('pause and resume by hand; abort returns flags to baseline and keeps data; rollback may follow', () => {
    const h = new Harness();
    h.send({ kind: 'start', actor: 'alice' });
    h.batch();
    h.batch();
    h.send({ kind: 'pause', actor: 'bob', reason: 'holiday' });
    assert.equal(h.where, 'paused dev/canary-10');
    h.send({ kind: 'resume', actor: 'bob', reason: 'back' });
    assert.equal(h.where, 'progressing dev/canary-10');
    const a = h.send({ kind: 'abort', actor: 'bob', reason: 'wrong ticket' });
    assert.equal(h.state.kind, 'aborted');
    assert.deepEqual(h.state.exposures, { dev: { mode: 'baseline' } });
    assert.equal(a.actions.filter((x) => x.kind === 'republish').length, 0);
    const rb = h.send({ kind: 'rollback', actor: 'bob', reason: 'revert the canary data too' });
    assert.equal(h.state.kind, 'rolled_back');
    const rep = rb.actions.find((x) => x.kind === 'republish');
    assert.deepEqual(rep?.kind === 'republish' && rep.items.map((i) => [i.partition, i.outputVersion, i.replaces]), [['2026-03-02', 'run-2:v1', 'run-2:mixed']]);
  });
});

describe('reducer: rollback', () => {
  test('a rollback gate reverts flags, republishes every touched partition from baseline and re-runs downstream in order', () => {
    const h = new Harness();
    h.send({ kind: 'start', actor: 'alice' });
    h.batch();
    h.batch({ partition: 'p1' });
    h.batch({ partition: 'p2' });
    const r = h.batch({ partition: 'p3', ok: false });
    assert.equal(h.state.kind, 'rolled_back');
    const kinds = r.actions.filter((a) => a.kind !== 'audit' && a.kind !== 'notify').map((a) => a.kind);
    assert.deepEqual(kinds, ['set_flag_exposure', 'republish', 'rerun_downstream']);
    const rep = r.actions.find((a) => a.kind === 'republish');
    assert.deepEqual(rep?.kind === 'republish' && rep.items.map((i) => `${i.partition}<-${i.outputVersion}`), ['p1<-run-2:v1', 'p2<-run-3:v1', 'p3<-run-4:v1']);
    const rerun = r.actions.find((a) => a.kind === 'rerun_downstream');
    assert.deepEqual(rerun?.kind === 'rerun_downstream' && rerun.items.map((i) => i.dataset), ['orders_daily', 'revenue']);
    assert.equal(r.transitions[0]?.actor, 'sluice');
    assert.match(r.transitions[0]?.reason ?? '', /automatic rollback: gate checks: check\(s\) failed on the candidate: refunds_kept; republished 3 partition\(s\)/);
    assert.ok(h.state.published.every((p) => !p.candidateRows && p.outputVersion === p.baselineOutputVersion));
  });

  test('a rollback requested while a run is in flight flips flags now and republishes at the boundary, including that run', () => {
    const h = new Harness();
    h.send({ kind: 'start', actor: 'alice' });
    h.batch();
    h.batch({ partition: 'p1' });
    h.send({ kind: 'run_started', runId: 'inflight', environment: 'dev', partition: 'p2' });
    const r1 = h.send({ kind: 'rollback', actor: 'bob', reason: 'customer report' });
    assert.equal(h.state.kind, 'rolling_back');
    assert.deepEqual(h.state.exposures, { dev: { mode: 'baseline' } });
    assert.equal(r1.actions.filter((a) => a.kind === 'republish').length, 0);
    assert.match(r1.transitions[0]?.reason ?? '', /waiting for run\(s\) inflight to finish before republishing/);
    assert.match(h.send({ kind: 'rollback', actor: 'bob', reason: 'again' }).refused ?? '', /already under way/);
    assert.match(h.send({ kind: 'promote', actor: 'bob', reason: 'x' }).refused ?? '', /rolling_back/);
    // A run started after the flip is pinned to baseline and is not waited for.
    h.send({ kind: 'run_started', runId: 'after', environment: 'dev', partition: 'p3' });
    const r2 = h.send(h.completion('inflight', 'dev', 'p2', true));
    assert.equal(h.state.kind, 'rolled_back');
    assert.equal(r2.transitions[0]?.actor, 'bob');
    const rep = r2.actions.find((a) => a.kind === 'republish');
    assert.deepEqual(rep?.kind === 'republish' && rep.items.map((i) => i.partition), ['p1', 'p2']);
    // A candidate publication that still arrives afterwards is reverted at once.
    const r3 = h.send(h.completion('stray', 'dev', 'p4', true));
    assert.deepEqual(r3.actions.filter((a) => a.kind === 'republish').map((a) => a.kind === 'republish' && a.items.map((i) => i.partition)), [['p4']]);
    assert.equal(r3.transitions.length, 0);
  });
});

describe('reducer: staggering and time windows', () => {
  test('at most N stage transitions per environment per window; promote is refused meanwhile', () => {
    const h = new Harness(loadPlan(), { stagger: { maxTransitions: 2, windowMs: 3_600_000 } });
    h.send({ kind: 'start', actor: 'alice' });
    h.observed = { recentTransitions: [
      { rollout: 'other', environment: 'dev', at: '2026-03-02T08:30:00Z' },
      { rollout: 'orders-v2', environment: 'dev', at: '2026-03-02T09:00:00Z' },
    ] };
    const r = h.batch();
    assert.equal(h.where, 'progressing dev/shadow');
    assert.match(r.waiting?.join() ?? '', /staggered: 2 stage transition\(s\) in dev in the last 60 min \(max 2\)/);
    assert.match(h.send({ kind: 'promote', actor: 'alice', reason: 'x' }).refused ?? '', /staggered/);
    h.clock.set('2026-03-02T09:30:00.001Z');
    h.send({ kind: 'tick' });
    assert.equal(h.where, 'progressing dev/canary-10');
  });

  test('a window gate holds promotion until the zone\'s working hours, across the spring DST change', () => {
    const plan = loadPlan(`step: orders.clean_orders
baseline: v1
candidate: v2
environments:
  - name: prod
    stages:
      - mode: shadow
        gates: [{ id: hours, kind: window, zone: Europe/Berlin, allow: [{ days: mon-fri, from: "09:00", to: "16:00" }] }]
      - { mode: full }
approvals: { before: [] }
`);
    const h = new Harness(plan);
    h.clock.set('2026-03-27T15:30:00Z'); // Fri 16:30 CET
    h.send({ kind: 'start', actor: 'alice' });
    assert.equal(h.where, 'progressing prod/shadow');
    h.clock.set('2026-03-29T10:00:00Z'); // Sun
    assert.match(h.send({ kind: 'tick' }).waiting?.join() ?? '', /outside allowed windows/);
    h.clock.set('2026-03-30T06:59:00Z'); // Mon 08:59 CEST
    h.send({ kind: 'tick' });
    assert.equal(h.where, 'progressing prod/shadow');
    h.clock.set('2026-03-30T07:00:00Z'); // Mon 09:00 CEST (would be 08:00 in winter time)
    h.send({ kind: 'tick' });
    assert.equal(h.where, 'progressing prod/full');
  });
});

describe('checkConflicts', () => {
  test('two rollouts may not change the same step or dataset at once', () => {
    const mine = loadPlan();
    const other = { ...loadPlan(), name: 'orders-v3' };
    const daily = { ...loadPlan(), name: 'daily-v2', steps: [{ pipeline: 'orders', step: 'daily' }] };
    const datasetsOf = (s: { step: string }) => (s.step === 'clean_orders' ? ['orders_clean'] : ['orders_daily', 'orders_clean']);
    const c = checkConflicts([
      { name: 'orders-v3', state: 'progressing', plan: other },
      { name: 'daily-v2', state: 'paused', plan: daily },
      { name: 'old', state: 'promoted', plan: { ...other, name: 'old' } },
      { name: 'orders-v2', state: 'progressing', plan: mine },
    ], mine, datasetsOf);
    assert.deepEqual(c.map((x) => `${x.rollout}:${x.kind}:${x.step ?? x.dataset}`), ['orders-v3:step:orders.clean_orders', 'orders-v3:dataset:orders_clean', 'daily-v2:dataset:orders_clean']);
    assert.match(c[0]?.message ?? '', /already being rolled out by orders-v3 \(progressing\)/);
  });
});
