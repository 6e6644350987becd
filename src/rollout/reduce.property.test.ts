/**
 * Property test: random sequences of runs, batches (with random gate evidence), ticks and manual
 * commands go through the reducer, while a tiny model of the flag store and the warehouse carries
 * out its actions. Every row of every stored output is tagged with the version that produced it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../util/clock.ts';
import { parseRolloutPlan } from './parse-rollout-plan.ts';
import { reduce } from './reduce.ts';
import type { RolloutEvent } from './rollout-event.ts';
import type { Exposure, RolloutPlan } from './rollout-plan.ts';
import { exposureOf } from './rollout-plan.ts';
import type { RolloutState } from './rollout-state.ts';
import { initialRolloutState } from './rollout-state.ts';
import { stageAt } from './stage-navigation.ts';

const PLAN_YAML = `name: prop
step: orders.clean_orders
baseline: v1
candidate: v2
gates:
  checks: { kind: checks, on_fail: rollback }
  diff: { kind: diff, max_changed_share: 0.3, on_fail: fail }
  soak: { kind: soak, min_batches: 1, min_duration: 10m }
environments:
  - name: dev
    stages:
      - { mode: shadow, gates: [checks, diff] }
      - { mode: canary, percent: 10, gates: [checks, soak] }
      - { mode: canary, percent: 50, gates: [checks, diff] }
      - { mode: full, gates: [checks] }
  - name: prod
    stages:
      - { mode: canary, datasets: [orders_clean], gates: [checks] }
      - { mode: canary, percent: 50, gates: [checks] }
      - { mode: full, gates: [checks, soak] }
`;

const parsed = parseRolloutPlan('rollouts/prop.yaml', PLAN_YAML);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const PLAN: RolloutPlan = parsed.plan;
const DATASET = 'orders_clean';
const KEYS = Array.from({ length: 20 }, (_, i) => i);
/** A sticky bucket per key in 0..9999 (the model's stand-in for the md5 bucketing). */
const bucket = (key: number): number => (key * 7919 + 13) % 10_000;

type Row = { readonly key: number; readonly by: 'v1' | 'v2' };
type Version = { readonly id: string; readonly rows: readonly Row[]; readonly run: string; readonly exposure: Exposure };

/** Which rows the candidate produces under an exposure. */
function candidateRow(exposure: Exposure, key: number): boolean {
  switch (exposure.mode) {
    case 'baseline':
    case 'shadow':
      return false;
    case 'full':
      return true;
    case 'canary': {
      const t = exposure.target;
      if (t.kind === 'rows') return bucket(key) < t.percent * 100;
      if (t.kind === 'list') return t.dimension === 'datasets' && t.values.includes(DATASET);
      return false;
    }
  }
}

type Cmd =
  | { t: 'run'; env: 'dev' | 'prod' | 'current'; partition: number }
  | { t: 'batch'; partition: number; bad: number }
  | { t: 'finish'; pick: number; ok: boolean; bigDiff: boolean; crash: boolean }
  | { t: 'tick'; minutes: number }
  | { t: 'manual'; kind: 'start' | 'approve' | 'pause' | 'resume' | 'abort' | 'rollback' | 'promote'; actor: 'alice' | 'bob' | 'carol' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ t: fc.constant('run' as const), env: fc.constantFrom('dev' as const, 'prod' as const, 'current' as const), partition: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('batch' as const), partition: fc.integer({ min: 0, max: 4 }), bad: fc.integer({ min: 0, max: 29 }) }) },
  {
    weight: 6,
    arbitrary: fc.record({ pick: fc.nat(), bad: fc.integer({ min: 0, max: 19 }) }).map(({ pick, bad }) => ({ t: 'finish' as const, pick, ok: bad !== 0, bigDiff: bad === 1, crash: bad === 2 })),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('tick' as const), minutes: fc.integer({ min: 0, max: 30 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('manual' as const),
      kind: fc.oneof(
        { weight: 6, arbitrary: fc.constant('approve' as const) },
        { weight: 4, arbitrary: fc.constantFrom('promote' as const, 'pause' as const, 'resume' as const, 'start' as const) },
        { weight: 1, arbitrary: fc.constantFrom('abort' as const, 'rollback' as const) },
      ),
      actor: fc.constantFrom('alice' as const, 'bob' as const, 'carol' as const),
    }),
  },
);

function pointOf(s: RolloutState): string {
  return `${s.kind}${s.position ? ` ${s.position.environment}/${s.position.stageId}` : ''}`;
}

