import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBEngine } from '../engine/duckdb/duckdb-engine.ts';
import { SluiceError } from '../util/errors.ts';
import type { Check } from './check-types.ts';
import { parseChecks } from './parse-checks.ts';
import { runChecks } from './run-checks.ts';

function checks(raw: unknown[]): Check[] {
  const r = parseChecks(raw, { path: 'checks' });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return [...r.checks];
}

async function ordersDb(): Promise<DuckDBEngine> {
  const db = await DuckDBEngine.open(':memory:');
  await db.exec(`CREATE TABLE orders AS SELECT range AS id, range % 5 AS g, range * 1.5 AS amount,
      CASE WHEN range % 10 = 0 THEN NULL ELSE 'c' || range END AS customer,
      TIMESTAMP '2026-01-01 00:00:00' + INTERVAL (range) HOUR AS ts FROM range(100)`);
  await db.exec(`INSERT INTO orders VALUES (5, 9, -1, 'x y', TIMESTAMP '2025-01-01')`);
  await db.exec(`CREATE TABLE customers AS SELECT 'c' || range AS name FROM range(50)`);
  return db;
}

describe('runChecks', () => {
  test('column checks share one fused scan; samples are fetched only for checks that found rows', async () => {
    await using db = await ordersDb();
    const report = await runChecks(
      db,
      'orders',
      checks([
        { check: 'not_null', column: 'customer', mostly: 0.85 },
        { check: 'between', column: 'amount', min: 0 },
        { check: 'in_set', column: 'g', values: [0, 1, 2, 3, 4] },
        { check: 'regex', column: 'customer', pattern: '^c[0-9]+$' },
        { check: 'row_count_between', min: 1, max: 1000 },
        { check: 'column_mean_between', column: 'amount', min: 0 },
      ]),
      { indexColumns: ['id'], sampleSize: 5 },
    );
    const byId = Object.fromEntries(report.results.map((r) => [r.id, r]));
    assert.equal(report.elementCount, 101);
    assert.deepEqual(
      report.results.map((r) => [r.id, r.success, r.unexpectedCount]),
      [
        ['not_null(customer)', true, 10],
        ['between(amount)', false, 1],
        ['in_set(g)', false, 1],
        ['regex(customer)', false, 1],
        ['row_count_between', true, 0],
        ['column_mean_between(amount)', true, 0],
      ],
    );
    assert.deepEqual(byId['between(amount)']?.unexpectedValues, [-1]);
    assert.deepEqual(byId['between(amount)']?.unexpectedRows, [{ id: 5, amount: -1 }]);
    assert.deepEqual(byId['regex(customer)']?.unexpectedValues, ['x y']);
    assert.equal(byId['not_null(customer)']?.missingCount, 0);
    assert.equal(byId['regex(customer)']?.missingCount, 10, 'nulls are missing, not unexpected, for a regex');
    assert.equal(report.success, false);
    const scans = report.queries.filter((q) => !/ WHERE /.test(q) && !/^DESCRIBE/.test(q));
    assert.equal(scans.length, 1, 'one aggregate scan for all column checks');
    assert.equal(report.queries.filter((q) => / LIMIT 5$/.test(q)).length, 4, 'samples only for the four checks with offending rows');
  });

  test('unique counts every row in a duplicate group, via the bitmap for dense integers and GROUP BY otherwise', async () => {
    await using db = await ordersDb();
    const report = await runChecks(db, 'orders', checks([{ check: 'unique', column: 'id' }, { check: 'unique', column: 'customer' }, { check: 'unique', columns: ['g', 'customer'] }]), {
      indexColumns: ['id'],
    });
    const [ids, names, compound] = report.results;
    assert.equal(ids?.unexpectedCount, 2);
    assert.deepEqual(ids?.unexpectedValues, [5, 5]);
    assert.equal(ids?.details['method'], 'bitmap');
    assert.equal(names?.unexpectedCount, 0);
    assert.equal(names?.details['method'], 'group_by');
    assert.equal(compound?.unexpectedCount, 10, '(0, NULL) repeats: a partly null key still counts unless every part is null');
  });

  test('long value lists run as an anti-join and give the same answer as an IN list', async () => {
    await using db = await ordersDb();
    const many = Array.from({ length: 200 }, (_, i) => `c${i}`);
    const report = await runChecks(db, 'orders', checks([{ check: 'in_set', column: 'customer', values: many }, { check: 'not_in_set', column: 'customer', values: many }]));
    assert.equal(report.results[0]?.unexpectedCount, 1);
    assert.deepEqual(report.results[0]?.unexpectedValues, ['x y']);
    assert.equal(report.results[1]?.unexpectedCount, 90);
    assert.ok(report.queries.some((q) => /EXISTS \(SELECT 1 FROM \(VALUES/.test(q)));
  });

  test('freshness measures the newest event against the run time passed in', async () => {
    await using db = await ordersDb();
    const c = checks([{ check: 'freshness', column: 'ts', max_age: '2h' }]);
    const fresh = await runChecks(db, 'orders', c, { now: new Date('2026-01-05T04:30:00Z') });
    assert.equal(fresh.results[0]?.success, true);
    assert.equal(fresh.results[0]?.details['ageSeconds'], 3600 + 1800);
    const stale = await runChecks(db, 'orders', c, { now: new Date('2026-01-06T00:00:00Z') });
    assert.equal(stale.results[0]?.success, false);
    await assert.rejects(runChecks(db, 'orders', c), /run time/);
  });

  test('referential integrity, custom SQL and schema checks', async () => {
    await using db = await ordersDb();
    const report = await runChecks(
      db,
      'orders',
      checks([
        { check: 'references', column: 'customer', table: 'customers', to_column: 'name', severity: 'warn' },
        { check: 'custom_sql', sql: 'SELECT id, amount FROM {{ table }} WHERE amount < 0 OR g > 4' },
        { check: 'column_type', column: 'id', type: 'bigint' },
        { check: 'column_type', column: 'customer', type: 'text' },
        { check: 'columns_match_set', columns: ['id', 'g'], exact: false },
        { check: 'column_exists', column: 'ts', index: 4 },
      ]),
      { sampleSize: 3 },
    );
    const [refs, custom, ...schema] = report.results;
    assert.equal(refs?.unexpectedCount, 46, 'c50..c99 (minus the five null tenths) and "x y" are not customers');
    assert.equal(refs?.missingCount, 10);
    assert.deepEqual(custom?.unexpectedRows, [{ id: 5, amount: -1 }]);
    assert.deepEqual(schema.map((r) => r.success), [true, true, true, true]);
    assert.equal(report.success, false, 'the custom check is an error');
  });

  test('a check on a missing column or with a bad regex fails before any scan, naming the field', async () => {
    await using db = await ordersDb();
    const c = checks([{ check: 'not_null', column: 'custmer' }, { check: 'regex', column: 'customer', pattern: '(unclosed' }]);
    const err = await runChecks(db, 'orders', c).catch((e: unknown) => e);
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.deepEqual(err.problems.map((p) => p.field), ['checks.0.column', 'checks.1.pattern']);
    assert.match(err.problems[0]?.message ?? '', /column "custmer" does not exist in orders/);
    assert.match(err.problems[1]?.message ?? '', /invalid regular expression/);
  });
});
