import { describe, test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { binJson, sluiceBin, smallProject, tempDir } from './helpers.ts';

/**
 * `sluice run PIPELINE --select ...` as a dbt user types it, through the real bin on the scaffolded
 * orders project (clean_orders -> daily_revenue, each publishing a dataset): only the selected
 * steps compute and publish; what they read comes from the publications, or is computed and not
 * published when nothing is; a rollout sees the run as a batch only when its step is selected.
 */
type RunJson = { computed: { step: string; role: string; id: string }[]; publications: { dataset: string; versionId: string }[] };
type Status = { state: string; stageId: string | null; batchesInStage: number };

describe('model selection', { timeout: 300_000 }, () => {
  test('STEP, STEP+ and +STEP compute and publish only what they select; a rollout counts only runs that select its step', async () => {
    using t = tempDir();
    const root = await smallProject(t.dir, { days: 3, ordersPerDay: 200 });
    const full = binJson<RunJson>(root, ['run', 'orders', '--partition', '2026-11-01']);
    const cleanV1 = full.publications.find((p) => p.dataset === 'cleaned_orders')?.versionId;

    const mart = binJson<RunJson>(root, ['run', 'orders', '--partition', '2026-11-01', '--select', 'daily_revenue']);
    assert.deepEqual(mart.computed.map((c) => `${c.step}:${c.role}`), ['clean_orders:read', 'daily_revenue:output']);
    assert.deepEqual(mart.publications.map((p) => p.dataset), ['daily_revenue'], 'the upstream dataset is read, not published again');
    assert.equal(mart.computed[0]?.id, cleanV1);

    const upstreamOnly = binJson<RunJson>(root, ['run', 'orders', '--partition', '2026-11-01', '--select', 'clean_orders']);
    assert.deepEqual(upstreamOnly.publications.map((p) => p.dataset), ['cleaned_orders']);
    const withUpstream = binJson<RunJson>(root, ['run', 'orders', '--partition', '2026-11-01', '--select', '+daily_revenue']);
    assert.deepEqual(withUpstream.publications.map((p) => p.dataset).sort(), ['cleaned_orders', 'daily_revenue']);

    // Nothing published for 2026-11-02 yet: the input is computed for the selected step, and not published.
    const fresh = binJson<RunJson>(root, ['run', 'orders', '--partition', '2026-11-02', '--select', 'daily_revenue']);
    assert.deepEqual(fresh.computed.map((c) => `${c.step}:${c.role}`), ['clean_orders:output', 'daily_revenue:output']);
    assert.deepEqual(fresh.publications.map((p) => p.dataset), ['daily_revenue']);
    assert.deepEqual(binJson<unknown[]>(root, ['publications', 'cleaned_orders', '--partition', '2026-11-02']), []);

    binJson(root, ['rollout', 'start', 'clean-orders-v2', '--reason', 'select test']);
    const notABatch = binJson<RunJson>(root, ['run', 'orders', '--partition', '2026-11-03', '--select', 'daily_revenue']);
    assert.deepEqual(notABatch.computed.map((c) => `${c.step}:${c.role}`), ['clean_orders:output', 'daily_revenue:output'], 'an unpublished input runs its baseline alone');
    let status = binJson<Status>(root, ['rollout', 'status', 'clean-orders-v2']);
    assert.deepEqual([status.stageId, status.batchesInStage], ['shadow', 0], 'a run that does not select the rollout\'s step is not a batch');
    const batch = binJson<RunJson>(root, ['run', 'orders', '--partition', '2026-11-03', '--select', 'clean_orders+']);
    assert.deepEqual(batch.computed.map((c) => c.role).sort(), ['baseline', 'candidate', 'output']);
    status = binJson<Status>(root, ['rollout', 'status', 'clean-orders-v2']);
    assert.equal(status.stageId, 'canary-10', 'the selected run was the shadow batch the soak gate waited for');

    // An input computed only for the selection must pass its dataset's checks as its publish would.
    const pipelineFile = join(root, 'pipelines', 'orders.yaml');
    writeFileSync(pipelineFile, readFileSync(pipelineFile, 'utf8').replace('values: [USD, EUR, GBP, JPY, CHF, SEK]', 'values: [XXX]'));
    const failing = sluiceBin(root, ['run', 'orders', '--partition', '2026-11-02', '--select', 'daily_revenue']);
    assert.equal(failing.code, 6, failing.stdout + failing.stderr);
    assert.match(failing.stderr, /dataset cleaned_orders \(an unpublished input of --select daily_revenue\): 1 error check\(s\) failed/);
    assert.equal(binJson<{ versionId: string }[]>(root, ['publications', 'daily_revenue', '--partition', '2026-11-02']).length, 1, 'daily_revenue 2026-11-02 shows what it showed before');

    const bad = sluiceBin(root, ['run', 'orders', '--partition', '2026-11-01', '--select', 'daily_revenu+']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--select "daily_revenu\+": pipeline orders has no step "daily_revenu" \(steps: clean_orders, daily_revenue/);
  });
});
