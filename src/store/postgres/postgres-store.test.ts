import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import pg from 'pg';
import { freePort, postgresUnavailable, startPostgres, type TestPostgres } from '../../../test/support/postgres-server.ts';
import { SluiceError } from '../../util/errors.ts';
import { runStoreContract, type StoreContractCase } from '../store.contract.ts';
import { parsePostgresLocation } from './postgres-location.ts';
import { MIGRATIONS, type Migration } from './postgres-migrations.ts';
import { PostgresStore } from './postgres-store.ts';

/**
 * The PostgreSQL store against a throwaway server on 127.0.0.1 (one per file, started on first
 * use, stopped at the end): the store contract unchanged, each case in a schema of its own; then
 * migrations, and errors for settings that lead nowhere.
 */
const unavailable = postgresUnavailable();
const skipAll = unavailable ? { skip: unavailable } : {};
let server: Promise<TestPostgres> | undefined;
const serverUrl = async (): Promise<string> => (await (server ??= startPostgres({ passwordRole: { name: 'locked', password: 'Sekr3t-pw' } }))).url;
after(async () => {
  await (await server)?.stop();
});

/** The server's URL with other parts set (a schema of the test's own, another user, …). */
async function urlWith(params: Record<string, string>, o: { user?: string; password?: string; database?: string } = {}): Promise<string> {
  const u = new URL(await serverUrl());
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  if (o.user !== undefined) u.username = o.user;
  if (o.password !== undefined) u.password = o.password;
  if (o.database !== undefined) u.pathname = `/${o.database}`;
  return u.toString();
}

