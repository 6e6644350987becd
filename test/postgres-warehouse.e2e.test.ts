import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/runner/run-pipeline.ts';
import { smallProject, tempDir, workspace } from './helpers.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from './support/postgres-server.ts';

/**
 * The runner on the PostgreSQL warehouse (SLUICE_WAREHOUSE_URL, the composition root): sources
 * loaded by COPY (declared and sniffed columns, hive folders), steps, checks, contracts, profiles
 * and the publish. The demo project's step SQL runs on both engines; portSteps rewrites the
 * DuckDB-only forms a project may still hold (QUALIFY, round(DOUBLE, n)) into SQL PostgreSQL runs.
 */
const unavailable = postgresUnavailable();
let server: TestPostgres | undefined;
after(async () => {
  await server?.stop();
});

function portSteps(root: string): void {
  for (const dir of readdirSync(join(root, 'steps'))) {
    for (const f of readdirSync(join(root, 'steps', dir))) {
      const p = join(root, 'steps', dir, f);
      let sql = readFileSync(p, 'utf8');
      if (/QUALIFY/.test(sql)) sql = sql.replace(/^SELECT\n/m, 'SELECT DISTINCT ON (o.order_id)\n').replace(/QUALIFY .*\n/, 'ORDER BY o.order_id, o.ordered_at DESC\n');
      sql = sql.replace(/round(_even)?\(o\.amount \* fx\.usd_rate, 2\)/g, 'CAST(round(CAST(o.amount * fx.usd_rate AS numeric), 2) AS DOUBLE PRECISION)');
      sql = sql.replace(/round\(sum\(([^)]*)\), 2\)/g, 'CAST(round(CAST(sum($1) AS numeric), 2) AS DOUBLE PRECISION)');
      writeFileSync(p, sql);
    }
  }
}

describe('runs on the PostgreSQL warehouse', { skip: unavailable ?? false }, () => {
  test('two partitions run, pass their checks and contracts, and publish; the datasets read back by name', async () => {
    server = await startPostgres();
    const saved = process.env['SLUICE_WAREHOUSE_URL'];
    process.env['SLUICE_WAREHOUSE_URL'] = server.url;
    try {
      using tmp = tempDir();
      const root = await smallProject(tmp.dir, { days: 2, ordersPerDay: 200 });
      portSteps(root);
      await using ws = await workspace(root);
      assert.equal(ws.warehouse.engine.kind, 'postgres');
      for (const partition of ['2026-11-01', '2026-11-02']) {
        const r = await runPipeline(ws, { pipeline: 'orders', partition, environment: 'dev', actor: 'a' });
        assert.equal(r.run.status, 'succeeded', JSON.stringify(r.run.error));
        assert.match(r.run.engine, /^postgres \d+/);
      }
      const pubs = await ws.warehouse.currentPublications();
      assert.deepEqual(pubs.map((p) => `${p.dataset} ${p.partition}`), ['cleaned_orders 2026-11-01', 'cleaned_orders 2026-11-02', 'daily_revenue 2026-11-01', 'daily_revenue 2026-11-02']);
      const [n] = await ws.warehouse.query(`SELECT count(DISTINCT order_date) AS days, count(*) AS n FROM ${await ws.warehouse.datasetTable('cleaned_orders')}`);
      assert.equal(n?.['days'], 2);
      assert.ok(Number(n?.['n']) > 0);
    } finally {
      if (saved === undefined) delete process.env['SLUICE_WAREHOUSE_URL'];
      else process.env['SLUICE_WAREHOUSE_URL'] = saved;
    }
  });
});
