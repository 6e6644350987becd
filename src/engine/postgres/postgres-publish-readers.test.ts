import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../../../test/support/postgres-server.ts';
import { PostgresWarehouse } from './postgres-warehouse.ts';

/**
 * Readers in other connections and publishes (docs/decisions/0009): a reader in the middle of a
 * long query over a dataset holds its view; a publish must not make readers that arrive after it
 * wait for that long reader (PostgreSQL's lock queue would), only for a few milliseconds.
 */
const unavailable = postgresUnavailable();
let server: TestPostgres | undefined;
after(async () => {
  await server?.stop();
});

const at = new Date('2026-11-20T10:00:00Z');
const LONG_READ_S = 1.5;

interface Measured {
  readonly publishMs: number;
  /** The slowest of the new readers' queries that ran while the publish was under way. */
  readonly newReaderMaxMs: number;
  readonly newReaderQueries: number;
}

async function measure(url: string, lockTimeoutMs: number): Promise<Measured> {
  const w = await PostgresWarehouse.open(url, { publishLockTimeoutMs: lockTimeoutMs });
  const long = new pg.Client({ connectionString: url });
  const reader = new pg.Client({ connectionString: url });
  await long.connect();
  await reader.connect();
  try {
    const table = await w.datasetTable('cleaned');
    const first = await w.publish([{ dataset: 'cleaned', partitionColumn: 'part', partition: 'a', versionId: 'r1' }], { runId: 1, actor: 't', reason: 'first', at });
    assert.equal(first.length, 1);
    // The long reader: one statement that holds the view for LONG_READ_S.
    const longRead = long.query(`SELECT count(*) AS n FROM ${table}, pg_sleep(${LONG_READ_S})`);
    await new Promise((r) => setTimeout(r, 150));
    const started = Date.now();
    let done = false;
    const publishing = w.publish([{ dataset: 'cleaned', partitionColumn: 'part', partition: 'a', versionId: 'r2' }], { runId: 2, actor: 't', reason: 'second', at }).then(() => {
      done = true;
      return Date.now() - started;
    });
    await new Promise((r) => setTimeout(r, 50));
    let newReaderMaxMs = 0;
    let newReaderQueries = 0;
    while (!done) {
      const t0 = performance.now();
      await reader.query(`SELECT count(*) AS n FROM ${table}`);
      newReaderMaxMs = Math.max(newReaderMaxMs, performance.now() - t0);
      newReaderQueries++;
      await new Promise((r) => setTimeout(r, 5));
    }
    const publishMs = await publishing;
    await longRead;
    const [after] = (await reader.query(`SELECT count(*) AS n FROM ${table}`)).rows;
    assert.equal(Number(after?.['n']), 3, 'the new reader sees the new version after the publish');
    // Back to r1 for the next measurement.
    await w.publish([{ dataset: 'cleaned', partitionColumn: 'part', partition: 'a', versionId: 'r1' }], { runId: 3, actor: 't', reason: 'back', at });
    return { publishMs, newReaderMaxMs, newReaderQueries };
  } finally {
    await long.end();
    await reader.end();
    await w.close();
  }
}

