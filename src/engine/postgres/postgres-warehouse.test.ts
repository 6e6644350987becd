import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../../../test/support/postgres-server.ts';
import { SluiceError } from '../../util/errors.ts';
import { runWarehouseContract, type WarehouseContractCase } from '../warehouse.contract.ts';
import { PostgresWarehouse } from './postgres-warehouse.ts';

/**
 * The warehouse contract on PostgreSQL: one throwaway server (127.0.0.1, a free port) for this
 * file, a fresh database for every case.
 */
const unavailable = postgresUnavailable();
let server: Promise<TestPostgres> | undefined;
let databases = 0;

async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  server ??= startPostgres();
  const { url } = await server;
  const name = `wh_${process.pid}_${++databases}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

after(async () => {
  if (server) await (await server).stop();
});

const NOT_YET: Partial<Record<WarehouseContractCase, string>> = {
  compaction: 'the PostgreSQL warehouse has no compaction yet (a dataset is a view over version tables; compact() refuses with CONFIG_INVALID)',
  retention: 'the PostgreSQL warehouse has no retention/gc yet (collectGarbage() refuses with CONFIG_INVALID)',
  export: 'the PostgreSQL warehouse does not export Parquet yet (exportDataset() refuses with CONFIG_INVALID)',
  'partition-shapes': 'the case ends in compaction and a Parquet export, which the PostgreSQL warehouse does not do yet; the shapes themselves are tested below',
};
const ALL: readonly WarehouseContractCase[] = ['sessions', 'versions', 'publish', 'compare-and-set', 'columns', 'durability', 'crash', 'verify-data', 'compaction', 'retention', 'export', 'partition-shapes'];

runWarehouseContract({
  name: 'postgres',
  skip: unavailable ? Object.fromEntries(ALL.map((c) => [c, unavailable])) : NOT_YET,
  open: async () => {
    const db = await freshDatabase();
    const root = mkdtempSync(join(tmpdir(), 'sluice-pgwh-'));
    let current = await PostgresWarehouse.open(db.url);
    return {
      get warehouse() {
        return current;
      },
      dir: join(root, 'files'),
      async reopen() {
        await current.close();
        current = await PostgresWarehouse.open(db.url);
        return current;
      },
      async cleanup() {
        await current.close();
        await db.drop();
        rmSync(root, { recursive: true, force: true });
      },
      // The crash case's child opens the warehouse through the composition root, as a command would.
      republishLoop: (a, b) => ({ command: process.execPath, args: ['--import', 'tsx', join(import.meta.dirname, '../../../test/fixtures/warehouse-republish-loop.ts'), root, JSON.stringify({ kind: 'postgres', url: db.url }), a, b] }),
    };
  },
});

const at = new Date('2026-11-20T10:00:00Z');
const version = (id: string, partition: string, runId = 1) => ({ id, pipeline: 'p', step: 's', stepVersion: 'v1', versionHash: 'h', partition, runId });

describe('postgres warehouse', { skip: unavailable ?? false }, () => {
  test('partition shapes: an unpartitioned dataset, a monthly dataset over a DATE column and quoted categorical values publish and republish one partition at a time', async () => {
    const db = await freshDatabase();
    const root = mkdtempSync(join(tmpdir(), 'sluice-pgwh-'));
    const w = await PostgresWarehouse.open(db.url);
    try {
      writeFileSync(join(root, 'raw.csv'), 'id,part,amount\n1,a,10\n2,a,20\n3,b,30\n4,b,40\n5,b,50\n');
      const raw = { kind: 'files', name: 'raw', format: 'csv', path: join(root, 'raw.csv'), partitionColumn: 'part', hive: false, columns: { id: 'BIGINT', part: 'VARCHAR', amount: 'DOUBLE' } } as const;
      {
        await using s = await w.openSession();
        await s.bindPartition({ value: '2026-02', startsAt: '2026-02-01 00:00:00', endsAt: '2026-03-01 00:00:00', startsAtUtc: '2026-02-01T00:00:00Z', endsAtUtc: '2026-03-01T00:00:00Z' });
        const [p] = await s.query('SELECT value, CAST(starts_at AS VARCHAR) AS s, CAST(ends_at AS VARCHAR) AS e, starts_at_utc AS u FROM sluice_partition');
        assert.deepEqual(p, { value: '2026-02', s: '2026-02-01 00:00:00', e: '2026-03-01 00:00:00', u: '2026-02-01T00:00:00.000Z' });
        const valuePartition = (value: string) => ({ value, startsAt: null, endsAt: null, startsAtUtc: null, endsAtUtc: null });
        assert.deepEqual(await s.bindSource(raw, valuePartition('b'), root), { rows: 3 });
        assert.deepEqual(await s.bindSource(raw, valuePartition('*'), root), { rows: 5 });
        await assert.rejects(s.bindSource(raw, valuePartition('c'), root), (e: unknown) => e instanceof SluiceError && e.code === 'NOT_FOUND' && /no rows for partition c/.test(e.message));
        assert.deepEqual(await s.bindSource(raw, valuePartition('c'), root, { allowEmpty: true }), { rows: 0 });
        await s.createOutputVersion(version('whole.r1', '*'), `SELECT 1 AS id, 10.0 AS amount UNION ALL SELECT 2, 20.0`, at);
        await s.createOutputVersion(version('whole.r2', '*', 2), `SELECT 1 AS id, 11.0 AS amount`, at);
        await s.createOutputVersion(version('m.r1', '2026-01'), `SELECT DATE '2026-01-03' AS d, 1 AS n UNION ALL SELECT DATE '2026-01-31', 2`, at);
        await s.createOutputVersion(version('m.r2', '2026-02', 2), `SELECT DATE '2026-02-01' AS d, 3 AS n`, at);
        await s.createOutputVersion(version('m.r3', '2026-01', 3), `SELECT DATE '2026-01-15' AS d, 4 AS n`, at);
        await s.createOutputVersion(version('q.r1', "o'hare"), `SELECT 'o''hare' AS region, 1 AS n`, at);
        await s.createOutputVersion(version('q.r2', 'eu/west', 2), `SELECT 'eu/west' AS region, 2 AS n`, at);
        await s.createOutputVersion(version('q.r3', "o'hare", 3), `SELECT 'o''hare' AS region, 3 AS n`, at);
      }
      const pub = (dataset: string, partitionColumn: string | null, partition: string, versionId: string, runId: number) => w.publish([{ dataset, partitionColumn, partition, versionId }], { runId, actor: 't', reason: 'r', at });
      const sum = async (dataset: string, column: string): Promise<number> => Number((await w.query(`SELECT sum("${column}") AS s FROM ${await w.datasetTable(dataset)}`))[0]?.['s']);
      await pub('whole', null, '*', 'whole.r1', 1);
      await pub('monthly', 'd', '2026-01', 'm.r1', 1);
      await pub('monthly', 'd', '2026-02', 'm.r2', 2);
      await pub('regions', 'region', "o'hare", 'q.r1', 1);
      await pub('regions', 'region', 'eu/west', 'q.r2', 2);
      assert.deepEqual([await sum('whole', 'amount'), await sum('monthly', 'n'), await sum('regions', 'n')], [30, 6, 3]);
      await pub('whole', null, '*', 'whole.r2', 2);
      await pub('monthly', 'd', '2026-01', 'm.r3', 3);
      await pub('regions', 'region', "o'hare", 'q.r3', 3);
      assert.deepEqual([await sum('whole', 'amount'), await sum('monthly', 'n'), await sum('regions', 'n')], [11, 7, 5]);
      const verdicts = await w.verifyData();
      assert.equal(verdicts.length, 5);
      assert.ok(verdicts.every((v) => v.ok), JSON.stringify(verdicts));
      const [d] = await w.query(`SELECT min(d) AS d FROM ${await w.datasetTable('monthly')}`);
      assert.equal(d?.['d'], '2026-01-15', 'dates come back as ISO dates');
    } finally {
      await w.close();
      await db.drop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a dataset published here is a table: source of a session; hive folders give their key as a column', async () => {
    const db = await freshDatabase();
    const root = mkdtempSync(join(tmpdir(), 'sluice-pgwh-'));
    const w = await PostgresWarehouse.open(db.url);
    try {
      for (const day of ['2026-10-01', '2026-10-02']) {
        const dir = join(root, 'orders', `order_date=${day}`);
        (await import('node:fs')).mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'part-0.csv'), `order_id,amount\n1,1.5\n2,2.5\n${day === '2026-10-02' ? '3,3.5\n' : ''}`);
      }
      const day = { value: '2026-10-02', startsAt: '2026-10-02 00:00:00', endsAt: '2026-10-03 00:00:00', startsAtUtc: '2026-10-02T00:00:00Z', endsAtUtc: '2026-10-03T00:00:00Z' };
      await using s = await w.openSession();
      const orders = { kind: 'files', name: 'orders', format: 'csv', path: 'orders/*/*.csv', partitionColumn: 'order_date', hive: true, columns: { order_id: 'BIGINT', amount: 'DOUBLE' } } as const;
      assert.deepEqual(await s.bindSource(orders, day, root), { rows: 3 });
      const [r] = await s.query('SELECT min(order_date) AS d, sum(amount) AS a FROM orders');
      assert.deepEqual(r, { d: '2026-10-02', a: 7.5 });
      const v = await s.createOutputVersion(version('o.r1', '2026-10-02'), 'SELECT order_id, order_date, amount FROM orders', at);
      await w.publish([{ dataset: 'orders_clean', partitionColumn: 'order_date', partition: '2026-10-02', versionId: v.id }], { runId: 1, actor: 't', reason: 'r', at });
      assert.deepEqual(await s.bindSource({ kind: 'table', name: 'upstream', table: 'main.orders_clean', partitionColumn: 'order_date' }, day, root), { rows: 3 });
      await assert.rejects(s.bindSource({ ...orders, name: 'pq', format: 'parquet' }, day, root), (e: unknown) => e instanceof SluiceError && e.code === 'CONFIG_INVALID' && /CSV files only/.test(e.message));
      await assert.rejects(w.compact(), (e: unknown) => e instanceof SluiceError && e.code === 'CONFIG_INVALID' && /does not do compaction/.test(e.message));
    } finally {
      await w.close();
      await db.drop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a bad URL or an unreachable server names the setting, not the password, within the connect timeout', async () => {
    await assert.rejects(PostgresWarehouse.open('mysql://u:sekrit@h/db', { setting: 'SLUICE_WAREHOUSE_URL' }), (e: unknown) => e instanceof SluiceError && e.code === 'CONFIG_INVALID' && /SLUICE_WAREHOUSE_URL/.test(e.message) && !e.message.includes('sekrit'));
    const started = Date.now();
    // Port 1 on 127.0.0.1: nothing listens there.
    await assert.rejects(PostgresWarehouse.open('postgres://u:sekrit@127.0.0.1:1/db?connect_timeout=2'), (e: unknown) => e instanceof SluiceError && e.code === 'CONFIG_INVALID' && /warehouse\.url/.test(e.message) && /refused/.test(e.message) && !e.message.includes('sekrit'));
    assert.ok(Date.now() - started < 5000);
  });
});
