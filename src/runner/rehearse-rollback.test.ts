import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rehearsalCopy } from '../app/rehearsal-copy.ts';
import { existingWarehouse } from '../app/open-workspace.ts';
import { openWorkspace, type Workspace } from '../app/open-workspace.ts';
import { scaffoldProject } from '../demo/scaffold.ts';
import { DuckDBWarehouse } from '../engine/duckdb/duckdb-warehouse.ts';
import type { PublishItem, Warehouse } from '../engine/warehouse.ts';
import { ManualClock } from '../util/clock.ts';
import { checksum, rehearseRollback, type RehearsalDeps, type RehearsalReport } from './rehearse-rollback.ts';

const PLAN = `name: ship
step: orders.clean_orders
baseline: v1
candidate: v2
approvals: { before: [] }
gates:
  soak: { kind: soak, min_batches: 1 }
  long: { kind: soak, min_batches: 9 }
environments:
  - name: dev
    stages:
      - { mode: shadow, gates: [soak] }
      - { mode: canary, percent: 50, gates: [long] }
`;

function temp(): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-rehearse-test-'));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A small project at canary 50 % with candidate rows published in 2026-11-02 and 2026-11-03. */
async function canaryProject(dir: string): Promise<Workspace> {
  const root = join(dir, 'shop');
  await scaffoldProject({ dir: root, days: 3, ordersPerDay: 300 });
  rmSync(join(root, 'rollouts'), { recursive: true, force: true });
  mkdirSync(join(root, 'rollouts'));
  writeFileSync(join(root, 'rollouts/ship.yaml'), PLAN);
  const ws = await openWorkspace(root, 'dev', { clock: new ManualClock('2026-11-20T10:00:00Z') });
  await ws.rollouts.start('ship', 'alice', 'ship v2');
  for (const partition of ['2026-11-01', '2026-11-02', '2026-11-03']) await ws.run({ pipeline: 'orders', partition, environment: 'dev', actor: 'scheduler' });
  assert.equal((await ws.rollouts.state('ship')).position?.stageId, 'canary-50');
  return ws;
}

function deps(ws: Workspace, tempRoot: string, copy: RehearsalDeps['copy'] = rehearsalCopy(ws)): RehearsalDeps {
  return { project: ws.project, store: ws.store, warehouseFor: existingWarehouse(ws), rollouts: ws.rollouts, clock: ws.clock, copy, tempRoot };
}

/** Everything a rehearsal must leave alone, read in full. */
async function realState(ws: Workspace): Promise<unknown> {
  const w = ws.warehouse;
  return {
    publications: await w.currentPublications(),
    history: await w.publicationHistory('cleaned_orders'),
    versions: (await w.outputVersions({})).map((v) => v.id),
    rows: await w.query(`SELECT order_date::VARCHAR AS d, count(*)::BIGINT AS n FROM ${await w.datasetTable('cleaned_orders')} GROUP BY ALL ORDER BY d`),
    flags: (await ws.store.flagRevisions.list('dev')),
    audit: (await ws.store.audit.list()),
    head: (await ws.store.audit.head()),
    rollout: (await ws.store.rollouts.get('ship')),
    log: (await ws.store.rollouts.log('ship')),
    runs: (await ws.store.runs.list({ limit: 100 })),
  };
}

