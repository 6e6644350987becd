import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { binJson, binOk, sluiceBin, tempDir } from './helpers.ts';

/**
 * A project shaped like a dbt example ported to Sluice (test/fixtures/jaffle), through the real
 * bin: staging steps with their own checks, a daily `orders` dataset with days that have no
 * orders, an unpartitioned `customers` mart in another pipeline, categorical, monthly and hourly
 * partitions, the partition read in SQL, and rollouts of the mart and of a staging step with
 * rollbacks whose downstream re-runs cross pipelines and partition grains. What is published is
 * compared with independent SQL over the raw files.
 */
const FIXTURE = join(import.meta.dirname, 'fixtures', 'jaffle');

function project(dir: string): string {
  const root = join(dir, 'jaffle');
  cpSync(FIXTURE, root, { recursive: true });
  return root;
}

/** Runs one query in a fresh in-process DuckDB: over the published datasets (catalog.sql) or the raw files. */
async function query(root: string, sql: string, o: { published?: boolean } = {}): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(`SET file_search_path = '${root}'`);
    if (o.published !== false) {
      const { readFileSync } = await import('node:fs');
      for (const stmt of readFileSync(join(root, '.sluice', 'warehouse-dev', 'catalog.sql'), 'utf8').split(';\n').filter((s) => s.trim())) await c.run(stmt);
    }
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const RAW_ORDERS = `(SELECT o.id AS order_id, o.user_id AS customer_id, o.order_date, o.status,
    coalesce(sum(p.amount) / 100.0, 0) AS amount, coalesce(sum(p.amount) FILTER (WHERE p.payment_method <> 'coupon') / 100.0, 0) AS amount_v2
  FROM read_csv('data/orders/orders.csv') o LEFT JOIN read_csv('data/payments.csv') p ON p.order_id = o.id
  WHERE o.order_date BETWEEN DATE '2026-01-01' AND DATE '2026-01-31' GROUP BY ALL)`;

/** The customers mart computed from the raw files: v1's lifetime value (or v2's, which leaves returned orders out). */
const rawCustomers = (version: 'v1' | 'v2'): string => `SELECT c.id AS customer_id, count(o.order_id) AS number_of_orders,
    round(coalesce(sum(o.amount) ${version === 'v2' ? "FILTER (WHERE o.status <> 'returned')" : ''}, 0), 2) AS lifetime_value
  FROM read_csv('data/customers.csv') c LEFT JOIN ${RAW_ORDERS} o ON o.customer_id = c.id GROUP BY ALL ORDER BY 1`;

const publishedCustomers = 'SELECT customer_id, number_of_orders, round(lifetime_value, 2) AS lifetime_value FROM customers ORDER BY 1';

