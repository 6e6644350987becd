import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/runner/run-pipeline.ts';
import { SluiceError } from '../src/util/errors.ts';
import { count, sameRows, smallProject, tempDir, workspace } from './helpers.ts';

const P1 = '2026-11-01';

describe('runner: run, version, publish', () => {
  test('a run publishes every dataset of the pipeline and records what it used', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir);
    await using ws = await workspace(root);
    const r = await runPipeline(ws, { pipeline: 'orders', partition: P1, environment: 'dev', actor: 'alice' });
    assert.equal(r.run.status, 'succeeded');
    assert.deepEqual(r.publications.map((p) => p.dataset).sort(), ['cleaned_orders', 'daily_revenue']);
    const cleaned = await ws.warehouse.datasetTable('cleaned_orders');
    const clean = r.steps.find((s) => s.step === 'clean_orders');
    assert.ok(clean && clean.rowsOut > 250 && clean.rowsIn > clean.rowsOut, 'dirty rows are dropped, rows in counts the inputs');
    assert.equal(await count(ws.warehouse, `SELECT * FROM ${cleaned}`), clean.rowsOut);
    const stored = (await ws.store.runs.get(r.run.id));
    assert.equal(stored?.artifacts['clean_orders']?.version, 'v1');
    assert.match(stored?.artifacts['clean_orders']?.hash ?? '', /^[0-9a-f]{64}$/);
    assert.equal((await ws.store.runs.steps(r.run.id)).length, 2);
    const fresh = (await ws.store.runs.freshness('dev', 'cleaned_orders'));
    assert.equal(fresh.length, 1);
    assert.match(fresh[0]?.newestEventTime ?? '', /^2026-11-01/);
    assert.deepEqual((await ws.store.audit.list()).map((e) => e.action), ['run.started', 'publish', 'publish', 'run.finished']);
    assert.equal((await ws.store.audit.list())[0]?.actor, 'alice');
  });

  test('a re-run makes a new immutable version, duplicates nothing, and the old one can be published again', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir);
    await using ws = await workspace(root);
    const first = await runPipeline(ws, { pipeline: 'orders', partition: P1, environment: 'dev', actor: 'a' });
    await runPipeline(ws, { pipeline: 'orders', partition: '2026-11-02', environment: 'dev', actor: 'a' });
    const firstOut = first.steps.find((s) => s.step === 'clean_orders')?.output;
    assert.ok(firstOut);
    const table = await ws.warehouse.datasetTable('cleaned_orders');
    const p1 = `SELECT * FROM ${table} WHERE order_date = DATE '${P1}'`;
    const before = await count(ws.warehouse, p1);
    // A changed version of the step: it now keeps cancelled orders too.
    const sql = join(root, 'steps/clean_orders/v1.sql');
    writeFileSync(sql, readFileSync(sql, 'utf8').replace("IN ('paid', 'refunded')", "IN ('paid', 'refunded', 'cancelled')"));
    await using ws2 = await workspace(root);
    const second = await runPipeline(ws2, { pipeline: 'orders', partition: P1, environment: 'dev', actor: 'a' });
    assert.notEqual(second.run.artifacts['clean_orders']?.hash, first.run.artifacts['clean_orders']?.hash, 'a changed SQL file is a new version hash');
    const after = await count(ws2.warehouse, p1);
    assert.ok(after > before, 'the new output is published');
    assert.equal(await count(ws2.warehouse, `SELECT order_id FROM ${table} WHERE order_date = DATE '${P1}' GROUP BY order_id HAVING count(*) > 1`), 0, 'no duplicated rows');
    assert.equal(await count(ws2.warehouse, `SELECT * FROM ${table} WHERE order_date = DATE '2026-11-02'`) > 0, true, 'other partitions untouched');
    // The first output is still there, unchanged, and can be published again.
    assert.equal(await count(ws2.warehouse, `SELECT * FROM ${firstOut.table}`), before);
    await ws2.warehouse.publish([{ dataset: 'cleaned_orders', partitionColumn: 'order_date', partition: P1, versionId: firstOut.id }], { runId: null, actor: 'a', reason: 'back', at: new Date() });
    assert.ok(await sameRows(ws2.warehouse, p1, `SELECT * FROM ${firstOut.table}`));
    const history = await ws2.warehouse.publicationHistory('cleaned_orders', P1);
    assert.deepEqual(history.map((h) => h.versionId), [firstOut.id, `clean_orders.r${second.run.id}`, firstOut.id]);
    assert.equal(history[2]?.previousVersionId, `clean_orders.r${second.run.id}`);
  });
});

