import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../../../test/support/postgres-server.ts';
import { parseChecks } from '../../quality/parse-checks.ts';
import { columnDrift } from '../../quality/column-drift.ts';
import { diffTables } from '../../quality/diff-tables.ts';
import { profileTable } from '../../quality/profile-table.ts';
import { runChecks } from '../../quality/run-checks.ts';
import { describeTable } from '../../quality/table-columns.ts';
import { PostgresWarehouse } from './postgres-warehouse.ts';

/** The dialect on a real server, and the quality modules (checks, profiles, diffs, drift) through it. */
const unavailable = postgresUnavailable();
let server: TestPostgres | undefined;
let warehouse: PostgresWarehouse | undefined;
after(async () => {
  await warehouse?.close();
  await server?.stop();
});

async function open(): Promise<PostgresWarehouse> {
  if (warehouse) return warehouse;
  server = await startPostgres();
  warehouse = await PostgresWarehouse.open(server.url);
  await warehouse.exec(`CREATE TABLE orders AS SELECT i AS id, i % 5 AS g, i * 1.5 AS amount, CAST(i * 0.5 AS DOUBLE PRECISION) AS score,
      CASE WHEN i % 10 = 0 THEN NULL ELSE 'c' || i END AS customer, TIMESTAMP '2026-01-01 00:00:00' + make_interval(hours => i) AS ts, DATE '2026-01-01' + i AS d, i % 2 = 0 AS even
      FROM generate_series(0, 99) AS g(i)`);
  await warehouse.exec(`CREATE TABLE orders2 AS SELECT id, g, CASE WHEN id = 3 THEN amount + 1 ELSE amount END AS amount, score, customer, ts, d, even FROM orders WHERE id <> 7`);
  return warehouse;
}

describe('postgres dialect', { skip: unavailable ?? false }, () => {
  test('expressions: regex search, quantiles as a list, epoch seconds, casts, series, added seconds', async () => {
    const w = await open();
    const d = w.dialect;
    const [r] = await w.query(
      `SELECT ${d.regexMatch(`'abc-123'`, '\\d+')} AS m, ${d.regexMatch(`'abc'`, '^b')} AS n, ${d.textLength(`'héllo'`)} AS len, ${d.epochSeconds(`TIMESTAMP '1970-01-02 00:00:00'`)} AS e, ${d.castText('42')} AS t,
       ${d.toDouble('TRUE', 'boolean')} AS b, ${d.addSeconds(`TIMESTAMP '2026-01-01 00:00:00'`, '90')} AS plus`,
    );
    assert.deepEqual(r, { m: true, n: false, len: 5, e: 86400, t: '42', b: 1, plus: '2026-01-01T00:01:30.000Z' });
    const [q] = await w.query(`SELECT ${d.quantiles('amount', [0, 0.5, 1])} AS q, ${d.stddev('g')} AS s FROM orders`);
    assert.deepEqual(q?.['q'], [0, 74.25, 148.5]);
    const [n] = await w.query(`SELECT count(*) AS n, sum(i) AS s FROM ${d.series(10, 'i')}`);
    assert.deepEqual(n, { n: 10, s: 45 });
    await assert.rejects(w.query(d.regexProbeSql('(unclosed')));
    const [e] = await w.query(`SELECT ${d.distinctEstimate?.('id', 1) ?? 'NULL'} AS e FROM orders`);
    assert.equal(e?.['e'], 100);
  });

  test('row checksums are order-free and see a changed value; describe resolves temp views, then the search path', async () => {
    const w = await open();
    const [xor, sum] = w.dialect.rowChecksums(['id', 'amount']);
    const [a] = await w.query(`SELECT ${xor} AS x, ${sum} AS s FROM (SELECT * FROM orders ORDER BY id) q`);
    const [b] = await w.query(`SELECT ${xor} AS x, ${sum} AS s FROM (SELECT * FROM orders ORDER BY id DESC) q`);
    const [c] = await w.query(`SELECT ${xor} AS x, ${sum} AS s FROM orders2`);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const cols = await describeTable(w, 'orders', w.dialect);
    assert.deepEqual(cols.map((x) => [x.name, w.dialect.canonicalType(x.type), x.family]), [
      ['id', 'INTEGER', 'integer'], ['g', 'INTEGER', 'integer'], ['amount', 'DECIMAL', 'decimal'], ['score', 'DOUBLE', 'float'],
      ['customer', 'VARCHAR', 'text'], ['ts', 'TIMESTAMP', 'timestamp'], ['d', 'DATE', 'date'], ['even', 'BOOLEAN', 'boolean'],
    ]);
    await using s = await w.openSession();
    await s.exec('CREATE TEMP VIEW orders AS SELECT 1 AS only_here');
    assert.deepEqual((await s.query(s.dialect.describeSql('orders'))).map((r) => r['column_name']), ['only_here'], 'a temp view of the session hides the table, as in a query');
  });

  test('checks, profiles, diffs and drift run through the dialect', async () => {
    const w = await open();
    const parsed = parseChecks([
      { check: 'not_null', column: 'customer' },
      { check: 'unique', column: 'id' },
      { check: 'between', column: 'amount', min: 0, max: 100, mostly: 0.5 },
      { check: 'in_set', column: 'g', values: [0, 1, 2, 3, 4] },
      { check: 'regex', column: 'customer', pattern: '^c\\d+$' },
    ], { path: 'checks' });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const report = await runChecks(w, 'orders', parsed.checks, { dialect: w.dialect });
    assert.deepEqual(report.results.map((r) => [r.check, r.success]), [['not_null', false], ['unique', true], ['between', true], ['in_set', true], ['regex', true]]);
    const profile = await profileTable(w, 'orders', { dialect: w.dialect });
    assert.equal(profile.rowCount, 100);
    const customer = profile.columns.find((c) => c.name === 'customer');
    assert.equal(customer?.nullCount, 10);
    const diff = await diffTables(w, 'orders', 'orders2', { key: ['id'], dialect: w.dialect });
    assert.deepEqual([diff.onlyLeft, diff.onlyRight, diff.changed], [1, 0, 1]);
    const drift = await columnDrift(w, 'orders', 'orders2', { columns: ['amount', 'customer'], dialect: w.dialect });
    assert.equal(drift.length, 2);
    assert.ok(drift.every((x) => Number.isFinite(x.psi)));
  });
});