/** A plain connection to the server, outside any store: what anyone with access to the database could do. */
async function withClient<T>(fn: (c: pg.Client) => Promise<T>, schema?: string): Promise<T> {
  const c = new pg.Client({ connectionString: await serverUrl(), ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

let schemas = 0;
const freshSchema = (prefix: string): string => `${prefix}_${process.pid}_${++schemas}`;

const CASES: readonly StoreContractCase[] = ['runs', 'intents', 'unit-of-work', 'flags', 'quality', 'rollouts', 'audit-chain', 'audit-tamper', 'corrupt-records', 'durability'];

runStoreContract({
  name: 'postgres',
  ...(unavailable ? { skip: Object.fromEntries(CASES.map((c) => [c, unavailable])) } : {}),
  open: async () => {
    const schema = freshSchema('contract');
    const url = await urlWith({ schema });
    let current = await PostgresStore.open(url);
    return {
      get store() {
        return current;
      },
      async reopen() {
        await current.close();
        current = await PostgresStore.open(url);
        return current;
      },
      // Another writer, on its own connection, as anyone with write access to the schema.
      tamper: (sql: string) => withClient(async (c) => void (await c.query(sql)), schema),
      async cleanup() {
        await current.close();
        await withClient((c) => c.query(`DROP SCHEMA ${schema} CASCADE`));
      },
    };
  },
});

/** What a schema holds, to show that a refused open changed nothing. */
async function schemaState(schema: string): Promise<{ versions: unknown[]; columns: unknown[]; runs: unknown[] }> {
  return withClient(async (c) => ({
    versions: (await c.query(`SELECT version, description FROM ${schema}.sluice_schema ORDER BY version`)).rows,
    columns: (await c.query(`SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`, [schema])).rows,
    runs: (await c.query(`SELECT * FROM ${schema}.runs ORDER BY id`)).rows,
  }));
}

const lease = { owner: 'test-host:1', until: new Date('2026-11-20T10:01:00Z') };
const snapshot = { format: 'sluice-flag-snapshot' as const, version: 1 as const, environment: 'dev', createdAt: '2026-11-20T10:00:00.000Z', flags: [] };
const newRun = { pipeline: 'orders', partition: '2026-11-01', environment: 'dev', actor: 'a', artifacts: {}, flags: { snapshot, exposures: {} }, engine: 'duckdb 1.5.6' };

describe('postgres store: migrations', skipAll, () => {
  test('a fresh database gets the schema created in a PostgreSQL schema of its own, numbered', async () => {
    const schema = freshSchema('fresh');
    const store = await PostgresStore.open(await urlWith({ schema }));
    try {
      assert.match(store.description, new RegExp(`^postgres sluice@127\\.0\\.0\\.1:\\d+/postgres \\(schema ${schema}\\)$`));
      const state = await schemaState(schema);
      assert.deepEqual(state.versions.map((r) => (r as { version: number }).version), MIGRATIONS.map((m) => m.version));
      const tables = await withClient(async (c) => (await c.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema])).rows.map((r) => String(r['table_name'])));
      for (const t of ['audit_log', 'flag_revisions', 'intents', 'meta', 'rollout_attempts', 'runs', 'sluice_schema']) assert.ok(tables.includes(t), `${t} in ${tables.join(', ')}`);
      const inPublic = await withClient(async (c) => (await c.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`)).rows[0]?.['n']);
      assert.equal(inPublic, 0, 'nothing is created outside the store schema');
    } finally {
      await store.close();
    }
  });

  test('the default schema is "sluice"; two processes opening a fresh database at once migrate it once', async () => {
    // Two pools are two sessions at the server, as two processes would be.
    const url = await urlWith({}, { database: 'postgres' });
    const [a, b] = await Promise.all([PostgresStore.open(url), PostgresStore.open(url)]);
    try {
      assert.match(a.description, /\(schema sluice\)$/);
      assert.equal((await schemaState('sluice')).versions.length, MIGRATIONS.length);
      const run = await a.runs.start(newRun, new Date('2026-11-20T10:00:00Z'), lease);
      assert.equal((await b.runs.get(run.id))?.pipeline, 'orders', 'both see the one schema');
    } finally {
      await a.close();
      await b.close();
      await withClient((c) => c.query('DROP SCHEMA sluice CASCADE'));
    }
  });

  test('an older schema is upgraded, keeping its records; a migration that fails leaves it as it was', async () => {
    const schema = freshSchema('older');
    const url = await urlWith({ schema });
    const older = await PostgresStore.open(url);
    const run = await older.runs.start(newRun, new Date('2026-11-20T10:00:00Z'), lease);
    await older.close();
    // The next release adds a column (with a default for the rows there are) and a table.
    const next: Migration[] = [...MIGRATIONS, { version: MIGRATIONS.length + 1, description: 'run notes', sql: `ALTER TABLE runs ADD COLUMN note text NOT NULL DEFAULT 'none'; CREATE TABLE run_tags (run_id bigint NOT NULL, tag text NOT NULL)` }];
    // A broken release after it: its first statement works, its second fails; nothing of it may stay.
    const broken: Migration[] = [...next, { version: next.length + 1, description: 'a broken one', sql: `CREATE TABLE half_done (x int); SELECT 1 / 0` }];
    const before = await schemaState(schema);
    await assert.rejects(PostgresStore.open(url, { migrations: broken }), (e: unknown) => {
      assert.ok(e instanceof SluiceError && e.code === 'CONFIG_INVALID', String(e));
      assert.match(e.message, new RegExp(`from schema version ${MIGRATIONS.length} to ${broken.length}: migration ${broken.length} \\(a broken one\\) failed: division by zero; nothing was changed`));
      assert.equal(e.place.field, 'store.url');
      return true;
    });
    assert.deepEqual(await schemaState(schema), before, 'the upgrade is one transaction: migration 2 (which worked) rolled back with 3');
    const upgraded = await PostgresStore.open(url, { migrations: next });
    try {
      const after = await schemaState(schema);
      assert.deepEqual(after.versions.map((r) => (r as { version: number }).version), next.map((m) => m.version));
      assert.equal((after.runs[0] as { note: string }).note, 'none');
      assert.equal((await upgraded.runs.get(run.id))?.pipeline, 'orders', 'records written before the upgrade read back');
    } finally {
      await upgraded.close();
      await withClient((c) => c.query(`DROP SCHEMA ${schema} CASCADE`));
    }
  });

  test('a schema newer than the code is refused, naming the setting and both versions, and nothing changes', async () => {
    const schema = freshSchema('newer');
    const url = await urlWith({ schema });
    await (await PostgresStore.open(url)).close();
    const newer = MIGRATIONS.length + 1;
    await withClient((c) => c.query(`INSERT INTO ${schema}.sluice_schema (version, description) VALUES ($1, 'from a later Sluice')`, [newer]));
    const before = await schemaState(schema);
    for (const setting of ['store.url', 'SLUICE_STORE_URL']) {
      await assert.rejects(PostgresStore.open(url, { setting }), (e: unknown) => {
        assert.ok(e instanceof SluiceError && e.code === 'CONFIG_INVALID', String(e));
        assert.equal(e.place.field, setting);
        assert.ok(e.message.includes(`(${setting}) has schema version ${newer}, newer than this Sluice knows (${MIGRATIONS.length})`), e.message);
        assert.match(e.message, /upgrade Sluice/);
        return true;
      });
    }
    // Even a code that would have a migration to add is refused before it writes one.
    await assert.rejects(PostgresStore.open(url, { migrations: MIGRATIONS.slice(0, 0) }), /newer than this Sluice knows \(0\)/);
    assert.deepEqual(await schemaState(schema), before);
    await withClient((c) => c.query(`DROP SCHEMA ${schema} CASCADE`));
  });
});

describe('postgres store: unit of work', skipAll, () => {
  test('a statement that failed inside a transaction, even when caught, fails the commit aloud and runs no after-commit hook', async () => {
    const schema = freshSchema('aborted');
    const store = await PostgresStore.open(await urlWith({ schema }));
    try {
      const entry = { seq: 1, at: '2026-11-20T10:00:00.000Z', actor: 'a', action: 'test', target: 't', reason: '', details: {}, prevHash: '0'.repeat(64), alg: 'sha256' as const, hash: 'h' };
      await store.audit.append(entry);
      let hooked = false;
      await assert.rejects(
        store.transaction(async (tx) => {
          await assert.rejects(tx.audit.append(entry), (e: unknown) => e instanceof SluiceError && e.code === 'CONFLICT');
          await store.afterCommit(() => void (hooked = true));
        }),
        (e: unknown) => e instanceof SluiceError && e.code === 'CONFLICT' && /none of it was committed/.test(e.message),
      );
      assert.equal(hooked, false);
      assert.equal((await store.audit.list()).length, 1);
    } finally {
      await store.close();
      await withClient((c) => c.query(`DROP SCHEMA ${schema} CASCADE`));
    }
  });
});

describe('postgres store: settings that lead nowhere are named, without the password', () => {
  const password = 'Sekr3t-pw';
  const refused = (setting: string, pattern: RegExp) => (e: unknown) => {
    assert.ok(e instanceof SluiceError, String(e));
    assert.equal(e.code, 'CONFIG_INVALID', e.message);
    assert.equal(e.place.field, setting);
    assert.ok(e.message.includes(setting), `names ${setting}: ${e.message}`);
    assert.ok(!e.message.includes(password), `the password is not shown: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  };

  test('a URL that cannot be used is refused before connecting', async () => {
    const bad: [string, RegExp][] = [
      [`postgres://u:${password}@host:notaport/db`, /cannot be parsed/],
      [`mysql://u:${password}@host/db`, /starts with mysql:\/\/ instead of postgres:\/\//],
      [`postgres://u:${password}@host/db?schema=Bad-Name`, /schema "Bad-Name" must be a lower-case identifier/],
      [`postgres://u:${password}@host/db?connect_timeout=0`, /connect_timeout "0" must be a whole number of seconds/],
      [`postgres://u:${password}@host/a/b`, /"a\/b" is not a database name/],
    ];
    for (const [url, pattern] of bad) {
      await assert.rejects(PostgresStore.open(url, { setting: 'SLUICE_STORE_URL' }), refused('SLUICE_STORE_URL', pattern));
      assert.throws(() => parsePostgresLocation(url, 'store.url'), refused('store.url', pattern));
    }
  });

  test('an unreachable server: connection refused, quickly', async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(PostgresStore.open(`postgres://sluice:${password}@127.0.0.1:${port}/postgres`), refused('store.url', new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}: is the server running`)));
    assert.ok(Date.now() - started < 5_000);
  });

  test('a server that never answers: the connect timeout bounds the wait', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const started = Date.now();
      await assert.rejects(PostgresStore.open(`postgres://sluice:${password}@127.0.0.1:${port}/postgres?connect_timeout=1`, { setting: 'SLUICE_STORE_URL' }), refused('SLUICE_STORE_URL', /did not answer within 1 s \(connect_timeout in SLUICE_STORE_URL\)/));
      const took = Date.now() - started;
      assert.ok(took >= 900 && took < 5_000, `waited ${took} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  test('wrong credentials, an unknown role or database, a role that may not create the schema: named, and nothing is created', skipAll, async () => {
    const schema = freshSchema('refused');
    await assert.rejects(PostgresStore.open(await urlWith({ schema }, { user: 'locked', password: 'wrong-pw' })), refused('store.url', /password authentication failed for user "locked": check the user and password in store\.url/));
    // The right password of that role opens nothing it may not: the role may not create a schema in the database.
    await assert.rejects(PostgresStore.open(await urlWith({ schema }, { user: 'locked', password })), refused('store.url', /user "locked" lacks a privilege the store needs \(permission denied for database postgres\)/));
    await assert.rejects(PostgresStore.open(await urlWith({ schema }, { user: 'nobody' }), { setting: 'SLUICE_STORE_URL' }), refused('SLUICE_STORE_URL', /the server refused user "nobody": role "nobody" does not exist/));
    await assert.rejects(PostgresStore.open(await urlWith({ schema }, { database: 'nowhere' })), refused('store.url', /the database "nowhere" does not exist on 127\.0\.0\.1:\d+: create it, or name another one in store\.url/));
    const created = await withClient(async (c) => (await c.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1`, [schema])).rows[0]?.['n']);
    assert.equal(created, 0, 'no schema was created by any of them');
  });
});
