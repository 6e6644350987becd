import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBEngine } from '../engine/duckdb/duckdb-engine.ts';
import { profileMetrics, profileTable } from './profile-table.ts';

test('profileTable: row count, null rate, distinct count, extremes, moments, quantiles and top values in two statements', async () => {
  await using db = await DuckDBEngine.open(':memory:');
  await db.exec(`CREATE TABLE t AS SELECT range AS id, (range % 3)::INT AS g, CASE WHEN range % 4 = 0 THEN NULL ELSE 'k' || (range % 2) END AS s,
    range % 2 = 0 AS flag, DATE '2026-01-01' + (range::INT) AS d FROM range(101)`);
  const p = await profileTable(db, 't', { topValuesMaxDistinct: 5 });
  assert.equal(p.rowCount, 101);
  assert.equal(p.queries.length, 2);
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
  assert.equal(m['id.p50'], 50);
});