describe('runner: bad input changes nothing', () => {
  async function expectUnchanged(root: string, act: (ws: Awaited<ReturnType<typeof workspace>>) => Promise<unknown>, expected: RegExp, code: SluiceError['code']): Promise<SluiceError> {
    await using ws = await workspace(root);
    const exists = await count(ws.warehouse, `SELECT * FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'cleaned_orders'`);
    const rows = async (): Promise<number> => (exists ? count(ws.warehouse, `SELECT * FROM ${await ws.warehouse.datasetTable('cleaned_orders')}`) : -1);
    const before = await ws.warehouse.currentPublications();
    const rowsBefore = await rows();
    let caught: unknown;
    await act(ws).catch((e: unknown) => (caught = e));
    assert.ok(caught instanceof SluiceError, `expected a SluiceError, got ${String(caught)}`);
    assert.equal(caught.code, code);
    assert.match(caught.message, expected);
    assert.deepEqual(await ws.warehouse.currentPublications(), before);
    assert.equal(await rows(), rowsBefore);
    return caught;
  }

  test('a missing partition, a failing SQL file and mismatching source files are refused with their place named', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir);
    {
      await using ws = await workspace(root);
      await runPipeline(ws, { pipeline: 'orders', partition: P1, environment: 'dev', actor: 'a' });
    }
    const runsBefore = (await workspace(root).then(async (ws) => { const n = (await ws.store.runs.list()).length; await ws[Symbol.asyncDispose](); return n; }));
    await expectUnchanged(root, (ws) => runPipeline(ws, { pipeline: 'orders', partition: '2030-01-01', environment: 'dev', actor: 'a' }), /raw_orders.*no folder order_date=2030-01-01/, 'NOT_FOUND');
    {
      await using ws = await workspace(root);
      assert.equal((await ws.store.runs.list()).length, runsBefore, 'a missing partition records no run');
    }

    writeFileSync(join(root, 'steps/daily_revenue/v1.sql'), 'SELECT order_date, no_such_column FROM clean_orders');
    const e = await expectUnchanged(root, (ws) => runPipeline(ws, { pipeline: 'orders', partition: P1, environment: 'dev', actor: 'a' }), /step daily_revenue version v1 failed: .*no_such_column.*steps\/daily_revenue\/v1\.sql/s, 'SQL_FAILED');
    assert.equal(e.place.step, 'daily_revenue');
    assert.equal(e.place.version, 'v1');
    {
      await using ws = await workspace(root);
      const failed = (await ws.store.runs.list({ status: 'failed' }));
      assert.equal(failed.length, 1);
      assert.match(failed[0]?.error ?? '', /no_such_column/);
    }

    const csv = join(root, 'data/orders/order_date=2026-11-02/data_0.csv');
    const text = readFileSync(csv, 'utf8').split('\n');
    writeFileSync(csv, [text[0]?.replace('amount', 'amount_eur'), ...text.slice(1)].join('\n'));
    await expectUnchanged(root, (ws) => runPipeline(ws, { pipeline: 'orders', partition: '2026-11-02', environment: 'dev', actor: 'a' }), /order_date=2026-11-02\/data_0\.csv: columns do not match.*missing amount; unexpected amount_eur/, 'DATA_INVALID');
  });

  test('unknown pipelines and environments are refused before anything runs', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir);
    await expectUnchanged(root, (ws) => runPipeline(ws, { pipeline: 'nope', partition: P1, environment: 'dev', actor: 'a' }), /unknown pipeline "nope" \(pipelines: orders\)/, 'NOT_FOUND');
    await expectUnchanged(root, (ws) => runPipeline(ws, { pipeline: 'orders', partition: P1, environment: 'qa', actor: 'a' }), /unknown environment "qa"/, 'USAGE');
  });

  test('a step whose rows fall outside the partition is not published', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir);
    appendFileSync(join(root, 'steps/daily_revenue/v1.sql'), "UNION ALL SELECT DATE '1999-01-01', 'XX', 0, 0, 0\n");
    await expectUnchanged(root, (ws) => runPipeline(ws, { pipeline: 'orders', partition: P1, environment: 'dev', actor: 'a' }), /1 rows of step daily_revenue \(v1\) have order_date other than partition 2026-11-01/, 'DATA_INVALID');
  });

  test('a corrupted project is refused as a whole', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir);
    rmSync(join(root, 'steps/daily_revenue/v1.sql'));
    await assert.rejects(workspace(root), (e: unknown) => e instanceof SluiceError && e.code === 'CONFIG_INVALID' && /pipelines\/orders\.yaml:\d+ steps\.daily_revenue\.versions\.v1\.sql: SQL file steps\/daily_revenue\/v1\.sql does not exist/.test(e.message));
  });
});
