import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Workspace } from '../src/app/open-workspace.ts';
import type { RunResult } from '../src/runner/run-pipeline.ts';
import { SluiceError } from '../src/util/errors.ts';
import { ManualClock } from '../src/util/clock.ts';
import { openWorkspace } from '../src/app/open-workspace.ts';
import { smallProject, tempDir } from './helpers.ts';

/**
 * Several rollouts of one step in a row — rolled back, aborted, paused, promoted, retried, in random
 * order — with runs, manual republishes and ticks between them, checked after every operation
 * against an independent model of what each partition must show. The model knows only what the
 * runs produced and the rules of the product (a good candidate's rows publish, a bad candidate's
 * never do, a rollback restores the baseline of exactly the outputs its own attempt published, a
 * manual republish shows what was asked), never the controller's own records.
 */
const PARTITIONS = ['2026-11-01', '2026-11-02'];
const PLANS = ['ship', 'bad', 'hold'] as const;
type PlanName = (typeof PLANS)[number];
const CANDIDATE: Record<PlanName, 'v2' | 'v3'> = { ship: 'v2', bad: 'v3', hold: 'v3' };

const plan = (name: PlanName): string => {
  const candidate = CANDIDATE[name];
  // The good plan soaks two batches per stage, so it stays where candidate rows publish for a while.
  const gate = name === 'ship' ? 'gates: [soak]' : 'gates: [same_rows]';
  return `name: ${name}
step: orders.clean_orders
baseline: v1
candidate: ${candidate}
approvals: { before: [] }
gates:
  same_rows: { kind: diff, max_only_baseline_share: 0.001, on_fail: ${name === 'hold' ? 'fail' : 'rollback'} }
  soak: { kind: soak, min_batches: 2 }
environments:
  - name: dev
    stages:
      - { mode: shadow }
      - { mode: canary, percent: 50${gate ? `, ${gate}` : ''} }
      - { mode: full${gate ? `, ${gate}` : ''} }
`;
};

type Op =
  | { kind: 'start' | 'rollback' | 'abort' | 'promote' | 'resume' | 'pause'; plan: PlanName }
  | { kind: 'run'; p: number }
  | { kind: 'republish'; p: number; pick: number }
  | { kind: 'tick' };

const planArb = fc.constantFrom<PlanName>('ship', 'ship', 'bad', 'hold');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('start' as const), plan: planArb }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('run' as const), p: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('rollback' as const), plan: planArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('abort' as const, 'promote' as const, 'resume' as const, 'pause' as const), plan: planArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('republish' as const), p: fc.integer({ min: 0, max: 1 }), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const) }) },
);
const runArb = fc.record({ kind: fc.constant('run' as const), p: fc.integer({ min: 0, max: 1 }) });
const republishArb = fc.record({ kind: fc.constant('republish' as const), p: fc.integer({ min: 0, max: 1 }), pick: fc.nat(20) });
/** A good candidate at canary, its partitions re-run and republished by hand, then rolled back (or not). */
const churnArb: fc.Arbitrary<Op[]> = fc
  .tuple(fc.array(runArb, { minLength: 2, maxLength: 4 }), fc.array(fc.oneof(runArb, republishArb), { minLength: 1, maxLength: 4 }), fc.constantFrom<Op['kind']>('rollback', 'abort', 'run'))
  .map(([runs, mixed, end]): Op[] => [{ kind: 'start', plan: 'ship' }, ...runs, ...mixed, end === 'run' ? { kind: 'run', p: 0 } : { kind: end as 'rollback', plan: 'ship' }, { kind: 'rollback', plan: 'ship' }]);
/** Every sequence starts a rollout, then mixes structured blocks with anything at all. */
const sequenceArb = fc
  .tuple(fc.record({ kind: fc.constant('start' as const), plan: planArb }), fc.array(fc.oneof(churnArb, fc.array(opArb, { minLength: 3, maxLength: 8 })), { minLength: 1, maxLength: 3 }))
  .map(([s, blocks]): Op[] => [s, ...blocks.flat()]);