class World {
  state: RolloutState = initialRolloutState(PLAN.name);
  readonly clock = new ManualClock('2026-03-02T09:00:00Z');
  readonly flags = new Map<string, Exposure>();
  readonly versions = new Map<string, Version>();
  readonly publications = new Map<string, string>(); // env/partition -> version id
  readonly running: { runId: string; env: string; partition: string; exposure: Exposure }[] = [];
  private n = 0;

  exposure(env: string): Exposure {
    return this.flags.get(env) ?? { mode: 'baseline' };
  }

  send(event: RolloutEvent): void {
    const before = this.state;
    const versionsBefore = this.versions.size;
    const r = reduce(before, event, { clock: this.clock, plan: PLAN, graph: { orders_clean: ['orders_daily'] } });
    // Refusals change nothing.
    if (r.refused !== undefined) {
      assert.equal(r.state, before);
      assert.deepEqual(r.transitions, []);
      assert.ok(r.actions.every((a) => a.kind === 'audit' && a.entry.type === 'refused'));
    }
    // Transition log: every state change has transitions chaining old -> new, each with a reason and an audit entry.
    const pts = r.transitions.map((t) => [`${t.from.state}${t.from.stage ? ` ${t.from.environment}/${t.from.stage}` : ''}`, `${t.to.state}${t.to.stage ? ` ${t.to.environment}/${t.to.stage}` : ''}`]);
    if (pointOf(before) !== pointOf(r.state)) assert.ok(r.transitions.length > 0, `state changed ${pointOf(before)} -> ${pointOf(r.state)} without a transition`);
    if (r.transitions.length > 0) {
      assert.equal(pts[0]?.[0], pointOf(before));
      assert.equal(pts[pts.length - 1]?.[1], pointOf(r.state));
      for (let i = 1; i < pts.length; i++) assert.equal(pts[i]?.[0], pts[i - 1]?.[1]);
    }
    for (const t of r.transitions) {
      assert.ok(t.reason.trim().length > 0);
      // Stage transitions happen only between batches (start may begin while baseline runs are in flight).
      const movesStage = t.to.state === 'promoted' || (t.to.stage !== undefined && (t.to.stage !== t.from.stage || t.to.environment !== t.from.environment));
      if (movesStage && t.event !== 'start') assert.deepEqual(this.running.map((x) => x.runId), [], `${t.from.state} -> ${t.to.state} ${t.to.stage} with runs in flight`);
      assert.ok(r.actions.some((a) => a.kind === 'audit' && a.entry.type === 'transition' && a.entry.details['transition'] === t));
    }
    // Carry out the actions; nothing is ever deleted.
    for (const a of r.actions) {
      assert.ok(['set_flag_exposure', 'republish', 'rerun_downstream', 'notify', 'audit'].includes(a.kind));
      if (a.kind === 'set_flag_exposure') this.flags.set(a.environment, a.exposure);
      if (a.kind === 'republish') {
        for (const item of a.items) {
          const key = `${item.environment}/${item.partition}`;
          assert.ok(this.versions.has(item.outputVersion), `republish of missing version ${item.outputVersion}`);
          assert.equal(this.publications.get(key), item.replaces, `republish of ${key} replaces a version that is not published`);
          this.publications.set(key, item.outputVersion);
        }
      }
    }
    assert.equal(this.versions.size, versionsBefore);
    this.state = r.state;
    this.checkInvariants();
  }

  startRun(env: string, partition: number): void {
    const runId = `r${++this.n}`;
    const exposure = this.exposure(env);
    // Published rows match the current stage's exposure: a run in the rollout's current environment pins exactly its stage's exposure.
    const s = this.state;
    if (s.position && s.position.environment === env && ['progressing', 'awaiting_approval', 'paused'].includes(s.kind)) {
      const stage = stageAt(PLAN, s.position);
      assert.ok(stage);
      assert.deepEqual(exposure, exposureOf(stage));
    }
    this.running.push({ runId, env, partition: `p${partition}`, exposure });
    this.send({ kind: 'run_started', runId, environment: env, partition: `p${partition}` });
  }

