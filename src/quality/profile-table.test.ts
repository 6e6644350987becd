import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBEngine } from '../engine/duckdb/duckdb-engine.ts';
import { profileMetrics, profileTable } from './profile-table.ts';

test('profileTable: row count, null rate, distinct count, extremes, moments, quantiles and top values in two statements (plus a count that picks the exact path)', async () => {
  await using db = await DuckDBEngine.open(':memory:');
  await db.exec(`CREATE TABLE t AS SELECT range AS id, (range % 3)::INT AS g, CASE WHEN range % 4 = 0 THEN NULL ELSE 'k' || (range % 2) END AS s,
    range % 2 = 0 AS flag, DATE '2026-01-01' + (range::INT) AS d FROM range(101)`);
  const p = await profileTable(db, 't', { topValuesMaxDistinct: 5 });
  assert.equal(p.rowCount, 101);
  assert.equal(p.queries.length, 3);
  assert.equal(p.method, 'exact');
  assert.equal((await profileTable(db, 't', { rowCount: 101 })).queries.length, 2, 'a known row count saves the count');
  const [id, g, s, flag, d] = p.columns;
  assert.deepEqual([id?.min, id?.max, id?.mean, id?.distinctCount, id?.nullRate], [0, 100, 50, 101, 0]);
  assert.deepEqual(id?.quantiles, { p01: 1, p25: 25, p50: 50, p75: 75, p99: 99 });
  assert.ok(Math.abs((id?.stddev ?? 0) - 29.3) < 0.1);
  assert.equal(id?.topValues, null, 'high-cardinality columns get no top values');
  assert.deepEqual(g?.topValues, [{ value: '0', count: 34 }, { value: '1', count: 34 }, { value: '2', count: 33 }]);
  assert.equal(s?.nullCount, 26);
  assert.ok(Math.abs((s?.nullRate ?? 0) - 26 / 101) < 1e-12);
  assert.equal(s?.quantiles, null);
  assert.deepEqual(s?.topValues, [{ value: 'k1', count: 50 }, { value: 'k0', count: 25 }], 'most frequent first');
  assert.ok(Math.abs((flag?.mean ?? 0) - 51 / 101) < 1e-12);
  assert.deepEqual([d?.min, d?.max], ['2026-01-01', '2026-04-11']);
  const m = profileMetrics(p);
  assert.equal(m['row_count'], 101);
  assert.equal(m['p50.id'], 50);
  assert.equal(m['null_rate.s'], 26 / 101);
});

test('profileTable above exactUpTo: exact counts, nulls, extremes and moments; sampled quantiles and estimated distinct counts, labelled', async () => {
  await using db = await DuckDBEngine.open(':memory:');
  await db.exec(`CREATE TABLE big AS SELECT range AS id, (hash(range) % 5000)::BIGINT AS cust, ['a', 'b', 'c'][1 + (range % 3)::INT] AS cat,
    CASE WHEN range % 10 = 0 THEN NULL ELSE range / 7.0 END AS x, 'name-' || range AS label, range % 2 = 0 AS flag FROM range(300000)`);
  const exact = await profileTable(db, 'big', { exactUpTo: Infinity });
  const p = await profileTable(db, 'big', { exactUpTo: 10_000, sampleRows: 20_000 });
  assert.equal(exact.method, 'exact');
  assert.equal(p.method, 'sampled');
  assert.equal(p.rowCount, 300000);
  const col = (t: typeof p, name: string) => t.columns.find((c) => c.name === name);
  for (const name of ['id', 'cust', 'cat', 'x', 'label', 'flag']) {
    const [e, s] = [col(exact, name), col(p, name)];
    assert.equal(s?.nullCount, e?.nullCount, `${name}: exact null count`);
    assert.deepEqual([s?.min, s?.max], [e?.min, e?.max], `${name}: exact extremes`);
    assert.ok(Math.abs((s?.mean ?? 0) - (e?.mean ?? 0)) < 1e-6 * Math.max(1, Math.abs(e?.mean ?? 0)), `${name}: exact mean`);
  }
  assert.deepEqual(col(p, 'cat')?.topValues, col(exact, 'cat')?.topValues, 'low-cardinality columns are grouped exactly');
  assert.equal(col(p, 'cat')?.distinctCount, 3);
  assert.deepEqual(col(p, 'cat')?.estimated, []);
  assert.equal(col(p, 'cust')?.distinctCount, col(exact, 'cust')?.distinctCount, 'a mid-cardinality column keeps an exact distinct count');
  assert.deepEqual(col(p, 'id')?.estimated, ['distinctCount', 'quantiles']);
  assert.ok(Math.abs((col(p, 'id')?.distinctCount ?? 0) / 300000 - 1) < 0.05, `near-unique estimate ${col(p, 'id')?.distinctCount}`);
  assert.ok(Math.abs((col(p, 'label')?.distinctCount ?? 0) / 300000 - 1) < 0.05);
  const q = col(p, 'id')?.quantiles;
  assert.ok(q && Math.abs(q.p50 - 150000) < 300000 * 0.02 && Math.abs(q.p99 - 297000) < 300000 * 0.02, `sampled quantiles close: ${JSON.stringify(q)}`);
  const again = await profileTable(db, 'big', { exactUpTo: 10_000, sampleRows: 20_000 });
  assert.deepEqual(again.columns.map((c) => [c.distinctCount, c.quantiles]), p.columns.map((c) => [c.distinctCount, c.quantiles]), 'the samples are repeatable');

  // With the engine's statistics: no probe and no estimating scan; the estimates are rougher and labelled.
  const s = await profileTable(db, 'big', { exactUpTo: 10_000, sampleRows: 20_000, useStatistics: true });
  assert.ok(s.queries.some((q) => q.includes('stats(')) && !s.queries.some((q) => q.includes('USING SAMPLE') && q.includes('system')));
  assert.deepEqual(col(s, 'cat')?.topValues, col(exact, 'cat')?.topValues, 'low-cardinality columns are still grouped exactly');
  assert.deepEqual(col(s, 'cust')?.estimated, ['distinctCount', 'quantiles']);
  assert.ok(Math.abs((col(s, 'cust')?.distinctCount ?? 0) / 5000 - 1) < 0.2, `statistics estimate ${col(s, 'cust')?.distinctCount}`);
  assert.equal(col(s, 'x')?.nullCount, 30000);
});
