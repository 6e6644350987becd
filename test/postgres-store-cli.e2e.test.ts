import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, postgresUnavailable, startPostgres, type TestPostgres } from './support/postgres-server.ts';
import { tempDir } from './helpers.ts';

/**
 * The PostgreSQL store through the real bin, as a user sets it up: `SLUICE_STORE_URL` (or
 * `store:` in sluice.yaml) points at a server; init's sample project validates, runs and verifies
 * its audit trail there, and no SQLite store is written. Settings that lead nowhere exit with the
 * configuration code, naming the setting, never the password.
 */
const BIN = join(import.meta.dirname, '..', 'bin', 'sluice.js');
const PASSWORD = 'Sekr3t-pw';
const unavailable = postgresUnavailable();
let server: TestPostgres | undefined;
after(async () => {
  await server?.stop();
});

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function sluice(home: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Result {
  const merged: NodeJS.ProcessEnv = { ...process.env, SLUICE_HOME: home, SLUICE_ACTOR: 'ada', ...env };
  for (const k of ['SLUICE_STORE_URL', 'SLUICE_WAREHOUSE_URL', 'SLUICE_CRASH_AT']) if (!(k in env)) delete merged[k];
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: merged, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Result, what: string): Result {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

async function count(url: string, sql: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query(sql)).rows[0]?.['n']);
  } finally {
    await c.end();
  }
}

/** Every file under a folder, relative to it. */
function filesUnder(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }) : [];
}

describe('cli: the PostgreSQL metadata store', { skip: unavailable ?? false }, () => {
  test('init, validate, run and audit verify with SLUICE_STORE_URL; no SQLite store is written', async () => {
    server = await startPostgres({ passwordRole: { name: 'locked', password: PASSWORD } });
    using tmp = tempDir('sluice-pg-cli-');
    const home = join(tmp.dir, 'home');
    const root = join(tmp.dir, 'shop');
    const env = { SLUICE_STORE_URL: server.url };
    ok(sluice(home, ['init', root], env), 'init');
    ok(sluice(home, ['--project', root, 'validate'], env), 'validate');
    const run = JSON.parse(ok(sluice(home, ['--project', root, '--json', 'run', 'orders', '--partition', '2026-11-01'], env), 'run').stdout) as { run: { id: number; status: string } };
    assert.equal(run.run.status, 'succeeded');
    const verify = ok(sluice(home, ['--project', root, 'audit', 'verify'], env), 'audit verify');
    assert.match(verify.stdout, /ok|verified/i);
    const runs = ok(sluice(home, ['--project', root, '--json', 'runs'], env), 'runs');
    assert.ok(runs.stdout.includes(`"id": ${run.run.id}`) || runs.stdout.includes(`"id":${run.run.id}`), runs.stdout);

    assert.ok(!existsSync(join(root, '.sluice', 'sluice.db')), 'no SQLite store file');
    assert.deepEqual(filesUnder(join(root, '.sluice')).filter((f) => /sluice\.db/.test(f)), []);
    assert.equal(await count(server.url, `SELECT count(*) AS n FROM sluice.runs WHERE status = 'succeeded'`), 1, 'the run is in the PostgreSQL store');
    assert.ok((await count(server.url, `SELECT count(*) AS n FROM sluice.audit_log WHERE action = 'publish'`)) > 0, 'and its audit entries');

    // Another machine (another SLUICE_HOME) writing the same store: with the key given, and its
    // empty checkpoint accepted once, it runs; both verify the one chain.
    const keyFile = filesUnder(join(home, 'audit')).find((f) => f.endsWith('audit.key'));
    assert.ok(keyFile, 'init created the audit key');
    const other = { ...env, SLUICE_AUDIT_KEY: readFileSync(join(home, 'audit', keyFile), 'utf8').trim() };
    const otherHome = join(tmp.dir, 'other-home');
    const first = sluice(otherHome, ['--project', root, 'run', 'orders', '--partition', '2026-11-02'], other);
    assert.equal(first.code, 9, `a keyed trail is not written on without a checkpoint: ${first.stderr}`);
    assert.match(first.stderr, /checkpoint is missing .*`sluice audit accept --reason/);
    ok(sluice(otherHome, ['--project', root, 'audit', 'accept', '--reason', 'second machine joins'], other), 'audit accept on the other machine');
    ok(sluice(otherHome, ['--project', root, 'run', 'orders', '--partition', '2026-11-02'], other), 'run on the other machine');
    ok(sluice(otherHome, ['--project', root, 'audit', 'verify'], other), 'audit verify on the other machine');
    ok(sluice(home, ['--project', root, 'audit', 'verify'], env), 'audit verify on the first machine');

    // The same store named in sluice.yaml instead of the environment: what was written there reads back.
    const yaml = join(root, 'sluice.yaml');
    const original = readFileSync(yaml, 'utf8');
    assert.match(original, /store:\n {2}kind: sqlite\n {2}path: \.sluice\/sluice\.db\n/);
    writeFileSync(yaml, original.replace(/store:\n {2}kind: sqlite\n {2}path: \.sluice\/sluice\.db\n/, `store:\n  kind: postgres\n  url: ${server.url}\n`));
    ok(sluice(home, ['--project', root, 'audit', 'verify']), 'audit verify with store.url');
    assert.match(ok(sluice(home, ['--project', root, 'runs']), 'runs with store.url').stdout, /orders/);

    // Settings that lead nowhere: exit 3 (configuration), the setting named, the password never shown.
    const port = await freePort();
    const refusals: [NodeJS.ProcessEnv, RegExp][] = [
      [{ SLUICE_STORE_URL: `postgres://locked:${PASSWORD}@127.0.0.1:${port}/postgres` }, /\(SLUICE_STORE_URL\): connection refused by 127\.0\.0\.1:\d+/],
      [{ SLUICE_STORE_URL: server.url.replace('sluice@', `locked:wrong-${PASSWORD}@`) }, /\(SLUICE_STORE_URL\): password authentication failed for user "locked"/],
      [{ SLUICE_STORE_URL: `postgres://locked:${PASSWORD}@127.0.0.1:notaport/postgres` }, /SLUICE_STORE_URL is not a usable PostgreSQL URL/],
    ];
    for (const [bad, pattern] of refusals) {
      for (const args of [['run', 'orders', '--partition', '2026-11-02'], ['runs']]) {
        const r = sluice(home, ['--project', root, ...args], bad);
        assert.equal(r.code, 3, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, pattern);
        assert.ok(!`${r.stdout}${r.stderr}`.includes(PASSWORD), `no password in: ${r.stderr}`);
      }
    }
    writeFileSync(yaml, original.replace(/store:\n {2}kind: sqlite\n {2}path: \.sluice\/sluice\.db\n/, `store:\n  kind: postgres\n  url: postgres://locked:${PASSWORD}@127.0.0.1:${port}/postgres\n`));
    const r = sluice(home, ['--project', root, 'run', 'orders', '--partition', '2026-11-02']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /\(store\.url\): connection refused/);
    assert.ok(!r.stderr.includes(PASSWORD));
    assert.equal(await count(server.url, `SELECT count(*) AS n FROM sluice.runs`), 2, 'the refused commands wrote nothing');
    assert.ok(!existsSync(join(root, '.sluice', 'sluice.db')));
  });
});
