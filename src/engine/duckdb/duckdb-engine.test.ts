import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBEngine } from './duckdb-engine.ts';

test('duckdb engine returns plain values and rolls back failed transactions', async () => {
  await using db = await DuckDBEngine.open(':memory:');
  const [row] = await db.query(`select 1 a, 12345678901234::BIGINT b, DATE '2026-01-02' d, 'x' s, NULL n`);
  assert.deepEqual(row, { a: 1, b: 12345678901234, d: '2026-01-02', s: 'x', n: null });
  await db.exec('create table t(x int)');
  await assert.rejects(db.transaction(async () => {
    await db.exec('insert into t values (1)');
    await db.exec('select * from no_such_table');
  }), /no_such_table/);
  assert.deepEqual(await db.query('select count(*) c from t'), [{ c: 0 }]);
});

test('closing while a statement runs lets the statement settle first', async () => {
  const db = await DuckDBEngine.open(':memory:');
  const slow = db.query('SELECT count(*) AS n FROM range(30000000) a, range(2) b');
  await db.close();
  const rows = await slow;
  assert.deepEqual(rows, [{ n: 60000000 }]);
  await assert.rejects(db.query('SELECT 1'), /closed/);
});