/** How often the sequences reached the cases that matter, so the test proves it covered them. */
const coverage = { rollbacksRestoring: 0, rollbacksLeavingOthers: 0, restoredOlderCandidate: 0 };

/** What the model knows of an output version of cleaned_orders. */
interface VersionInfo {
  readonly attempt: string | null;
  readonly candidateRows: boolean;
  readonly baseline: string;
}

class Model {
  readonly pub = new Map<string, string>();
  readonly versions = new Map<string, VersionInfo>();
  /** Candidate-bearing outputs each attempt's own runs published. */
  readonly publishedBy = new Map<string, Set<string>>();

  /** What a run must have published for cleaned_orders, and what it did publish, recorded. */
  run(r: RunResult): void {
    const s = r.steps.find((x) => x.step === 'clean_orders');
    assert.ok(s?.output);
    const e = s.exposure;
    if (e.kind === 'sliced' && s.baselineOutput) {
      this.versions.set(s.baselineOutput.id, { attempt: e.rollout ?? null, candidateRows: false, baseline: s.baselineOutput.id });
      for (const v of [s.candidateOutput, s.exposedOutput]) if (v) this.versions.set(v.id, { attempt: e.rollout ?? null, candidateRows: true, baseline: s.baselineOutput.id });
      // A good candidate's rows publish at any share above 0; a bad one's never reach a consumer.
      const expected = e.percent > 0 && e.candidate === 'v2' ? s.exposedOutput?.id : s.baselineOutput.id;
      assert.equal(s.output.id, expected, `run ${r.run.id} (${e.baseline}+${e.candidate} at ${e.percent} %) published ${s.output.id}`);
      if (s.output.id !== s.baselineOutput.id && e.rollout) {
        this.publishedBy.set(e.rollout, (this.publishedBy.get(e.rollout) ?? new Set()).add(s.output.id));
        this.latest.set(`${e.rollout}\0${s.output.partition}`, s.output.id);
      }
    } else {
      this.versions.set(s.output.id, { attempt: null, candidateRows: false, baseline: s.output.id });
    }
    const p = r.publications.find((x) => x.dataset === 'cleaned_orders');
    assert.ok(p, `run ${r.run.id} published cleaned_orders`);
    this.pub.set(p.partition, p.versionId);
  }

  /** A rollback of an attempt restores, for each partition, the baseline of whichever of its own published candidate outputs shows. */
  rollback(attempt: string): void {
    const mine = this.publishedBy.get(attempt) ?? new Set<string>();
    let restored = 0;
    for (const [p, v] of this.pub) {
      if (mine.has(v)) {
        this.pub.set(p, this.versions.get(v)?.baseline ?? v);
        restored++;
        if (this.latest.get(`${attempt}\0${p}`) !== v) coverage.restoredOlderCandidate++;
      } else if (mine.size > 0) coverage.rollbacksLeavingOthers++;
    }
    if (restored > 0) coverage.rollbacksRestoring++;
  }

  /** The latest candidate output each attempt published per partition (what it saw last). */
  readonly latest = new Map<string, string>();
}

const REFUSED = new Set(['CONFLICT', 'FORBIDDEN', 'NOT_FOUND']);

async function attempt<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SluiceError && REFUSED.has(e.code)) return undefined;
    throw e;
  }
}

async function check(ws: Workspace, model: Model, trace: readonly string[]): Promise<void> {
  const shown = new Map((await ws.warehouse.currentPublications('cleaned_orders')).map((p) => [p.partition, p.versionId]));
  for (const [p, v] of model.pub) assert.equal(shown.get(p), v, `after ${trace.join(' ')}: ${p} shows ${shown.get(p)}, the model says ${v}`);
  // Every attempt's log holds only batches of runs that pinned that attempt.
  for (const a of await ws.rollouts.attempts()) {
    for (const e of await ws.store.rollouts.log(a.id)) {
      if (e.type !== 'batch') continue;
      const run = await ws.store.runs.get(Number(e.batch.runId));
      assert.equal(run?.flags.exposures['clean_orders']?.rollout, a.id, `after ${trace.join(' ')}: attempt ${a.id} recorded run ${e.batch.runId}, which pinned ${run?.flags.exposures['clean_orders']?.rollout ?? 'no rollout'}`);
    }
  }
}