describe('postgres warehouse: publishes and readers in other connections', { skip: unavailable ?? false }, () => {
  test('a publish behind a long reader holds new readers up for no more than its lock timeout, then lands', async (t) => {
    server = await startPostgres();
    const w = await PostgresWarehouse.open(server.url);
    {
      await using s = await w.openSession();
      await s.createOutputVersion({ id: 'r1', pipeline: 'p', step: 's', stepVersion: 'v1', versionHash: 'h', partition: 'a', runId: 1 }, `SELECT i AS id, 'a' AS part FROM generate_series(1, 2) AS g(i)`, at);
      await s.createOutputVersion({ id: 'r2', pipeline: 'p', step: 's', stepVersion: 'v2', versionHash: 'h', partition: 'a', runId: 2 }, `SELECT i AS id, 'a' AS part FROM generate_series(1, 3) AS g(i)`, at);
    }
    await w.close();

    // What the design avoids: a replacement that waits for its lock as long as it takes queues every new reader behind the long one.
    const naive = await measure(server.url, 60_000);
    t.diagnostic(`unbounded lock wait: publish ${naive.publishMs} ms, new readers blocked up to ${naive.newReaderMaxMs.toFixed(1)} ms (${naive.newReaderQueries} queries)`);
    assert.ok(naive.newReaderMaxMs > 800, `without a lock timeout new readers queue behind the long reader (${naive.newReaderMaxMs} ms)`);

    const bounded = await measure(server.url, 10);
    t.diagnostic(`lock_timeout 10 ms + retry: publish ${bounded.publishMs} ms, new readers blocked up to ${bounded.newReaderMaxMs.toFixed(1)} ms (${bounded.newReaderQueries} queries)`);
    assert.ok(bounded.publishMs >= LONG_READ_S * 1000 - 300, 'the publish waits for the long reader');
    assert.ok(bounded.newReaderQueries >= 10, 'new readers kept reading while the publish waited');
    assert.ok(bounded.newReaderMaxMs < 120, `new readers are held up for at most about the lock timeout (${bounded.newReaderMaxMs} ms)`);
  });

  test('a publish of two datasets, one held by a long reader, does not hold the other one\'s readers while it waits', async () => {
    server ??= await startPostgres();
    const w = await PostgresWarehouse.open(server.url);
    const long = new pg.Client({ connectionString: server.url });
    const reader = new pg.Client({ connectionString: server.url });
    await long.connect();
    await reader.connect();
    try {
      {
        await using s = await w.openSession();
        await s.createOutputVersion({ id: 'o1', pipeline: 'p', step: 'o', stepVersion: 'v1', versionHash: 'h', partition: 'a', runId: 1 }, `SELECT 1 AS id, 'a' AS part`, at);
        await s.createOutputVersion({ id: 'o2', pipeline: 'p', step: 'o', stepVersion: 'v2', versionHash: 'h', partition: 'a', runId: 2 }, `SELECT 2 AS id, 'a' AS part`, at);
      }
      await w.publish([{ dataset: 'alpha', partitionColumn: 'part', partition: 'a', versionId: 'o1' }, { dataset: 'cleaned', partitionColumn: 'part', partition: 'a', versionId: 'r1' }], { runId: 1, actor: 't', reason: 'r', at });
      const held = long.query(`SELECT count(*) FROM ${await w.datasetTable('cleaned')}, pg_sleep(1)`);
      await new Promise((r) => setTimeout(r, 100));
      let done = false;
      const publishing = w.publish([{ dataset: 'alpha', partitionColumn: 'part', partition: 'a', versionId: 'o2' }, { dataset: 'cleaned', partitionColumn: 'part', partition: 'a', versionId: 'r2' }], { runId: 2, actor: 't', reason: 'r', at }).then(() => (done = true));
      let worst = 0;
      while (!done) {
        const t0 = performance.now();
        await reader.query(`SELECT count(*) FROM ${await w.datasetTable('alpha')}`);
        worst = Math.max(worst, performance.now() - t0);
        await new Promise((r) => setTimeout(r, 5));
      }
      await publishing;
      await held;
      assert.ok(worst < 120, `readers of alpha (its view replaced first, before cleaned's waits) waited ${worst} ms`);
      assert.deepEqual((await w.currentPublications()).map((p) => p.versionId), ['o2', 'r2']);
      await w.publish([{ dataset: 'cleaned', partitionColumn: 'part', partition: 'a', versionId: 'r1' }], { runId: 3, actor: 't', reason: 'back', at });
    } finally {
      await long.end();
      await reader.end();
      await w.close();
    }
  });

  test('a publish that readers never let through gives up with CONFLICT and publishes nothing', async () => {
    server ??= await startPostgres();
    const w = await PostgresWarehouse.open(server.url, { publishLockTimeoutMs: 10, publishWaitMs: 300 });
    const holder = new pg.Client({ connectionString: server.url });
    await holder.connect();
    try {
      const table = await w.datasetTable('cleaned');
      // An open transaction that read the dataset holds its view until it ends (a BI session).
      await holder.query('BEGIN');
      await holder.query(`SELECT count(*) FROM ${table}`);
      await assert.rejects(w.publish([{ dataset: 'cleaned', partitionColumn: 'part', partition: 'a', versionId: 'r2' }], { runId: 9, actor: 't', reason: 'r', at }), (e: unknown) => e instanceof Error && 'code' in e && e.code === 'CONFLICT' && /readers kept/.test(e.message));
      await holder.query('COMMIT');
      assert.equal((await w.currentPublications('cleaned'))[0]?.versionId, 'r1', 'nothing of the refused publish is recorded');
    } finally {
      await holder.end();
      await w.close();
    }
  });
});
