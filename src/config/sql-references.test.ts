import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tableReferences } from './sql-references.ts';

test('a step reads the names after FROM and JOIN, not names in comments, strings or columns', () => {
  const sql = `-- from not_this
    select o.id, 'from also_not' as s, raw_orders_total
    from raw_orders o, customers c
    left join "fx rates" r on r.cur = o.cur
    where exists (select 1 from refunds where refunds.id = o.id) /* join nope */`;
  assert.deepEqual(tableReferences(sql).sort(), ['customers', 'fx rates', 'raw_orders', 'refunds']);
  assert.deepEqual(tableReferences('select * from read_parquet(\'x\')'), ['read_parquet']);
});
