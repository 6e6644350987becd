import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { BIN, binJson, runBin, sluiceBin, smallProject, tempDir } from './helpers.ts';

/**
 * Queued runs through the real bin on the embedded defaults: `backfill --queue` enqueues, `sluice
 * worker` claims and runs. A worker killed right after it published is replaced by the next claim,
 * whose publish the warehouse refuses (the item was published by claim 1): every partition is
 * published once per queue item. One DuckDB file takes one worker; a second is refused, naming
 * the PostgreSQL warehouse.
 */
type Worked = { items: { item: number; partition: string; token: number; outcome: string; runId: number | null }[] };

describe('workers on the embedded store and warehouse', { timeout: 300_000 }, () => {
  test('a worker killed after publishing: the next claim finds the item published and finishes it; each partition is published once', async () => {
    using t = tempDir();
    const root = await smallProject(t.dir, { days: 3, ordersPerDay: 100 });
    const queued = binJson<{ items: { id: number }[] }>(root, ['backfill', 'orders', '--from', '2026-11-01', '--to', '2026-11-03', '--queue']);
    assert.equal(queued.items.length, 3);
    assert.deepEqual(binJson<unknown[]>(root, ['runs']), [], 'enqueueing runs nothing');

    const killed = runBin(['worker', '--drain', '--lease', '1s'], { root, env: { SLUICE_CRASH_AT: 'run.published' } });
    assert.equal(killed.signal, 'SIGKILL', 'the worker died right after its first publish');
    await new Promise((r) => setTimeout(r, 1200)); // its claim's lease (1 s) runs out

    const worked = binJson<Worked>(root, ['worker', '--drain']);
    assert.deepEqual(worked.items.map((w) => `${w.item}:${w.token}:${w.outcome}`), [`${queued.items[0]?.id}:2:done`, `${queued.items[1]?.id}:1:done`, `${queued.items[2]?.id}:1:done`]);
    for (const partition of ['2026-11-01', '2026-11-02', '2026-11-03']) {
      const history = binJson<{ runId: number | null }[]>(root, ['publications', 'cleaned_orders', '--partition', partition]);
      assert.equal(history.length, 1, `${partition} published once`);
    }
    const first = binJson<{ runId: number }[]>(root, ['publications', 'cleaned_orders', '--partition', '2026-11-01'])[0];
    const runs = binJson<{ id: number; status: string; partition: string; error: string | null }[]>(root, ['runs']);
    assert.equal(runs.find((r) => r.id === first?.runId)?.status, 'succeeded', 'the killed worker\'s run was finished by recovery');
    assert.match(runs.find((r) => r.partition === '2026-11-01' && r.id !== first?.runId)?.error ?? '', /published already by its claim 1/, 'the second claim ran and was refused at publish');
    const queue = binJson<{ id: number; state: string; token: number; runId: number | null }[]>(root, ['queue']);
    assert.deepEqual(queue.map((i) => `${i.state}:${i.token}`), ['done:2', 'done:1', 'done:1'], 'sluice queue shows each item done, the first after its second claim');
    const verify = sluiceBin(root, ['audit', 'verify']);
    assert.equal(verify.code, 0, verify.stdout);
  });

  test('a second worker on one DuckDB warehouse is refused, naming the PostgreSQL warehouse', async () => {
    using t = tempDir();
    const root = await smallProject(t.dir, { days: 2, ordersPerDay: 50 });
    binJson(root, ['run', 'orders', '--partition', '2026-11-01', '--queue']);
    // The first worker waits for more work, holding the warehouse.
    const first = spawn(process.execPath, [BIN, '--project', root, 'worker', '--poll', '200ms'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLUICE_ACTOR: 'alice' } });
    try {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && binJson<unknown[]>(root, ['publications', 'cleaned_orders']).length === 0) await new Promise((r) => setTimeout(r, 200));
      const second = sluiceBin(root, ['worker', '--drain']);
      assert.equal(second.code, 7, second.stdout + second.stderr);
      assert.match(second.stderr, /several workers need the PostgreSQL warehouse \(warehouse: \{ kind: postgres/);
    } finally {
      first.kill('SIGTERM');
      await once(first, 'exit');
    }
  });
});
