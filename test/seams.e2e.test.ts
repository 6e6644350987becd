import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openWorkspace } from '../src/app/open-workspace.ts';
import { runPipeline } from '../src/runner/run-pipeline.ts';
import { SluiceError } from '../src/util/errors.ts';
import { count, sameRows, smallProject, tempDir, workspace } from './helpers.ts';
import { freePort } from './support/postgres-server.ts';

describe('seams', () => {
  test('two runs at once in one process, on different partitions, keep their bindings and transactions apart', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 3, ordersPerDay: 2000 });
    await using ws = await workspace(root);
    const parts = ['2026-11-01', '2026-11-02', '2026-11-03'];
    const results = await Promise.all(parts.map((partition) => runPipeline(ws, { pipeline: 'orders', partition, environment: 'dev', actor: 'a' })));
    assert.deepEqual(results.map((r) => r.run.status), ['succeeded', 'succeeded', 'succeeded']);
    const table = await ws.warehouse.datasetTable('cleaned_orders');
    for (const [i, partition] of parts.entries()) {
      const out = results[i]?.steps.find((s) => s.step === 'clean_orders')?.output;
      assert.ok(out);
      assert.equal(await count(ws.warehouse, `SELECT * FROM ${out.table} WHERE order_date <> DATE '${partition}'`), 0, `run ${i} computed only its own partition`);
      assert.ok(await sameRows(ws.warehouse, `SELECT * FROM ${table} WHERE order_date = DATE '${partition}'`, `SELECT * FROM ${out.table}`), `${partition} shows its own run's output`);
    }
    const v = await ws.audit.verify();
    assert.ok(v.ok, JSON.stringify(v));
  });

  test('runs record the engine and version they computed on', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 1, ordersPerDay: 50 });
    await using ws = await workspace(root);
    const r = await runPipeline(ws, { pipeline: 'orders', partition: '2026-11-01', environment: 'dev', actor: 'a' });
    assert.match(r.run.engine, /^duckdb \d+\.\d+\.\d+/);
  });

  test('a PostgreSQL store or warehouse is accepted by the schema; the store opens (an unreachable one is refused naming store.url), an unreachable warehouse is refused naming SLUICE_WAREHOUSE_URL', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 1, ordersPerDay: 50 });
    const yaml = join(root, 'sluice.yaml');
    const original = readFileSync(yaml, 'utf8');
    writeFileSync(yaml, `${original}\nwarehouse_note: x\n`);
    await assert.rejects(openWorkspace(root), (e: unknown) => e instanceof SluiceError && e.code === 'CONFIG_INVALID' && /warehouse_note: unknown field/.test(e.message));
    // Nothing listens on a free port: the store is tried, and refused naming its setting.
    writeFileSync(yaml, original.replace(/store:\n  kind: sqlite\n  path: \.sluice\/sluice\.db\n/, `store: postgres://sluice@127.0.0.1:${await freePort()}/meta\n`));
    await assert.rejects(openWorkspace(root), (e: unknown) => e instanceof SluiceError && e.code === 'CONFIG_INVALID' && /\(store\.url\): connection refused/.test(e.message) && e.place.field === 'store.url');
    writeFileSync(yaml, original.replace(/store:\n  kind: sqlite\n  path: \.sluice\/sluice\.db\n/, 'store: { kind: postgres }\n'));
    await assert.rejects(openWorkspace(root), (e: unknown) => e instanceof SluiceError && /sluice\.yaml:\d+ store: a postgres store needs url/.test(e.message));
    writeFileSync(yaml, original.replace(/store:\n  kind: sqlite\n  path: \.sluice\/sluice\.db\n/, 'store: { kind: sqlite, url: "postgres://x/y" }\n'));
    await assert.rejects(openWorkspace(root), (e: unknown) => e instanceof SluiceError && /store\.url: url goes with kind: postgres/.test(e.message));
    writeFileSync(yaml, original);
    const saved = { store: process.env['SLUICE_STORE_URL'], warehouse: process.env['SLUICE_WAREHOUSE_URL'] };
    try {
      process.env['SLUICE_WAREHOUSE_URL'] = 'mysql://nope';
      await assert.rejects(openWorkspace(root), (e: unknown) => e instanceof SluiceError && /SLUICE_WAREHOUSE_URL must be a PostgreSQL URL/.test(e.message));
      process.env['SLUICE_WAREHOUSE_URL'] = `postgres://sluice:sekrit@127.0.0.1:${await freePort()}/wh`;
      await assert.rejects(openWorkspace(root), (e: unknown) => e instanceof SluiceError && e.code === 'CONFIG_INVALID' && /\(SLUICE_WAREHOUSE_URL\): connection refused/.test(e.message) && !e.message.includes('sekrit') && e.place.field === 'SLUICE_WAREHOUSE_URL');
    } finally {
      for (const [k, v] of [['SLUICE_STORE_URL', saved.store], ['SLUICE_WAREHOUSE_URL', saved.warehouse]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
