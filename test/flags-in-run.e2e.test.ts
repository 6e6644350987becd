import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/runner/run-pipeline.ts';
import { inSlice } from '../src/flags/bucket.ts';
import { SluiceError } from '../src/util/errors.ts';
import type { Workspace } from '../src/app/open-workspace.ts';
import { sameRows, smallProject, tempDir, workspace } from './helpers.ts';

const KILL = `name: stop_orders
kill_switch: true
scope: { pipeline: orders }
enabled: false
`;

/** A project whose candidate v2 marks its rows, so every published row tells which version made it. */
async function flaggedProject(dir: string): Promise<string> {
  const root = await smallProject(dir, { days: 2, ordersPerDay: 1500 });
  const v2 = join(root, 'steps/clean_orders/v2.sql');
  writeFileSync(v2, readFileSync(v2, 'utf8').replace('lower(o.channel) AS channel', "'cand-' || o.channel AS channel"));
  // The template declares clean_orders_version (off, 0 % gradual on slice_key, group clean_orders).
  writeFileSync(join(root, 'flags/stop_orders.yaml'), KILL);
  return root;
}

async function setPercent(ws: Workspace, percent: number): Promise<void> {
  const f = await ws.flags.flag('dev', 'clean_orders_version');
  const s = f.strategies[0];
  assert.ok(s && s.kind === 'gradual');
  await ws.flags.set('dev', 'clean_orders_version', { enabled: true, strategies: [{ ...s, percentage: percent }] }, 'tester', `slice ${percent}`);
}

async function publishedCandidateKeys(ws: Workspace, partition: string): Promise<Set<number>> {
  const t = await ws.warehouse.datasetTable('cleaned_orders');
  const rows = await ws.warehouse.query(`SELECT order_id FROM ${t} WHERE order_date = DATE '${partition}' AND channel LIKE 'cand-%'`);
  return new Set(rows.map((r) => Number(r['order_id'])));
}

describe('flags in the runner', () => {
  test('invariant: sticky, monotone row slices, identical in TypeScript and DuckDB', async () => {
    using tmp = tempDir();
    const root = await flaggedProject(tmp.dir);
    await using ws = await workspace(root);
    const table = await ws.warehouse.datasetTable('cleaned_orders');
    let previous = new Set<number>();
    for (const percent of [10, 50]) {
      await setPercent(ws, percent);
      const r = await runPipeline(ws, { pipeline: 'orders', partition: '2026-11-01', environment: 'dev', actor: 't' });
      const step = r.steps.find((s) => s.step === 'clean_orders');
      assert.ok(step?.baselineOutput && step.candidateOutput, 'both versions computed over the full input');
      assert.equal(step.exposure.kind, 'sliced');
      const all = await ws.warehouse.query(`SELECT order_id FROM ${table} WHERE order_date = DATE '2026-11-01'`);
      const cand = await publishedCandidateKeys(ws, '2026-11-01');
      // Every published row comes from the version the TypeScript bucket assigns its key to.
      for (const row of all) {
        const id = Number(row['order_id']);
        assert.equal(cand.has(id), inSlice('clean_orders', id, percent), `order ${id} at ${percent} %`);
      }
      assert.ok(cand.size > all.length * (percent / 100) * 0.7 && cand.size < all.length * (percent / 100) * 1.3, `about ${percent} % of rows: ${cand.size} of ${all.length}`);
      for (const k of previous) assert.ok(cand.has(k), `key ${k} inside the smaller slice stays inside`);
      assert.equal(all.length, step.baselineOutput.rowCount, 'no row lost or duplicated');
      previous = cand;
      assert.equal(r.run.artifacts['clean_orders']?.candidate?.percent, percent);
    }
  });

  test('shadow (0 %) publishes the baseline and keeps the candidate output for diffing', async () => {
    using tmp = tempDir();
    const root = await flaggedProject(tmp.dir);
    await using ws = await workspace(root);
    await setPercent(ws, 0);
    const r = await runPipeline(ws, { pipeline: 'orders', partition: '2026-11-01', environment: 'dev', actor: 't' });
    const step = r.steps.find((s) => s.step === 'clean_orders');
    assert.ok(step?.baselineOutput && step.candidateOutput);
    const t = await ws.warehouse.datasetTable('cleaned_orders');
    assert.ok(await sameRows(ws.warehouse, `SELECT * FROM ${t}`, `SELECT * FROM ${step.baselineOutput.table}`));
    assert.equal((await publishedCandidateKeys(ws, '2026-11-01')).size, 0);
    assert.ok(step.candidateOutput.rowCount > 0);
  });

  test('invariant: batch-boundary consistency — a flag changed mid-run affects the next run only', async () => {
    using tmp = tempDir();
    const root = await flaggedProject(tmp.dir);
    await using ws = await workspace(root);
    const r1 = await runPipeline(ws, {
      pipeline: 'orders', partition: '2026-11-01', environment: 'dev', actor: 't',
      onPhase: async (phase) => { if (phase === 'sources-bound') await setPercent(ws, 100); },
    });
    assert.equal(r1.steps.find((s) => s.step === 'clean_orders')?.exposure.kind, 'single', 'the run keeps the flags it pinned at its start');
    assert.equal((await publishedCandidateKeys(ws, '2026-11-01')).size, 0);
    const recorded = (await ws.store.runs.get(r1.run.id))?.flags;
    assert.equal(recorded?.snapshot.flags.find((f) => f.name === 'clean_orders_version')?.enabled, false, 'the snapshot is recorded with the run');
    const r2 = await runPipeline(ws, { pipeline: 'orders', partition: '2026-11-02', environment: 'dev', actor: 't' });
    assert.equal(r2.steps.find((s) => s.step === 'clean_orders')?.exposure.kind, 'sliced');
    assert.ok((await publishedCandidateKeys(ws, '2026-11-02')).size > 0);
  });

  test('a disabled flag with default_variant v2 runs v2 alone; a kill switch stops the pipeline', async () => {
    using tmp = tempDir();
    const root = await flaggedProject(tmp.dir);
    await using ws = await workspace(root);
    await ws.flags.set('dev', 'clean_orders_version', { enabled: false, defaultVariant: 'v2' }, 'tester', 'promote v2');
    const r = await runPipeline(ws, { pipeline: 'orders', partition: '2026-11-01', environment: 'dev', actor: 't' });
    const step = r.steps.find((s) => s.step === 'clean_orders');
    assert.deepEqual([step?.exposure.kind, step?.version, step?.candidateOutput], ['single', 'v2', undefined]);
    await ws.flags.set('dev', 'stop_orders', { enabled: true }, 'oncall', 'bad upstream data');
    const e = await runPipeline(ws, { pipeline: 'orders', partition: '2026-11-02', environment: 'dev', actor: 't' }).catch((x: unknown) => x);
    assert.ok(e instanceof SluiceError && e.code === 'CONFLICT' && /stopped by kill switch stop_orders/.test(e.message), String(e));
    assert.deepEqual((await ws.store.audit.list()).filter((a) => a.action === 'flag.set').map((a) => a.actor), ['tester', 'oncall']);
  });
});
