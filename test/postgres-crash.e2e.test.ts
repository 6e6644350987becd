import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runBin, tempDir } from './helpers.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from './support/postgres-server.ts';

/**
 * What can really go wrong with a PostgreSQL store and warehouse: the process dies between their
 * commits. Killed inside the warehouse's publish transaction, the server rolls it back (nothing
 * published); killed after the warehouse committed and before the store did, the next command's
 * recovery audits the publish and finishes the run. Either way each partition shows one whole
 * version and the audit trail verifies.
 */
const unavailable = postgresUnavailable();
let server: TestPostgres | undefined;
after(async () => {
  await server?.stop();
});

describe('crashes between the PostgreSQL warehouse and store', { skip: unavailable ?? false, timeout: 300_000 }, () => {
  test('killed before and after the warehouse commit: rolled back, or published and finished by recovery', async () => {
    server = await startPostgres();
    using t = tempDir();
    const root = join(t.dir, 'shop');
    const env = { SLUICE_HOME: join(t.dir, 'home'), SLUICE_STORE_URL: server.url, SLUICE_WAREHOUSE_URL: server.url };
    const sluice = (args: string[], crashAt?: string) => runBin(args, { root, env: { ...env, ...(crashAt ? { SLUICE_CRASH_AT: crashAt } : {}) } });
    const json = <T>(args: string[]): T => {
      const r = sluice(['--json', ...args]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    };
    assert.equal(runBin(['init', root], { env }).code, 0);

    const before = sluice(['run', 'orders', '--partition', '2026-11-01'], 'publish.before-commit');
    assert.equal(before.signal, 'SIGKILL');
    assert.deepEqual(json<unknown[]>(['publications', 'cleaned_orders']), [], 'the open publish transaction was rolled back');

    const between = sluice(['run', 'orders', '--partition', '2026-11-02'], 'run.published');
    assert.equal(between.signal, 'SIGKILL');
    const shown = json<{ partition: string; runId: number }[]>(['publications', 'cleaned_orders']);
    assert.deepEqual(shown.map((p) => p.partition), ['2026-11-02'], 'the warehouse committed');
    const stuck = json<{ id: number; status: string }[]>(['runs']).find((r) => r.id === shown[0]?.runId);
    assert.equal(stuck?.status, 'running', 'the store never heard of it');

    // The next command that writes recovers first: the publish is audited and the run finished.
    json(['run', 'orders', '--partition', '2026-11-03']);
    const runs = json<{ id: number; status: string; partition: string }[]>(['runs']);
    assert.equal(runs.find((r) => r.id === shown[0]?.runId)?.status, 'succeeded', 'recovery finished the run that published');
    assert.equal(runs.find((r) => r.partition === '2026-11-01')?.status, 'abandoned', 'the run killed before its publish is abandoned by recovery, nothing published');
    assert.equal(json<unknown[]>(['publications', 'cleaned_orders', '--partition', '2026-11-02']).length, 1);
    const verify = sluice(['audit', 'verify']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const data = sluice(['verify-data']);
    assert.equal(data.code, 0, data.stdout + data.stderr);
  });
});
