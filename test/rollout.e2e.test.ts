import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sameRows, smallProject, tempDir, workspace } from './helpers.ts';

const PARTS = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06'];

async function project(dir: string): Promise<string> {
  const root = await smallProject(dir, { days: PARTS.length, ordersPerDay: 800 });
  // The template's plans: clean-orders-v2 (v1 -> v2) and clean-orders-v3 (v2 -> v3), whose v3 carries a
  // subtle defect: refunds of customers whose id is a multiple of 7 vanish. Both: shadow, 10, 50, 100 %.
  return root;
}

describe('rollouts end to end on the embedded engines', () => {
  test('a good candidate passes shadow, 10 %, 50 %, 100 % and is promoted; v2 then runs alone', async () => {
    using tmp = tempDir();
    const root = await project(tmp.dir);
    await using ws = await workspace(root);
    const c = ws.rollouts;
    await c.start('clean-orders-v2', 'alice', 'ship v2');
    const seen: string[] = [];
    for (const partition of PARTS.slice(0, 5)) {
      const { rollouts } = await ws.run({ pipeline: 'orders', partition, environment: 'dev', actor: 'scheduler' });
      const st = rollouts[0]?.state;
      seen.push(`${st?.kind}:${st?.position?.stageId ?? ''}`);
    }
    assert.equal((await c.state('clean-orders-v2')).kind, 'promoted', seen.join(' '));
    const last = await ws.run({ pipeline: 'orders', partition: PARTS[5] ?? '', environment: 'dev', actor: 'scheduler' });
    const step = last.result.steps.find((s) => s.step === 'clean_orders');
    assert.deepEqual([step?.exposure.kind, step?.version], ['single', 'v2'], 'after promotion v2 is the baseline and v1 retires');
    assert.ok((await ws.audit.verify()).ok);
    assert.ok((await c.log('clean-orders-v2')).some((e) => e.type === 'transition' && e.transition.to.state === 'promoted'));
  });

  test('a candidate that drops refunds is caught at its canary stage and rolled back: published data equals the baseline', async () => {
    using tmp = tempDir();
    const root = await project(tmp.dir);
    await using ws = await workspace(root);
    const c = ws.rollouts;
    await c.start('clean-orders-v3', 'alice', 'try v3');
    const stages: string[] = [];
    for (const partition of PARTS.slice(0, 4)) {
      await ws.run({ pipeline: 'orders', partition, environment: 'dev', actor: 'scheduler' });
      const st = await c.state('clean-orders-v3');
      stages.push(`${st.kind}:${st.position?.stageId ?? ''}`);
      if (st.kind === 'rolled_back') break;
    }
    assert.equal((await c.state('clean-orders-v3')).kind, 'rolled_back', stages.join(' '));
    assert.match(stages.join(' '), /progressing:canary-10 rolled_back/);
    // Every partition shows its baseline (v1) output again, and downstream was recomputed from it.
    const table = await ws.warehouse.datasetTable('cleaned_orders');
    const revenue = await ws.warehouse.datasetTable('daily_revenue');
    for (const pub of await ws.warehouse.currentPublications('cleaned_orders')) {
      const v = await ws.warehouse.outputVersion(pub.versionId);
      assert.equal(v?.stepVersion, 'v2', `${pub.partition} is published from the baseline`);
      assert.ok(await sameRows(ws.warehouse, `SELECT * FROM ${table} WHERE order_date = DATE '${pub.partition}'`, `SELECT * FROM ${v?.table}`));
      const expected = `SELECT order_date, country, count(*) FILTER (WHERE status = 'paid') AS orders, count(*) FILTER (WHERE status = 'refunded') AS refunds, round(sum(CASE WHEN status = 'paid' THEN amount_usd ELSE -amount_usd END), 2) AS net_revenue_usd FROM ${v?.table} GROUP BY ALL`;
      assert.ok(await sameRows(ws.warehouse, `SELECT * FROM ${revenue} WHERE order_date = DATE '${pub.partition}'`, expected), `daily_revenue ${pub.partition} recovered`);
    }
    // The diff gate is judged before publish: v3's rows were never published, so there was nothing to republish.
    for (const pub of await ws.warehouse.currentPublications('cleaned_orders')) {
      for (const h of await ws.warehouse.publicationHistory('cleaned_orders', pub.partition)) {
        const v = await ws.warehouse.outputVersion(h.versionId);
        assert.ok(v && !v.stepVersion.includes('v3'), `${pub.partition} never showed a candidate or blended output of v3 (it showed ${v?.stepVersion})`);
      }
    }
    const rollback = (await ws.store.audit.list()).filter((e) => e.action === 'rollout.transition' && /-> rolled_back/.test(e.reason));
    assert.equal(rollback.length, 1);
    assert.match(rollback[0]?.reason ?? '', /nothing to republish: no partition shows candidate rows/);
    assert.ok((await ws.audit.verify()).ok);
    const next = await ws.run({ pipeline: 'orders', partition: PARTS[5] ?? '', environment: 'dev', actor: 'scheduler' });
    assert.equal(next.result.steps.find((s) => s.step === 'clean_orders')?.exposure.kind, 'single', 'the flag is back at the baseline');
    assert.equal(next.result.steps.find((s) => s.step === 'clean_orders')?.version, 'v2');
  });
});