describe('rollout sequences against an independent model', () => {
  test('200 random sequences of rollouts, runs, manual republishes: every partition shows what the model says, every attempt records only its own batches', { timeout: 1_500_000 }, async () => {
    using tmp = tempDir();
    const template = await smallProject(tmp.dir, { days: PARTITIONS.length, ordersPerDay: 30 });
    rmSync(join(template, 'rollouts'), { recursive: true, force: true });
    mkdirSync(join(template, 'rollouts'));
    for (const name of PLANS) writeFileSync(join(template, `rollouts/${name}.yaml`), plan(name));
    // A plainly bad candidate: v1 without a third of the orders.
    const v1 = readFileSync(join(template, 'steps/clean_orders/v1.sql'), 'utf8');
    writeFileSync(join(template, 'steps/clean_orders/v3.sql'), `SELECT * FROM (\n${v1}\n) q WHERE order_id % 3 <> 0\n`);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(sequenceArb, async (ops) => {
        const root = join(tmp.dir, `seq-${n++}`);
        cpSync(template, root, { recursive: true });
        try {
          await using ws = await openWorkspace(root, 'dev', { clock: new ManualClock('2026-11-20T10:00:00Z'), log: () => undefined });
          const model = new Model();
          const trace: string[] = [];
          for (const op of ops) {
            trace.push(op.kind === 'run' ? `run(${op.p})` : op.kind === 'republish' ? `republish(${op.p},${op.pick})` : op.kind === 'tick' ? 'tick' : `${op.kind}(${op.plan})`);
            if (op.kind === 'run') {
              const before = new Map((await ws.rollouts.attempts()).map((a) => [a.id, a.state.kind]));
              const r = await ws.run({ pipeline: 'orders', partition: PARTITIONS[op.p] ?? '', environment: 'dev', actor: 'scheduler' });
              model.run(r.result);
              for (const a of await ws.rollouts.attempts()) if (a.state.kind === 'rolled_back' && before.get(a.id) !== 'rolled_back') model.rollback(a.id);
            } else if (op.kind === 'republish') {
              const partition = PARTITIONS[op.p] ?? '';
              const history = await ws.warehouse.publicationHistory('cleaned_orders', partition);
              const v = history[op.pick % Math.max(1, history.length)];
              if (!v) continue;
              await ws.warehouse.publish([{ dataset: 'cleaned_orders', partitionColumn: 'order_date', partition, versionId: v.versionId }], { runId: null, actor: 'ops', reason: 'manual', at: ws.clock.now() });
              model.pub.set(partition, v.versionId);
            } else if (op.kind === 'tick') {
              await ws.rollouts.tick();
            } else if (op.kind === 'start') {
              await attempt(() => ws.rollouts.start(op.plan, 'alice', 'test'));
            } else {
              const event = op.kind === 'promote' ? { kind: 'promote' as const, actor: 'bob', reason: 'x' } : { kind: op.kind, actor: 'bob', reason: 'x' };
              const out = await attempt(() => ws.rollouts.dispatch(op.plan, event));
              if (out && op.kind === 'rollback' && out.state.kind === 'rolled_back') model.rollback(out.id);
            }
            await check(ws, model, trace);
          }
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      }),
      { numRuns: Number(process.env['SEQ_RUNS'] ?? 200), seed: 20261201, endOnFailure: true },
    );
    process.stderr.write(`coverage: ${JSON.stringify(coverage)}\n`);
    if (!process.env['SEQ_RUNS']) {
      assert.ok(coverage.rollbacksRestoring >= 20, `rollbacks that restored candidate partitions: ${coverage.rollbacksRestoring}`);
      assert.ok(coverage.rollbacksLeavingOthers >= 10, `rollbacks that left another publication alone: ${coverage.rollbacksLeavingOthers}`);
      assert.ok(coverage.restoredOlderCandidate >= 3, `rollbacks that restored an older candidate output brought back by a republish: ${coverage.restoredOlderCandidate}`);
    }
  });
});
