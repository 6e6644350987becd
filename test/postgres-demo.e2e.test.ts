import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runBin, tempDir } from './helpers.ts';
import { postgresUnavailable, startPostgres, type TestPostgres } from './support/postgres-server.ts';

/**
 * `sluice demo --store URL --warehouse URL` tells the demo's story on a PostgreSQL server (a
 * throwaway cluster on 127.0.0.1): v2 promoted, v3 caught before publish, the audit trail
 * verified, and no SQLite store or DuckDB file written. One database holds one environment.
 */
const unavailable = postgresUnavailable();
let server: TestPostgres | undefined;
after(async () => {
  await server?.stop();
});

describe('the demo on PostgreSQL', { skip: unavailable ?? false, timeout: 600_000 }, () => {
  test('the same story on a PostgreSQL store and warehouse, nothing embedded written', async () => {
    server = await startPostgres();
    using t = tempDir();
    const dir = join(t.dir, 'shop');
    const home = { SLUICE_HOME: join(t.dir, 'home') };
    const r = runBin(['demo', '--dir', dir, '--days', '14', '--orders-per-day', '600', '--store', server.url, '--warehouse', server.url], { env: home, timeoutMs: 500_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /full -> promoted/);
    assert.match(r.stdout, /canary-10 -> rolled_back/);
    assert.match(r.stdout, /ever pointed at a candidate or blended output of v3 \(0 found\)/);
    assert.match(r.stdout, /keyed chain verified against its checkpoint/);
    assert.match(r.stdout, /psql: postgres .*datasets as views in schema public/);
    assert.equal(existsSync(join(dir, '.sluice')), false, 'no SQLite store and no DuckDB file');

    const env = { ...home, SLUICE_STORE_URL: server.url, SLUICE_WAREHOUSE_URL: server.url };
    const other = runBin(['--env', 'prod', 'run', 'orders', '--partition', '2026-11-01'], { root: dir, env });
    assert.equal(other.code, 7, other.stdout + other.stderr);
    assert.match(other.stderr, /holds environment dev, not prod: give each environment a database of its own with \{env\} in the URL/);
    const verify = runBin(['audit', 'verify'], { root: dir, env });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