  finishRun(pick: number, ok: boolean, bigDiff: boolean, crash: boolean): void {
    if (this.running.length === 0) return;
    const [run] = this.running.splice(pick % this.running.length, 1);
    if (!run) return;
    if (crash) {
      this.send({ kind: 'run_finished', runId: run.runId, success: false });
      return;
    }
    const base: Version = { id: `${run.runId}:base`, run: run.runId, exposure: { mode: 'baseline' }, rows: KEYS.map((key) => ({ key, by: 'v1' })) };
    const published: Version = { id: `${run.runId}:pub`, run: run.runId, exposure: run.exposure, rows: KEYS.map((key) => ({ key, by: candidateRow(run.exposure, key) ? 'v2' : 'v1' })) };
    const candidateRows = published.rows.some((r) => r.by === 'v2');
    this.versions.set(base.id, base);
    if (candidateRows) this.versions.set(published.id, published);
    const outputVersion = candidateRows ? published.id : base.id;
    this.publications.set(`${run.env}/${run.partition}`, outputVersion);
    const shadowOrMore = run.exposure.mode !== 'baseline';
    this.send({
      kind: 'batch_completed', runId: run.runId, environment: run.env, partition: run.partition, success: true,
      evidence: shadowOrMore
        ? {
            checks: [{ name: 'refunds_kept', success: ok, severity: 'error' }],
            diff: { rowsBaseline: 20, rowsCandidate: 20, rowsChanged: bigDiff ? 10 : 0, rowsOnlyBaseline: 0, rowsOnlyCandidate: 0, columns: [] },
          }
        : {},
      publications: [{ dataset: DATASET, partition: run.partition, outputVersion, baselineOutputVersion: base.id, candidateRows }],
    });
  }

  checkInvariants(): void {
    // The flag store always holds what the controller believes it set.
    for (const [env, e] of this.flags) assert.deepEqual(this.state.exposures[env] ?? { mode: 'baseline' }, e, `flag of ${env}`);
    for (const [key, id] of this.publications) {
      const v = this.versions.get(id);
      assert.ok(v, `publication ${key} points at a missing version`);
      // Rows come from one of the two versions and match the exposure the run was pinned to.
      for (const row of v.rows) {
        assert.ok(row.by === 'v1' || row.by === 'v2');
        assert.equal(row.by, candidateRow(v.exposure, row.key) ? 'v2' : 'v1', `row ${row.key} of ${key}`);
      }
      // After a rollback, every published partition equals its baseline output.
      if (this.state.kind === 'rolled_back') {
        assert.ok(v.rows.every((r) => r.by === 'v1'), `${key} still has candidate rows after rollback`);
        assert.equal(id, `${v.run}:base`);
      }
    }
    if (this.state.kind === 'rolled_back' || this.state.kind === 'aborted' || this.state.kind === 'rolling_back') {
      for (const [env, e] of this.flags) assert.deepEqual(e, { mode: 'baseline' }, `flag of ${env} after ${this.state.kind}`);
    }
    if (this.state.kind === 'promoted') for (const env of PLAN.environments) assert.deepEqual(this.flags.get(env.name), { mode: 'full' });
  }
}

describe('invariants: random sequences through the reducer', () => {
  test('published rows, rollback restores baseline, nothing deleted, every change has a transition', () => {
    let reached = 0;
    let rolledBack = 0;
    let promoted = 0;
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 20, maxLength: 150, size: 'max' }), (cmds) => {
        const w = new World();
        w.send({ kind: 'start', actor: 'alice' });
        for (const c of cmds) {
          if (c.t === 'run') w.startRun(c.env === 'current' ? (w.state.position?.environment ?? 'dev') : c.env, c.partition);
          else if (c.t === 'batch') {
            w.clock.advance(4 * 60_000);
            w.startRun(w.state.position?.environment ?? 'dev', c.partition);
            w.finishRun(w.running.length - 1, c.bad !== 0, c.bad === 1, c.bad === 2);
          }
          else if (c.t === 'finish') w.finishRun(c.pick, c.ok, c.bigDiff, c.crash);
          else if (c.t === 'tick') {
            w.clock.advance(c.minutes * 60_000);
            w.send({ kind: 'tick' });
          } else w.send({ kind: c.kind, actor: c.actor, reason: `${c.kind} by ${c.actor}` } as RolloutEvent);
        }
        // Drain: finish every run, then roll back, and check that all data is baseline again.
        while (w.running.length > 0) w.finishRun(0, true, false, false);
        if (w.state.reached.some((r) => r.startsWith('prod/'))) reached++;
        if (w.state.kind === 'promoted') promoted++;
        if (['progressing', 'awaiting_approval', 'paused', 'aborted'].includes(w.state.kind)) w.send({ kind: 'rollback', actor: 'bob', reason: 'end of test' });
        if (w.state.kind === 'rolled_back') {
          rolledBack++;
          for (const id of w.publications.values()) assert.match(id, /:base$/);
        }
      }),
      { numRuns: 300, seed: 20260302 },
    );
    // The generator must actually explore: some runs reach prod, most end rolled back.
    assert.ok(reached > 5, `only ${reached} sequences reached prod`);
    assert.ok(promoted > 0, 'no sequence was promoted');
    assert.ok(rolledBack > 100, `only ${rolledBack} sequences rolled back`);
  });
});
