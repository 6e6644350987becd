import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPipeline } from '../src/runner/run-pipeline.ts';
import { SluiceError } from '../src/util/errors.ts';
import { smallProject, tempDir, workspace } from './helpers.ts';

function addChecks(root: string, checks: string): void {
  const file = join(root, 'pipelines/orders.yaml');
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.includes('    checks:\n') ? text.replace('    checks:\n', `    checks:\n${checks}`) : text.replace('    event_time: ordered_at\n', `    event_time: ordered_at\n    checks:\n${checks}`));
}

describe('checks run on every output before it is published', () => {
  test('passing checks publish and are stored; a failing error check keeps the previous publication and names the values', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir);
    addChecks(root, '      - { check: not_null, column: customer_id }\n      - { check: unique, column: order_id }\n      - { check: in_set, column: currency, values: [USD, EUR, GBP, JPY, CHF, SEK] }\n');
    let firstPub: string | undefined;
    {
      await using ws = await workspace(root);
      const r = await runPipeline(ws, { pipeline: 'orders', partition: '2026-11-01', environment: 'dev', actor: 't' });
      firstPub = r.publications.find((p) => p.dataset === 'cleaned_orders')?.versionId;
      const stored = (await ws.store.checkResults.forRun(r.run.id));
      assert.equal(stored.length, 1);
      assert.equal((stored[0]?.results ?? []).every((x) => x.success), true);
    }
    // A stricter rule that some rows break: only web and app orders are expected.
    addChecks(root, "      - { check: in_set, column: channel, values: [web, app], name: channel_known }\n      - { check: between, column: amount_usd, min: 0, max: 100000, severity: warn }\n");
    await using ws = await workspace(root);
    const e = await runPipeline(ws, { pipeline: 'orders', partition: '2026-11-01', environment: 'dev', actor: 't' }).catch((x: unknown) => x);
    assert.ok(e instanceof SluiceError && e.code === 'CHECK_FAILED', String(e));
    assert.match(e.message, /dataset cleaned_orders: 1 error check\(s\) failed .*nothing was published/);
    assert.match(e.message, /channel_known failed: \d+ of \d+ rows unexpected .*(store|partner)/s);
    const [pub] = await ws.warehouse.currentPublications('cleaned_orders');
    assert.equal(pub?.versionId, firstPub, 'the previous publication stays in place');
    const failedRun = (await ws.store.runs.list({ status: 'failed' }))[0];
    assert.ok(failedRun);
    assert.match(failedRun.error ?? '', /channel_known/);
  });

  test('a check on a column that does not exist is refused, naming the file and field', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir);
    addChecks(root, '      - { check: not_null, column: no_such_column }\n');
    await using ws = await workspace(root);
    const e = await runPipeline(ws, { pipeline: 'orders', partition: '2026-11-01', environment: 'dev', actor: 't' }).catch((x: unknown) => x);
    assert.ok(e instanceof SluiceError, String(e));
    assert.match(JSON.stringify(e.toJSON()), /no_such_column/);
    assert.match(JSON.stringify(e.toJSON()), /pipelines\/orders\.yaml/);
    assert.deepEqual(await ws.warehouse.currentPublications(), []);
  });
});