describe('a ported dbt-style project through the real bin', { timeout: 600_000 }, () => {
  test('validate binds every pipeline, the mart against the dataset it reads', () => {
    using t = tempDir();
    const root = project(t.dir);
    const r = binJson<{ ok: boolean; notes: string[]; pipelines: { pipeline: string }[] }>(root, ['validate']);
    assert.equal(r.ok, true);
    assert.deepEqual(r.pipelines.map((p) => p.pipeline).sort(), ['hourly', 'marts', 'monthly', 'regional', 'staging']);
    assert.deepEqual(r.notes, [], 'table sources naming datasets of other pipelines are bound with those datasets\' columns');
  });

  test('daily with empty days, an unpartitioned mart, categorical and monthly partitions, all equal to independent SQL', async () => {
    using t = tempDir();
    const root = project(t.dir);
    const staged = binJson<{ items: { partition: string; ok: boolean; rows: Record<string, number> }[]; failed: number }>(root, ['backfill', 'staging', '--from', '2026-01-01', '--to', '2026-01-31']);
    assert.equal(staged.failed, 0, 'days without orders are published empty (allow_empty), not failed');
    assert.equal(staged.items.length, 31);
    assert.equal(staged.items.find((i) => i.partition === '2026-01-04')?.rows['orders'], 0, '2026-01-04 has no orders');

    const noPartition = sluiceBin(root, ['run', 'staging']);
    assert.equal(noPartition.code, 2, noPartition.stderr);
    assert.match(noPartition.stderr, /--partition is required: the pipeline is partitioned daily \(2026-11-01\)/);

    // The mart: one run, no partition; a partition is refused with the reason.
    const bad = sluiceBin(root, ['run', 'marts', '--partition', '2026-01-01']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--partition: the pipeline's datasets are unpartitioned/);
    const mart = binJson<{ run: { partition: string }; publications: { dataset: string; partition: string }[] }>(root, ['run', 'marts']);
    assert.deepEqual(mart.publications.map((p) => `${p.dataset}/${p.partition}`), ['customers/*']);
    assert.deepEqual(await query(root, publishedCustomers), await query(root, rawCustomers('v1'), { published: false }));

    // Categorical: every declared region by default, one by --partitions; a value not declared is refused.
    const regions = binJson<{ items: { partition: string; ok: boolean }[] }>(root, ['backfill', 'regional']);
    assert.deepEqual(regions.items.map((i) => `${i.partition}:${i.ok}`), ['eu:true', 'us:true', 'apac:true']);
    const one = binJson<{ items: { partition: string }[] }>(root, ['backfill', 'regional', '--partitions', 'us']);
    assert.deepEqual(one.items.map((i) => i.partition), ['us']);
    const mars = sluiceBin(root, ['run', 'regional', '--partition', "mars' OR 1=1 --"]);
    assert.equal(mars.code, 2);
    assert.match(mars.stderr, /is not a declared partition \(values: eu, us, apac\)/);
    const byRegion = await query(root, 'SELECT region, sum(revenue) AS revenue FROM region_revenue GROUP BY ALL ORDER BY 1');
    const rawByRegion = await query(root, `SELECT c.region, sum(o.amount) AS revenue FROM ${RAW_ORDERS} o JOIN read_csv('data/customers.csv') c ON c.id = o.customer_id GROUP BY ALL ORDER BY 1`, { published: false });
    assert.deepEqual(byRegion.map((r) => [r['region'], Number(r['revenue']).toFixed(2)]), rawByRegion.map((r) => [r['region'], Number(r['revenue']).toFixed(2)]));

    // Monthly, reading the daily dataset by month; a month without orders is published empty.
    const months = binJson<{ items: { partition: string; ok: boolean; rows: Record<string, number> }[] }>(root, ['backfill', 'monthly', '--from', '2026-01', '--to', '2026-02']);
    assert.deepEqual(months.items.map((i) => `${i.partition}:${i.ok}:${i.rows['monthly_revenue']}`), ['2026-01:true:1', '2026-02:true:0']);
    const [jan] = await query(root, 'SELECT month::VARCHAR AS month, orders, round(revenue, 2) AS revenue FROM monthly_revenue');
    const [rawJan] = await query(root, `SELECT count(*) AS orders, round(sum(amount), 2) AS revenue FROM ${RAW_ORDERS}`, { published: false });
    assert.deepEqual(jan, { month: '2026-01-01', ...rawJan });
    const badMonth = sluiceBin(root, ['run', 'monthly', '--partition', '2026-13']);
    assert.equal(badMonth.code, 2);
    assert.match(badMonth.stderr, /--partition "2026-13" is not a month/);

    // Export: the mart is one file; a categorical dataset is one folder per value.
    binOk(sluiceBin(root, ['export', 'customers', '--to', join(t.dir, 'out')]), 'export customers');
    assert.deepEqual(readdirSync(join(t.dir, 'out', 'customers', 'current')).sort(), ['_sluice_manifest.json', 'data.parquet']);
    binOk(sluiceBin(root, ['export', 'region_revenue', '--to', join(t.dir, 'out')]), 'export region_revenue');
    assert.deepEqual(readdirSync(join(t.dir, 'out', 'region_revenue', 'current')).filter((f) => f.startsWith('region=')).sort(), ['region=apac', 'region=eu', 'region=us']);
  });

  test('hourly partitions in Europe/Berlin: the skipped hour does not exist, the repeated hour is two hours long', async () => {
    using t = tempDir();
    const root = project(t.dir);
    const spring = binJson<{ items: { partition: string }[] }>(root, ['backfill', 'hourly', '--from', '2026-03-29T00', '--to', '2026-03-29T04']);
    assert.deepEqual(spring.items.map((i) => i.partition), ['2026-03-29T00', '2026-03-29T01', '2026-03-29T03', '2026-03-29T04']);
    const skipped = sluiceBin(root, ['run', 'hourly', '--partition', '2026-03-29T02']);
    assert.equal(skipped.code, 2);
    assert.match(skipped.stderr, /does not exist in Europe\/Berlin/);
    binOk(sluiceBin(root, ['backfill', 'hourly', '--from', '2026-10-25T00', '--to', '2026-10-25T04']), 'autumn backfill');
    const hours = await query(root, `SELECT strftime(event_hour, '%Y-%m-%dT%H') AS hour, sum(events)::INTEGER AS events, strftime(any_value(hour_starts_utc) AT TIME ZONE 'UTC', '%H:%M') AS utc_start, strftime(any_value(hour_ends_utc) AT TIME ZONE 'UTC', '%H:%M') AS utc_end
      FROM hourly_events WHERE event_hour >= TIMESTAMP '2026-10-25 00:00:00' GROUP BY ALL ORDER BY 1`);
    const [inRepeated] = await query(root, "SELECT count(*)::INTEGER AS n FROM read_csv('data/events/events.csv') WHERE event_at >= TIMESTAMP '2026-10-25 02:00:00' AND event_at < TIMESTAMP '2026-10-25 03:00:00'", { published: false });
    assert.deepEqual(hours.find((h) => h['hour'] === '2026-10-25T02'), { hour: '2026-10-25T02', events: inRepeated?.['n'], utc_start: '00:00', utc_end: '02:00' }, 'the repeated hour: 00:00-02:00 UTC');
    assert.deepEqual(hours.find((h) => h['hour'] === '2026-10-25T03')?.['utc_start'], '02:00');
    const [raw] = await query(root, "SELECT count(*)::INTEGER AS n FROM read_csv('data/events/events.csv') WHERE event_at >= TIMESTAMP '2026-10-25 00:00:00' AND event_at < TIMESTAMP '2026-10-25 05:00:00'", { published: false });
    assert.equal(hours.reduce((n, h) => n + Number(h['events']), 0), raw?.['n']);
  });

  test('two spellings of one categorical value are refused', () => {
    using t = tempDir();
    const root = project(t.dir);
    writeFileSync(join(root, 'pipelines', 'numbered.yaml'), `name: numbered
sources:
  raw_customers: { path: data/customers.csv, partitioned: false }
steps:
  by_mod:
    versions:
      v1: { sql: steps/by_mod.sql }
datasets:
  by_mod:
    step: by_mod
    partition: { column: m, values: [1, "01", 2] }
`);
    writeFileSync(join(root, 'steps', 'by_mod.sql'), 'SELECT CAST(id % 3 AS INTEGER) AS m, count(*) AS n FROM raw_customers WHERE CAST(id % 3 AS VARCHAR) = ltrim((SELECT value FROM sluice_partition), \'0\') GROUP BY 1\n');
    binOk(sluiceBin(root, ['run', 'numbered', '--partition', '1']), 'partition 1');
    const twin = sluiceBin(root, ['run', 'numbered', '--partition', '01']);
    assert.equal(twin.code, 2, twin.stdout + twin.stderr);
    assert.match(twin.stderr, /partition "01" of by_mod is stored as 1 in m \(INTEGER\): name the partition 1/);
  });

  test("a staging step's failing check stops the run before anything is published", () => {
    using t = tempDir();
    const root = project(t.dir);
    writeFileSync(join(root, 'data', 'payments.csv'), 'id,order_id,payment_method,amount\n1,1,bitcoin,500\n');
    const r = sluiceBin(root, ['run', 'staging', '--partition', '2026-01-01']);
    assert.equal(r.code, 6, r.stdout + r.stderr);
    assert.match(r.stderr, /step stg_payments: 1 error check\(s\) failed/);
    assert.match(r.stderr, /bitcoin/);
    const pubs = binJson<unknown[]>(root, ['publications', 'orders']);
    assert.deepEqual(pubs, []);
  });

  test('a rollout of the mart: shadow, canary on the whole table, rollback to v1; a guarded attempt is stopped before publish', async () => {
    using t = tempDir();
    const root = project(t.dir);
    binOk(sluiceBin(root, ['backfill', 'staging', '--from', '2026-01-01', '--to', '2026-01-31']), 'staging');
    binOk(sluiceBin(root, ['run', 'marts']), 'marts v1');
    binOk(sluiceBin(root, ['rollout', 'start', 'customers-v2', '--reason', 'returned orders leave lifetime value']), 'start');
    const shadow = binJson<{ computed: { role: string; stepVersion: string }[]; publications: { versionId: string }[] }>(root, ['run', 'marts']);
    assert.deepEqual(shadow.computed.map((c) => `${c.role}:${c.stepVersion}`).sort(), ['baseline:v1', 'candidate:v2']);
    assert.deepEqual(await query(root, publishedCustomers), await query(root, rawCustomers('v1'), { published: false }), 'shadow publishes the baseline');
    binOk(sluiceBin(root, ['run', 'marts']), 'canary batch');
    const status = binJson<{ state: string; stageId: string }>(root, ['rollout', 'status', 'customers-v2']);
    assert.deepEqual([status.state, status.stageId], ['progressing', 'canary-20']);
    const canary = await query(root, publishedCustomers);
    const v1 = await query(root, rawCustomers('v1'), { published: false });
    const v2 = await query(root, rawCustomers('v2'), { published: false });
    const fromV2 = canary.filter((r, i) => JSON.stringify(r) !== JSON.stringify(v1[i]));
    assert.ok(fromV2.length > 0 && fromV2.length < canary.length, 'the canary shows some customers from v2');
    for (const r of fromV2) assert.deepEqual(r, v2.find((x) => x['customer_id'] === r['customer_id']));

    binOk(sluiceBin(root, ['rollout', 'rollback', 'customers-v2', '--reason', 'finance wants returns in']), 'rollback');
    assert.equal(binJson<{ state: string }>(root, ['rollout', 'status', 'customers-v2']).state, 'rolled_back');
    assert.deepEqual(await query(root, publishedCustomers), v1, 'after the rollback every customer is v1 again');

    binOk(sluiceBin(root, ['rollout', 'start', 'customers-v2-guarded', '--reason', 'again, guarded']), 'start guarded');
    const guarded = sluiceBin(root, ['run', 'marts']);
    assert.equal(guarded.code, 11, guarded.stdout + guarded.stderr);
    assert.deepEqual(await query(root, publishedCustomers), v1, 'the guard rejected the candidate before publish');
    binOk(sluiceBin(root, ['audit', 'verify']), 'audit verify');
  });

  test('rolling back a staging step re-runs its readers in other pipelines once per partition they read', async () => {
    using t = tempDir();
    const root = project(t.dir);
    binOk(sluiceBin(root, ['backfill', 'staging', '--from', '2026-01-01', '--to', '2026-01-31']), 'staging');
    binOk(sluiceBin(root, ['rollout', 'start', 'orders-v2', '--reason', 'coupons out']), 'start');
    binOk(sluiceBin(root, ['backfill', 'staging', '--from', '2026-01-02', '--to', '2026-01-04']), 'canary batches');
    for (const args of [['run', 'marts'], ['run', 'monthly', '--partition', '2026-01'], ['backfill', 'regional']]) binOk(sluiceBin(root, args), args.join(' '));
    const before = await query(root, 'SELECT round(sum(lifetime_value), 2) AS v FROM customers');
    const runsBefore = binJson<{ id: number }[]>(root, ['runs', '--limit', '200']).length;
    // Killed after its first re-run; the next command finishes the rollback without re-running that one again.
    const killed = sluiceBin(root, ['rollout', 'rollback', 'orders-v2', '--reason', 'coupons count'], { SLUICE_CRASH_AT: 'effects.rerun' });
    assert.equal(killed.code, null, 'killed at its first re-run');
    binOk(sluiceBin(root, ['rollout', 'status', 'orders-v2']), 'resume');
    binOk(sluiceBin(root, ['rollout', 'status', 'orders-v2']), 'resume again: nothing left');
    const reruns = binJson<{ id: number; pipeline: string; partition: string; actor: string }[]>(root, ['runs', '--limit', '200']).slice(0, -runsBefore);
    assert.deepEqual(reruns.map((r) => `${r.pipeline} ${r.partition}`).sort(), ['marts *', 'monthly 2026-01', 'regional apac', 'regional eu', 'regional us'], 'the mart once, the month once (its chained dataset with it), each region once, across the crash');
    const [rawTotal] = await query(root, `SELECT round(sum(amount), 2) AS v FROM ${RAW_ORDERS}`, { published: false });
    assert.notDeepEqual(before, [rawTotal]);
    assert.deepEqual(await query(root, 'SELECT round(sum(lifetime_value), 2) AS v FROM customers'), [rawTotal]);
    assert.deepEqual(await query(root, 'SELECT round(sum(revenue), 2) AS v FROM monthly_revenue'), [rawTotal]);
    const [top] = await query(root, 'SELECT round(revenue_per_order, 4) AS v FROM monthly_top');
    const [rawTop] = await query(root, `SELECT round(sum(amount) / count(*), 4) AS v FROM ${RAW_ORDERS}`, { published: false });
    assert.deepEqual(top, rawTop, 'the chained monthly dataset was recomputed from the restored days');
    assert.deepEqual(await query(root, 'SELECT round(sum(revenue), 2) AS v FROM region_revenue'), [rawTotal]);
    assert.ok(existsSync(join(root, '.sluice')));
  });
});
