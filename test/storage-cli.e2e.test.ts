import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openWorkspace } from '../src/app/open-workspace.ts';
import { smallProject, tempDir, sluiceBin, binOk, binJson } from './helpers.ts';

/**
 * The warehouse's upkeep through the real bin, as a user runs it: retention (`gc`) frees what no
 * publication, rollout or rule holds and returns the bytes to the file system; `verify-data` finds
 * a partition whose served rows are not its output version and repairs it; `export` writes Parquet
 * another engine reads, swapped in at once; `compact` merges files without changing a row.
 */
const sluice = sluiceBin;
const ok = binOk;
const json = binJson;

const folderBytes = (dir: string): number => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0);

/** Every row of a dataset as the dev warehouse shows it, sorted, as text: what a consumer would see. */
async function rowsOf(root: string, dataset: string): Promise<string> {
  await using ws = await openWorkspace(root, 'dev');
  const rows = await ws.warehouse.query(`SELECT * FROM ${await ws.warehouse.datasetTable(dataset)} ORDER BY ALL`);
  // A digest, so a failed comparison prints two short strings rather than every row.
  return `${rows.length} rows, sha256 ${createHash('sha256').update(JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).digest('hex')}`;
}

/**
 * Changes the data files of cleaned_orders (those whose rows have an amount_usd column) in `folder`
 * as a faulty disk or a stray writer would: same file, different rows. Returns how many it changed.
 */
async function damage(folder: string, sql: string): Promise<number> {
  let changed = 0;
  for (const f of readdirSync(folder).filter((x) => x.endsWith('.duckdb'))) {
    const db = await DuckDBInstance.create(join(folder, f));
    const c = await db.connect();
    const cols = (await c.runAndReadAll(`SELECT column_name FROM information_schema.columns WHERE table_name = 'data'`)).getRows().map((r) => String(r[0]));
    if (cols.includes('amount_usd')) {
      await c.run(sql);
      await c.run('CHECKPOINT');
      changed++;
    }
    c.closeSync();
    db.closeSync();
  }
  return changed;
}

function withRetention(root: string, retention: string): void {
  appendFileSync(join(root, 'sluice.yaml'), `\nstorage:\n  retention: ${retention}\n`);
}