describe('rehearse rollback', () => {
  test('checksums: order does not matter, a changed value or a swapped duplicate does', async () => {
    await using w = await DuckDBWarehouse.open(':memory:');
    await w.exec(`CREATE TABLE a AS SELECT * FROM (VALUES (1, 'x'), (2, 'y'), (2, 'y')) t(k, v);
      CREATE TABLE b AS SELECT * FROM (VALUES (2, 'y'), (1, 'x'), (2, 'y')) t(k, v);
      CREATE TABLE c AS SELECT * FROM (VALUES (1, 'x'), (2, 'y'), (2, 'z')) t(k, v);
      CREATE TABLE d AS SELECT * FROM (VALUES (1, 'x'), (3, 'q'), (3, 'q')) t(k, v);`);
    const sum = (t: string): ReturnType<typeof checksum> => checksum(w, t, ['k', 'v']);
    assert.deepEqual(await sum('a'), await sum('b'));
    assert.notDeepEqual(await sum('a'), await sum('c'));
    const [a, d] = [await sum('a'), await sum('d')];
    assert.equal(a.xor, d.xor, 'XOR alone cannot see a duplicated pair change');
    assert.notEqual(a.sum, d.sum, 'the sum of hashes can');
    assert.equal((await checksum(w, 'a', ['k', 'v'], 'k = 2')).rows, 2);
  });

  test('restores every touched partition to its baseline on a copy, re-runs downstream, leaves the real environment as it was, deletes the copy', async () => {
    using tmp = temp();
    await using ws = await canaryProject(tmp.dir);
    const before = await realState(ws);
    const copies = join(tmp.dir, 'copies');
    mkdirSync(copies);
    const r = await rehearseRollback(deps(ws, copies), 'ship', 'carol');
    assert.equal(r.ok, true, r.problems.join('; '));
    assert.deepEqual([r.stateBefore, r.stageBefore, r.stateAfter], ['progressing', 'dev/canary-50', 'rolled_back']);
    assert.deepEqual(r.restored.map((x) => [x.partition, x.equal]).sort(), [['2026-11-02', true], ['2026-11-03', true]]);
    assert.deepEqual(r.plan?.republish.map((x) => x.partition).sort(), ['2026-11-02', '2026-11-03']);
    assert.deepEqual(r.downstream.map((x) => [x.dataset, x.partition, x.runStatus, x.equal]).sort(), [['daily_revenue', '2026-11-02', 'succeeded', true], ['daily_revenue', '2026-11-03', 'succeeded', true]]);
    assert.ok(r.rowsRestored > 0 && r.copy.bytes > 0);
    assert.equal(r.realUnchanged, true);
    assert.deepEqual(await realState(ws), before);
    assert.deepEqual(readdirSync(copies), []);
    assert.equal((await ws.rollouts.state('ship')).kind, 'progressing');
  });

  test('a run in flight: the rehearsal treats it as finished without publishing, and the real run still completes', async () => {
    using tmp = temp();
    await using ws = await canaryProject(tmp.dir);
    let report: RehearsalReport | undefined;
    let inFlight: string[] = [];
    const { result } = await ws.run({
      pipeline: 'orders',
      partition: '2026-11-01',
      environment: 'dev',
      actor: 'scheduler',
      onPhase: async (phase) => {
        if (phase !== 'before-publish') return;
        inFlight = (await ws.rollouts.state('ship')).inFlight.map((f) => f.runId);
        report = await rehearseRollback(deps(ws, tmp.dir), 'ship', 'carol');
      },
    });
    assert.equal(result.run.status, 'succeeded');
    assert.equal(inFlight.length, 1);
    assert.equal(report?.ok, true, report?.problems.join('; '));
    assert.deepEqual(report?.assumedFinished, inFlight);
    assert.equal(report?.stateAfter, 'rolled_back');
    assert.equal((await ws.rollouts.state('ship')).inFlight.length, 0, 'the real controller saw its run finish');
  });

  test('a lost republish is caught: the partition is reported as not equal to its baseline', async () => {
    using tmp = temp();
    await using ws = await canaryProject(tmp.dir);
    // Fault injection on the copy only: its warehouse drops the republish of 2026-11-02.
    const drop = (w: Warehouse): Warehouse =>
      new Proxy(w, {
        get(target, prop) {
          if (prop === 'publish') return (items: readonly PublishItem[], meta: Parameters<Warehouse['publish']>[1]) => target.publish(meta.runId === null ? items.filter((i) => i.partition !== '2026-11-02') : items, meta);
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    const lossy = rehearsalCopy(ws, { decorate: drop });
    const r = await rehearseRollback(deps(ws, tmp.dir, lossy), 'ship', 'carol');
    assert.equal(r.ok, false);
    const bad = r.restored.find((x) => x.partition === '2026-11-02');
    assert.equal(bad?.equal, false);
    assert.notEqual(bad?.publishedVersion, bad?.baselineVersion);
    assert.ok(r.problems.some((p) => /2026-11-02 does not equal its baseline output/.test(p)), r.problems.join('; '));
    assert.equal(r.restored.find((x) => x.partition === '2026-11-03')?.equal, true);
  });

  test('refuses a rollout with nothing to roll back', async () => {
    using tmp = temp();
    const root = join(tmp.dir, 'shop');
    await scaffoldProject({ dir: root, days: 1, ordersPerDay: 50 });
    writeFileSync(join(root, 'rollouts/ship.yaml'), PLAN);
    await using ws = await openWorkspace(root, 'dev', { clock: new ManualClock('2026-11-20T10:00:00Z') });
    await assert.rejects(rehearseRollback(deps(ws, tmp.dir), 'ship', 'carol'), { code: 'CONFLICT', message: /ship is pending \(not started\)/ });
    await assert.rejects(rehearseRollback(deps(ws, tmp.dir), 'nope', 'carol'), { code: 'NOT_FOUND' });
  });
});
