import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/runner/run-pipeline.ts';
import { verifyAudit } from '../src/runner/verify-audit.ts';
import { existingWarehouse } from '../src/app/open-workspace.ts';
import { count, sameRows, smallProject, tempDir, workspace } from './helpers.ts';

const P1 = '2026-11-01';

/** Starts the child, waits for `marker` on its stdout (plus `delayMs`), then SIGKILLs it. */
async function killChildAt(args: string[], marker: string, delayMs = 0): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/kill-child.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child never printed ${marker}: ${stderr}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes(marker)) {
        clearTimeout(timer);
        setTimeout(resolve, delayMs);
      }
    });
    child.on('exit', (code) => (code !== null && code !== 0 ? reject(new Error(`child exited ${code}: ${stderr}`)) : undefined));
  });
  child.kill('SIGKILL');
  await exited;
}

describe('invariant: atomic publish survives SIGKILL', () => {
  test('a run killed at any phase leaves every dataset at its complete earlier or later output', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 1, ordersPerDay: 3000 });
    let firstRun: number;
    {
      await using ws = await workspace(root);
      firstRun = (await runPipeline(ws, { pipeline: 'orders', partition: P1, environment: 'dev', actor: 't' })).run.id;
    }
    // The candidate output differs from the first one, so "old" and "new" are told apart.
    const sql = join(root, 'steps/clean_orders/v1.sql');
    writeFileSync(sql, readFileSync(sql, 'utf8').replace("IN ('paid', 'refunded')", "IN ('paid')"));
    for (const phase of ['sources-bound', 'step-done', 'before-publish', 'published']) {
      await killChildAt([root, `phase:${phase}`, P1], 'PAUSED');
      await using ws = await workspace(root);
      const pubs = await ws.warehouse.currentPublications();
      const runs = new Set(pubs.map((p) => p.runId));
      assert.equal(runs.size, 1, `after a kill at ${phase} both datasets come from one run`);
      const [runId] = [...runs];
      if (phase !== 'published') assert.equal(runId, firstRun, `killed at ${phase}: still the first run's output`);
      for (const p of pubs) {
        const v = await ws.warehouse.outputVersion(p.versionId);
        assert.ok(v);
        const table = await ws.warehouse.datasetTable(p.dataset);
        assert.ok(await sameRows(ws.warehouse, `SELECT * FROM ${table} WHERE order_date = DATE '${P1}'`, `SELECT * FROM ${v.table}`), `${p.dataset} equals its published version after a kill at ${phase}`);
      }
      // A run is recorded once its sources are bound; recovery marks one killed before its publish
      // abandoned, and finishes one killed after it (writing its publish entries).
      await ws.recover();
      const abandoned = await ws.store.runs.list({ status: 'abandoned' });
      assert.equal(abandoned.length, phase === 'sources-bound' ? 0 : phase === 'step-done' ? 1 : 2, `abandoned runs after a kill at ${phase}`);
      assert.equal((await ws.store.runs.list({ status: 'running' })).length, 0);
      const audit = await verifyAudit({ ...ws, existingWarehouse: existingWarehouse(ws) });
      assert.ok(audit.ok, `after a kill at ${phase} and recovery the audit trail verifies and covers everything: ${JSON.stringify(audit.coverage)} ${JSON.stringify(audit.chain)}`);
    }
  });

  test('a publish killed mid-transaction shows the old or the new partition, never a mix', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 1, ordersPerDay: 40_000 });
    let a: string;
    let b: string;
    {
      await using ws = await workspace(root);
      a = (await runPipeline(ws, { pipeline: 'orders', partition: P1, environment: 'dev', actor: 't' })).steps[0]?.outputVersionId ?? '';
      const sql = join(root, 'steps/clean_orders/v1.sql');
      const v1 = readFileSync(sql, 'utf8');
      const v1b = v1.replace('AS NUMERIC(18, 6)), 2)', 'AS NUMERIC(18, 6)), 1)');
      assert.notEqual(v1b, v1, 'the second version rounds amounts differently');
      writeFileSync(sql, v1b);
    }
    {
      await using ws = await workspace(root);
      b = (await runPipeline(ws, { pipeline: 'orders', partition: P1, environment: 'dev', actor: 't' })).steps[0]?.outputVersionId ?? '';
    }
    for (const delay of [0, 7, 19, 33, 51, 80]) {
      await killChildAt([root, 'republish-loop', `${a},${b}`], 'CYCLE 0', delay);
      await using ws = await workspace(root);
      const table = await ws.warehouse.datasetTable('cleaned_orders');
      const shown = `SELECT * FROM ${table} WHERE order_date = DATE '${P1}'`;
      const [pub] = await ws.warehouse.currentPublications('cleaned_orders');
      const isA = await sameRows(ws.warehouse, shown, `SELECT * FROM ${(await ws.warehouse.outputVersion(a))?.table}`);
      const isB = await sameRows(ws.warehouse, shown, `SELECT * FROM ${(await ws.warehouse.outputVersion(b))?.table}`);
      assert.ok(isA !== isB, `after a kill ${delay} ms into the loop the partition is exactly one version (rows ${await count(ws.warehouse, shown)})`);
      assert.equal(pub?.versionId, isA ? a : b, 'the publication pointer names the version shown');
    }
  });
});
