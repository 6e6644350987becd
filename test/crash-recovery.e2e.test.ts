import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openWorkspace } from '../src/app/open-workspace.ts';
import { sameRows, smallProject, tempDir, runBin, type BinOutput } from './helpers.ts';

/**
 * Every multi-step operation killed (SIGKILL, through the real bin) at each named point between its
 * steps (SLUICE_CRASH_AT, no timers): the next command finishes or undoes the work, the audit
 * trail verifies and covers every run, publication and flag change, and `rollout status` tells the
 * truth.
 */

type Out = BinOutput;
const sluice = (root: string, args: string[], crashAt?: string): Out => runBin(args, { root, ...(crashAt ? { env: { SLUICE_CRASH_AT: crashAt } } : {}) });

function ok(r: Out, what: string): Out {
  assert.equal(r.code, 0, `${what}: exit ${r.code} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`);
  return r;
}

function killedAt(root: string, args: string[], point: string): void {
  const r = sluice(root, args, point);
  assert.equal(r.signal, 'SIGKILL', `${args.join(' ')} was to be killed at ${point}, but exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

function auditVerifies(root: string, after: string): void {
  const v = sluice(root, ['audit', 'verify']);
  assert.equal(v.code, 0, `after ${after} the audit trail verifies and covers everything:\n${v.stdout}\n${v.stderr}`);
  assert.match(v.stdout, /coverage ok/);
}

const CANARY = `name: ship
step: orders.clean_orders
baseline: v1
candidate: v2
gates:
  soak: { kind: soak, min_batches: 50 }
environments:
  - name: dev
    stages:
      - { mode: canary, percent: 50, gates: [soak] }
      - { mode: full, gates: [soak] }
`;

async function project(dir: string): Promise<string> {
  const root = await smallProject(dir, { days: 3, ordersPerDay: 400 });
  rmSync(join(root, 'rollouts'), { recursive: true, force: true });
  mkdirSync(join(root, 'rollouts'));
  writeFileSync(join(root, 'rollouts/ship.yaml'), CANARY);
  return root;
}

interface Pub {
  partition: string;
  versionId: string;
  runId: number | null;
  seq: number;
}
const current = (root: string, dataset: string): Pub[] => JSON.parse(ok(sluice(root, ['--json', 'publications', dataset]), 'publications').stdout) as Pub[];

describe('crash recovery: every operation killed between its steps is finished or undone by the next command', () => {
  test('run + audit: killed after it is recorded, after its publish, after it finished', async () => {
    using tmp = tempDir();
    const root = await project(tmp.dir);
    const P = '2026-11-01';
    const expected: Record<string, { status: string; published: boolean }> = {
      'run.recorded': { status: 'abandoned', published: false },
      'run.published': { status: 'succeeded', published: true },
      'run.finished': { status: 'succeeded', published: true },
    };
    let runs = 0;
    for (const [point, want] of Object.entries(expected)) {
      const before = current(root, 'cleaned_orders').find((p) => p.partition === P);
      killedAt(root, ['run', 'orders', '--partition', P], point);
      const killed = ++runs;
      // `runs` is a metadata read: it does not recover, and shows the run as its process left it.
      const seen = JSON.parse(ok(sluice(root, ['--json', 'runs']), 'runs').stdout) as { id: number; status: string }[];
      assert.equal(seen.find((r) => r.id === killed)?.status, point === 'run.finished' ? 'succeeded' : 'running', `runs does not recover (${point})`);
      const after = current(root, 'cleaned_orders').find((p) => p.partition === P);
      if (want.published) assert.equal(after?.runId, killed, `killed at ${point}: its publish stands`);
      else assert.deepEqual(after, before, `killed at ${point}: nothing of it is published`);

      // The next command that writes finishes it, and says so.
      const next = ok(sluice(root, ['run', 'orders', '--partition', '2026-11-02']), `the run after a kill at ${point}`);
      runs++;
      if (point !== 'run.finished') assert.match(next.stderr, new RegExp(`recovered run ${killed}: ${want.status === 'abandoned' ? 'abandoned' : 'finished'}`));
      const shown = JSON.parse(ok(sluice(root, ['--json', 'run-show', String(killed)]), 'run-show').stdout) as { status: string };
      assert.equal(shown.status, want.status, `the run killed at ${point} is ${want.status} after recovery`);
      auditVerifies(root, `a run killed at ${point}`);
    }
    const log = JSON.parse(ok(sluice(root, ['--json', 'audit', 'log', '--target', 'run/1']), 'audit log').stdout) as { action: string }[];
    assert.deepEqual(log.map((e) => e.action), ['run.started', 'run.abandoned'], 'the abandoned run has its recovery on record');
  });

  test('rollback + republish + downstream re-runs: killed after each step, finished by status, tick, a run or a second rollback', async () => {
    using tmp = tempDir();
    const root = await project(tmp.dir);
    const points = ['rollout.decided', 'effects.flags', 'effects.published', 'effects.republished', 'effects.rerun'];
    const finishers: string[][] = [['rollout', 'status', 'ship'], ['rollout', 'tick'], ['run', 'orders', '--partition', '2026-11-03'], ['rollout', 'rollback', 'ship', '--reason', 'finish it'], ['rollout', 'status']];
    for (const [i, point] of points.entries()) {
      ok(sluice(root, ['rollout', 'start', 'ship', '--reason', `attempt ${i + 1}`]), 'start');
      for (const p of ['2026-11-01', '2026-11-02']) ok(sluice(root, ['run', 'orders', '--partition', p]), `canary run ${p}`);
      {
        await using ws = await openWorkspace(root, 'dev');
        for (const p of (await ws.warehouse.currentPublications('cleaned_orders')).filter((x) => x.partition !== '2026-11-03')) {
          assert.notEqual((await ws.warehouse.outputVersion(p.versionId))?.stepVersion, 'v1', `the canary published a blend in ${p.partition}`);
        }
      }

      killedAt(root, ['rollout', 'rollback', 'ship', '--reason', 'bad numbers'], point);
      const finisher = finishers[i] ?? [];
      const next = sluice(root, finisher);
      assert.equal(next.code, 0, `${finisher.join(' ')} after a rollback killed at ${point}: exit ${next.code}\n${next.stdout}\n${next.stderr}`);

      const status = JSON.parse(ok(sluice(root, ['--json', 'rollout', 'status', 'ship']), 'status').stdout) as { state: string; attempt: string };
      assert.equal(status.state, 'rolled_back', `after a kill at ${point} and ${finisher.join(' ')}`);
      assert.equal(status.attempt, i === 0 ? 'ship' : `ship#${i + 1}`);
      {
        await using ws = await openWorkspace(root, 'dev');
        const attempt = await ws.store.rollouts.get(status.attempt);
        assert.deepEqual(attempt?.pending, [], `nothing of the rollback is left pending (${point})`);
        const flag = await ws.flags.flag('dev', 'clean_orders_version');
        assert.ok(flag.rollout === undefined && flag.defaultVariant === 'v1', `the flag is back at the baseline (${point}): ${JSON.stringify(flag)}`);
        for (const p of await ws.warehouse.currentPublications('cleaned_orders')) {
          const v = await ws.warehouse.outputVersion(p.versionId);
          assert.equal(v?.stepVersion, 'v1', `cleaned_orders ${p.partition} shows the baseline after a kill at ${point} (${p.versionId})`);
        }
        // Downstream was re-run from what cleaned_orders shows now, not from the blend.
        const cleaned = await ws.warehouse.datasetTable('cleaned_orders');
        const revenue = await ws.warehouse.datasetTable('daily_revenue');
        const sql = readFileSync(join(root, 'steps/daily_revenue/v1.sql'), 'utf8');
        for (const p of ['2026-11-01', '2026-11-02']) {
          const recomputed = sql.replace('FROM clean_orders', `FROM (SELECT * FROM ${cleaned} WHERE order_date = DATE '${p}') clean_orders`);
          assert.ok(await sameRows(ws.warehouse, `SELECT * EXCLUDE (order_date), order_date FROM ${revenue} WHERE order_date = DATE '${p}'`, `SELECT * EXCLUDE (order_date), order_date FROM (${recomputed}) r`), `daily_revenue ${p} was re-run from the baseline after a kill at ${point}`);
        }
      }
      auditVerifies(root, `a rollback killed at ${point}`);
    }
  });

  test('a canary run killed after its publish: recovery tells its rollout what it published, so the rollback restores it', async () => {
    using tmp = tempDir();
    const root = await project(tmp.dir);
    ok(sluice(root, ['rollout', 'start', 'ship']), 'start');
    killedAt(root, ['run', 'orders', '--partition', '2026-11-01'], 'run.published');
    const r = ok(sluice(root, ['rollout', 'rollback', 'ship', '--reason', 'bad']), 'rollback');
    assert.match(r.stderr, /recovered run 1: finished/);
    assert.match(r.stdout, /republished dev cleaned_orders 2026-11-01 <- clean_orders\.r1\.v1/);
    {
      await using ws = await openWorkspace(root, 'dev');
      const [p] = await ws.warehouse.currentPublications('cleaned_orders');
      assert.equal((await ws.warehouse.outputVersion(p?.versionId ?? ''))?.stepVersion, 'v1', 'the blend the killed run published is rolled back');
    }
    auditVerifies(root, 'a canary run killed after its publish, then a rollback');
  });

  test('flag change + audit: killed between the revision and its entry, nothing is committed', async () => {
    using tmp = tempDir();
    const root = await project(tmp.dir);
    killedAt(root, ['flags', 'set', 'clean_orders_version', '--variant', 'v2', '--reason', 'try v2'], 'flags.revision');
    const history = JSON.parse(ok(sluice(root, ['--json', 'flags', 'history', 'clean_orders_version']), 'history').stdout) as { revisions: unknown[] };
    assert.equal(history.revisions.length, 1, 'only the declaration: the killed change left no revision');
    auditVerifies(root, 'a flag change killed before its entry');
    ok(sluice(root, ['flags', 'set', 'clean_orders_version', '--variant', 'v2', '--reason', 'try v2 again']), 'the same change again');
    auditVerifies(root, 'the flag change');
  });

  test('manual republish: killed after its intent and after its publish; the next command closes or audits it', async () => {
    using tmp = tempDir();
    const root = await project(tmp.dir);
    const P = '2026-11-01';
    ok(sluice(root, ['run', 'orders', '--partition', P]), 'first run');
    ok(sluice(root, ['run', 'orders', '--partition', P]), 'second run');
    const first = 'clean_orders.r1';
    const second = 'clean_orders.r2';

    killedAt(root, ['republish', 'cleaned_orders', '--partition', P, '--version', first, '--reason', 'back to r1'], 'republish.intent');
    assert.equal(current(root, 'cleaned_orders').find((p) => p.partition === P)?.versionId, second, 'killed before its publish: nothing changed');
    const r1 = ok(sluice(root, ['run', 'orders', '--partition', '2026-11-02']), 'a run');
    assert.match(r1.stderr, /recovered republish cleaned_orders 2026-11-01: not done; closed/);
    auditVerifies(root, 'a republish killed before its publish');

    killedAt(root, ['republish', 'cleaned_orders', '--partition', P, '--version', first, '--reason', 'back to r1'], 'republish.published');
    assert.equal(current(root, 'cleaned_orders').find((p) => p.partition === P)?.versionId, first, 'killed after its publish: the publish stands');
    const unaudited = sluice(root, ['audit', 'verify']);
    assert.equal(unaudited.code, 0, 'an intent of a stopped process is pending work, not a gap in the trail');
    assert.match(unaudited.stdout, /note: republish republish-\S+ was left unfinished/);
    const r2 = ok(sluice(root, ['republish', 'cleaned_orders', '--partition', P, '--version', second, '--reason', 'forward again']), 'the next republish');
    assert.match(r2.stderr, /recovered republish cleaned_orders 2026-11-01: done before the process stopped; audited now/);
    auditVerifies(root, 'a republish killed after its publish');
    const log = JSON.parse(ok(sluice(root, ['--json', 'audit', 'log', '--target', `dataset/cleaned_orders/${P}`]), 'audit log').stdout) as { action: string; details: { version?: string } }[];
    assert.deepEqual(log.filter((e) => e.action === 'republish').map((e) => e.details.version), [first, second], 'both republishes are on record, in order');
  });

  test('promotion: killed right after the decision, the next command finishes its flags and retires the baseline', async () => {
    using tmp = tempDir();
    const root = await project(tmp.dir);
    ok(sluice(root, ['rollout', 'start', 'ship']), 'start');
    ok(sluice(root, ['run', 'orders', '--partition', '2026-11-01']), 'canary run');
    ok(sluice(root, ['rollout', 'promote', 'ship', '--reason', 'on to full']), 'promote to the last stage');
    killedAt(root, ['rollout', 'promote', 'ship', '--reason', 'enough evidence'], 'rollout.decided');
    const status = JSON.parse(ok(sluice(root, ['--json', 'rollout', 'status', 'ship']), 'status').stdout) as { state: string };
    assert.equal(status.state, 'promoted');
    {
      await using ws = await openWorkspace(root, 'dev');
      const flag = await ws.flags.flag('dev', 'clean_orders_version');
      assert.deepEqual([flag.enabled, flag.defaultVariant, flag.rollout], [false, 'v2', undefined], 'the candidate is the baseline, computed alone');
    }
    const run = ok(sluice(root, ['--json', 'run', 'orders', '--partition', '2026-11-02']), 'a run after the promotion');
    assert.deepEqual((JSON.parse(run.stdout) as { computed: { step: string; role: string; stepVersion: string }[] }).computed.filter((c) => c.step === 'clean_orders').map((c) => [c.role, c.stepVersion]), [['output', 'v2']], 'the next run computes v2 alone');
    auditVerifies(root, 'a promotion killed after its decision');
  });
});
