import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBSqlAnalyzer } from './duckdb-sql-analyzer.ts';

test('the DuckDB parser finds the relations a query reads, not names in comments, strings or columns', async () => {
  await using a = await DuckDBSqlAnalyzer.open();
  const sql = `-- from not_this
    select o.id, 'from also_not' as s, raw_orders_total
    from raw_orders o, customers c
    left join "fx rates" r on r.cur = o.cur
    where exists (select 1 from refunds where refunds.id = o.id) /* join nope */`;
  const [r, t] = await a.analyze([sql, "select * from read_parquet('x')"]);
  assert.ok(r?.ok && t?.ok);
  assert.deepEqual(r.analysis.relations.map((x) => x.name).sort(), ['customers', 'fx rates', 'raw_orders', 'refunds']);
  assert.deepEqual(t.analysis.relations, [], 'a table function is not a relation');
  assert.deepEqual(t.analysis.tableFunctions.map((f) => [f.name, Boolean(f.outside)]), [['read_parquet', true]]);
});