describe('storage upkeep through the CLI', () => {
  test('gc: re-runs pile up versions; gc keeps the published and the newest N, frees the rest on disk, and a second gc frees nothing', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 2, ordersPerDay: 2000 });
    withRetention(root, '{ keep_versions: 2, keep_for: 0s, grace: 0s }');
    for (let i = 0; i < 4; i++) for (const p of ['2026-11-01', '2026-11-02']) ok(sluice(root, ['run', 'orders', '--partition', p]), `run ${i} ${p}`);
    const folder = join(root, '.sluice', 'warehouse-dev');
    const before = { bytes: folderBytes(folder), rows: await rowsOf(root, 'cleaned_orders'), daily: await rowsOf(root, 'daily_revenue') };
    type Report = { dryRun: boolean; deleted: { kind: string; id: string; rows: number; bytes: number }[]; held: { id: string; reason: string }[]; rows: number; bytes: number };
    const dry = json<Report>(root, ['gc', '--dry-run']);
    // 2 steps × 2 partitions × 4 runs = 16 versions; the 2 newest of each step and partition stay (one of them published).
    assert.equal(dry.deleted.filter((d) => d.kind === 'version').length, 8, JSON.stringify(dry.held));
    assert.ok(dry.bytes > 0 && dry.rows > 0);
    assert.equal(folderBytes(folder), before.bytes, 'a dry run deletes nothing');
    const real = json<Report>(root, ['gc']);
    assert.deepEqual(real.deleted.map((d) => d.id).sort(), dry.deleted.map((d) => d.id).sort(), 'gc deletes what the dry run said');
    const freed = before.bytes - folderBytes(folder);
    assert.ok(freed >= real.bytes * 0.9, `the bytes reported (${real.bytes}) are returned to the file system (${freed} freed)`);
    assert.equal(await rowsOf(root, 'cleaned_orders'), before.rows, 'published data is untouched');
    assert.equal(await rowsOf(root, 'daily_revenue'), before.daily);
    assert.equal(json<Report>(root, ['gc']).deleted.length, 0, 'nothing more to free');
    // The freed versions cannot be republished, and say so.
    const gone = real.deleted.find((d) => d.kind === 'version' && d.id.startsWith('clean_orders'));
    assert.ok(gone);
    const r = sluice(root, ['republish', 'cleaned_orders', '--partition', '2026-11-01', '--version', gone.id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`no output version ${gone.id.replaceAll('.', '\\.')}: it was deleted by gc at \\S+ \\(alice; audit entry \\d+\\)`));
    const log = json<{ action: string; details: Record<string, unknown> }[]>(root, ['audit', 'log', '--all']);
    const entry = log.find((e) => e.action === 'gc');
    assert.ok(entry, 'gc is in the audit trail');
    assert.equal((entry.details['versions'] as string[]).length, 8);
    ok(sluice(root, ['audit', 'verify']), 'audit verify after gc');
  });

  test('gc keeps what a rollout holds: the baseline and candidate outputs of an active rollout survive keep_versions 1', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 2, ordersPerDay: 500 });
    withRetention(root, '{ keep_versions: 1, keep_for: 0s, grace: 0s }');
    ok(sluice(root, ['run', 'orders', '--partition', '2026-11-01']), 'first run');
    ok(sluice(root, ['rollout', 'start', 'clean-orders-v2', '--reason', 'try v2']), 'rollout start');
    ok(sluice(root, ['run', 'orders', '--partition', '2026-11-01']), 'shadow run');
    ok(sluice(root, ['run', 'orders', '--partition', '2026-11-01']), 'a newer run');
    let heldByRollout: string[];
    {
      await using ws = await openWorkspace(root, 'dev');
      heldByRollout = (await ws.rollouts.state('clean-orders-v2')).published.flatMap((p) => [p.outputVersion, p.baselineOutputVersion]);
    }
    assert.ok(heldByRollout.length > 0, 'the rollout has published something');
    const report = json<{ deleted: { id: string }[]; held: { id: string; reason: string }[] }>(root, ['gc']);
    for (const id of heldByRollout) {
      assert.ok(!report.deleted.some((d) => d.id === id), `${id} is held by the rollout`);
    }
    assert.ok(report.held.some((h) => /rollout/.test(h.reason)));
  });

  test('verify-data: a segment whose rows were changed on disk is reported (exit 10, dataset and partition named), repaired from the output version, and audited', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 3, ordersPerDay: 400 });
    for (const p of ['2026-11-01', '2026-11-02', '2026-11-03']) ok(sluice(root, ['run', 'orders', '--partition', p]), `run ${p}`);
    const before = await rowsOf(root, 'cleaned_orders');
    ok(sluice(root, ['compact', '--force']), 'compact');
    assert.equal(await rowsOf(root, 'cleaned_orders'), before, 'compaction changes no row');
    assert.match(ok(sluice(root, ['verify-data']), 'verify-data').stdout, /(\d+) of \1 published partition\(s\) in dev match/);

    // Damage one segment file as a faulty disk or a stray writer would: same file, one partition's rows changed.
    assert.equal(await damage(join(root, '.sluice', 'warehouse-dev', 'segments'), `UPDATE data SET amount = amount + 1 WHERE order_date = DATE '2026-11-02'`), 1, 'one segment of cleaned_orders');
    const found = sluice(root, ['verify-data']);
    assert.equal(found.code, 10, `${found.stdout}\n${found.stderr}`);
    assert.match(found.stdout, /CORRUPT cleaned_orders 2026-11-02/);
    assert.doesNotMatch(found.stdout, /CORRUPT cleaned_orders 2026-11-0[13]/, 'only the damaged partition');
    const repaired = ok(sluice(root, ['verify-data', '--repair']), 'repair');
    assert.match(repaired.stdout, /REPAIRED cleaned_orders 2026-11-02/);
    assert.equal(await rowsOf(root, 'cleaned_orders'), before, 'the consumer sees the output version again');
    ok(sluice(root, ['verify-data']), 'clean after the repair');
    const log = json<{ action: string; target: string }[]>(root, ['audit', 'log', '--all']);
    assert.ok(log.some((e) => e.action === 'data.corrupt' && e.target === 'dataset/cleaned_orders/2026-11-02'));
    assert.ok(log.some((e) => e.action === 'data.repaired' && e.target === 'dataset/cleaned_orders/2026-11-02'));
  });

  test('verify-data: a version file replaced by other data cannot be repaired and stays reported', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 1, ordersPerDay: 400 });
    ok(sluice(root, ['run', 'orders', '--partition', '2026-11-01']), 'run');
    assert.equal(await damage(join(root, '.sluice', 'warehouse-dev', 'versions'), 'DELETE FROM data WHERE order_id % 7 = 0'), 1, 'the one version of clean_orders');
    for (const args of [['verify-data'], ['verify-data', '--repair']]) {
      const r = sluice(root, args);
      assert.equal(r.code, 10, `${args.join(' ')}: ${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /CORRUPT cleaned_orders 2026-11-01: the data file of version \S+ does not hold what was written/);
    }
  });

  test('export: Parquet another engine reads, hive-partitioned; a second export reuses unchanged partitions and swaps in at once', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 3, ordersPerDay: 300 });
    for (const p of ['2026-11-01', '2026-11-02', '2026-11-03']) ok(sluice(root, ['run', 'orders', '--partition', p]), `run ${p}`);
    const out = join(tmp.dir, 'export');
    type Report = { current: string; snapshot: string; partitions: number; written: number; reused: number };
    const first = json<Report>(root, ['export', 'cleaned_orders', '--to', out]);
    assert.deepEqual([first.partitions, first.written, first.reused], [3, 3, 0]);
    const read = async (): Promise<string> => {
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const r = await c.runAndReadAll(`SELECT order_date::VARCHAR AS d, count(*)::INTEGER AS n, sum(amount)::DOUBLE AS amount FROM read_parquet('${first.current}/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY d`);
      const rows = JSON.stringify(r.getRowObjects());
      c.closeSync();
      db.closeSync();
      return rows;
    };
    const expected = async (): Promise<string> => {
      await using ws = await openWorkspace(root, 'dev');
      return JSON.stringify(await ws.warehouse.query(`SELECT order_date::VARCHAR AS d, count(*)::INTEGER AS n, sum(amount)::DOUBLE AS amount FROM ${await ws.warehouse.datasetTable('cleaned_orders')} GROUP BY ALL ORDER BY d`));
    };
    assert.equal(await read(), await expected());
    ok(sluice(root, ['run', 'orders', '--partition', '2026-11-02']), 're-run one partition');
    const second = json<Report>(root, ['export', 'cleaned_orders', '--to', out]);
    assert.deepEqual([second.partitions, second.written, second.reused], [3, 1, 2], 'only the changed partition is written again');
    assert.notEqual(second.snapshot, first.snapshot);
    assert.equal(await read(), await expected());
    assert.ok(existsSync(join(out, 'cleaned_orders', 'current')));
    const unknown = sluice(root, ['export', 'nope', '--to', out]);
    assert.equal(unknown.code, 4);
    assert.match(unknown.stderr, /unknown dataset "nope"/);
  });

  test('bad retention settings are refused naming sluice.yaml, line and field, and nothing is created', async () => {
    using tmp = tempDir();
    for (const [retention, problem] of [
      ['{ keep_versions: 0 }', /sluice\.yaml:\d+ storage\.retention\.keep_versions: must be >= 1/],
      ['{ keep_for: soon }', /sluice\.yaml:\d+ storage\.retention\.keep_for: "soon" is not a duration/],
    ] as const) {
      const root = await smallProject(join(tmp.dir, String(problem.source.length)), { days: 1, ordersPerDay: 50 });
      withRetention(root, retention);
      const r = sluice(root, ['gc']);
      assert.equal(r.code, 3, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, problem);
      assert.ok(!existsSync(join(root, '.sluice', 'warehouse-dev', 'catalog.db')), 'no warehouse was created');
    }
  });
});
