import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SluiceError } from '../../util/errors.ts';
import { outsidePartitions, partitionPredicate } from '../partition-predicate.ts';
import { DuckDBEngine } from './duckdb-engine.ts';

/** The partition predicates run in DuckDB over columns of each kind: which rows each partition holds. */
test('partition predicates select the rows of their partition, for date, timestamp, integer and text columns', async () => {
  await using db = await DuckDBEngine.open(':memory:');
  await db.exec(`CREATE TABLE t AS SELECT * FROM (VALUES
    (1, DATE '2026-01-31', TIMESTAMP '2026-01-31 23:59:59', 7, 'o''hare'),
    (2, DATE '2026-02-01', TIMESTAMP '2026-02-01 00:00:00', 7, 'eu'),
    (3, DATE '2026-02-28', TIMESTAMP '2026-02-01 05:30:00', 8, 'eu'),
    (4, NULL, NULL, NULL, NULL)) v(id, d, ts, n, region)`);
  const ids = async (where: string): Promise<number[]> => (await db.query(`SELECT id FROM t WHERE ${where} ORDER BY id`)).map((r) => Number(r['id']));
  assert.deepEqual(await ids(partitionPredicate('d', 'DATE', '2026-02')), [2, 3], 'a month over a DATE column');
  assert.deepEqual(await ids(partitionPredicate('d', 'DATE', '2026-01-31')), [1], 'a day over a DATE column');
  assert.deepEqual(await ids(partitionPredicate('ts', 'TIMESTAMP', '2026-02-01')), [2, 3], 'a day over a TIMESTAMP column, half-open');
  assert.deepEqual(await ids(partitionPredicate('ts', 'TIMESTAMP', '2026-02-01T05')), [3], 'an hour');
  assert.deepEqual(await ids(partitionPredicate('n', 'INTEGER', '7')), [1, 2]);
  assert.deepEqual(await ids(partitionPredicate('region', 'VARCHAR', "o'hare")), [1], 'a quoted value');
  assert.deepEqual(await ids(outsidePartitions('d', 'DATE', ['2026-02', '2026-01-31'])), [], 'outside every listed partition; NULL is in none');
  assert.deepEqual(await ids(outsidePartitions('region', 'VARCHAR', ['eu'])), [1]);
  assert.throws(() => partitionPredicate('at', 'TIMESTAMP WITH TIME ZONE', '2026-02-01'), (e: unknown) => e instanceof SluiceError && /local wall-clock times; declare the column TIMESTAMP/.test(e.message));
  assert.throws(() => outsidePartitions('at', 'TIMESTAMPTZ', ['2026-02-01']), (e: unknown) => e instanceof SluiceError);
});
