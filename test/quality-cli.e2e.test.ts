import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { aliasOf } from '../src/engine/duckdb/duckdb-warehouse.ts';
import { DuckDBEngine } from '../src/engine/duckdb/duckdb-engine.ts';
import { quoteLiteral } from '../src/engine/sql.ts';
import { tempDir, runBin, type BinOutput } from './helpers.ts';

const sluice = (args: string[], cwd?: string): BinOutput => runBin(args, { actor: 'erin', ...(cwd ? { cwd } : {}) });

function json<T>(r: BinOutput): T {
  assert.ok(r.stdout.trim().startsWith('{') || r.stdout.trim().startsWith('['), `expected JSON, got (exit ${r.code}): ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function editPipeline(root: string, edit: (text: string) => string): void {
  const file = join(root, 'pipelines/orders.yaml');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
}

interface CheckJson {
  success: boolean;
  version: string;
  published: boolean;
  contract: { success: boolean; contract: { version: number } } | null;
  results: { id: string; success: boolean; severity: string; elementCount: number; unexpectedCount: number; unexpectedPercent: number; missingCount: number; unexpectedValues: unknown[] }[];
}

describe('quality cli: check, diff, contract diff, profile and synth through the real bin', () => {
  test('sluice check runs the declared checks and the contract on demand, stores the results and exits 6 on failure', () => {
    using tmp = tempDir();
    const root = join(tmp.dir, 'shop');
    assert.equal(sluice(['init', root]).code, 0);
    const p = ['--project', root];
    assert.equal(sluice([...p, 'backfill', 'orders', '--from', '2026-11-01', '--to', '2026-11-02']).code, 0);

    const ok = sluice([...p, 'check', 'cleaned_orders', '--partition', '2026-11-01']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^check cleaned_orders partition 2026-11-01 on clean_orders\.r1 \(published; step clean_orders v1, \d+ rows\) in dev/);
    assert.match(ok.stdout, /contract contracts\/cleaned_orders v1 \(contracts\/cleaned_orders\/v1\.yaml\): holds/);
    assert.match(ok.stdout, /contract:value_length_between\(currency\)\s+error\s+ok/);
    assert.match(ok.stdout, /in_set\(currency\)\s+error\s+ok\s+\d+\s+0\s+0\.00 %\s+0/);
    assert.match(ok.stdout, /16 check\(s\) \(12 from the contract, 4 declared on the dataset\): 16 passed, 0 failed, 0 warned/);

    // A stricter rule that some rows break, and a warning.
    editPipeline(root, (t) => t.replace('      - { check: between, column: amount_usd, min: 0 }\n', '      - { check: between, column: amount_usd, min: 0 }\n      - { check: in_set, column: channel, values: [web, app], name: channel_known }\n      - { check: between, column: amount_usd, max: 500, severity: warn, mostly: 0.99 }\n'));
    const bad = sluice([...p, 'check', 'cleaned_orders', '--partition', '2026-11-02']);
    assert.equal(bad.code, 6, bad.stderr);
    assert.match(bad.stdout, /channel_known\s+error\s+FAILED\s+\d+\s+\d+\s+\d+\.\d\d %\s+0\s+("partner", "store"|"store", "partner")/);
    assert.match(bad.stdout, /between\(amount_usd\)#2\s+warn\s+failed \(warn\)/);
    assert.match(bad.stdout, /18 check\(s\) .*: 16 passed, 1 failed, 1 warned -> FAILED\n  - channel_known failed/);
    const badJson = json<CheckJson>(sluice([...p, '--json', 'check', 'cleaned_orders', '--partition', '2026-11-02', '--version', 'clean_orders.r2']));
    assert.equal(badJson.success, false);
    const known = badJson.results.find((r) => r.id === 'channel_known');
    assert.ok(known && known.unexpectedCount > 0 && known.unexpectedCount < known.elementCount && known.missingCount === 0);
    assert.ok(Math.abs(known.unexpectedPercent - (100 * known.unexpectedCount) / known.elementCount) < 1e-9);
    assert.deepEqual([...new Set(known.unexpectedValues)].sort(), ['partner', 'store']);
    assert.equal(badJson.contract?.success, true);
    const db = new Database(join(root, '.sluice/sluice.db'), { readonly: true });
    const stored = db.prepare(`SELECT run_id, partition, version_id, results FROM check_results WHERE run_id = 0 ORDER BY partition`).all() as { partition: string; version_id: string; results: string }[];
    db.close();
    assert.deepEqual(stored.map((s) => [s.partition, s.version_id]), [['2026-11-01', 'clean_orders.r1'], ['2026-11-02', 'clean_orders.r2']], 'on-demand results are stored under run 0, one record per output version');
    assert.ok((JSON.parse(stored[1]?.results ?? '[]') as { id: string; success: boolean }[]).some((r) => r.id === 'channel_known' && !r.success));

    // Bad input: a check on a missing column names the file, line and field; unknown versions and datasets are not found.
    editPipeline(root, (t) => t.replace('      - { check: not_null, column: customer_id }\n', '      - { check: not_null, column: customer_id }\n      - { check: not_null, column: coupon_code }\n'));
    const missing = sluice([...p, 'check', 'cleaned_orders', '--partition', '2026-11-01']);
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stderr, /pipelines\/orders\.yaml:\d+ datasets\.cleaned_orders\.checks\.1\.column: not_null\(coupon_code\): column "coupon_code" does not exist/);
    const noVersion = sluice([...p, 'check', 'cleaned_orders', '--partition', '2026-11-01', '--version', 'clean_orders.r99']);
    assert.equal(noVersion.code, 4);
    assert.match(noVersion.stderr, /no output version "clean_orders\.r99" of step clean_orders for partition 2026-11-01 \(known: clean_orders\.r1\)/);
    const wrongPartition = sluice([...p, 'check', 'cleaned_orders', '--partition', '2026-11-01', '--version', 'clean_orders.r2']);
    assert.equal(wrongPartition.code, 2);
    assert.match(wrongPartition.stderr, /clean_orders\.r2 holds partition 2026-11-02, not 2026-11-01/);
    assert.equal(sluice([...p, 'check', 'nope', '--partition', '2026-11-01']).code, 4);
    assert.equal(sluice([...p, 'check', 'cleaned_orders', '--partition', '2026-12-31']).code, 4, 'an unpublished partition');
  });

  test('sluice diff: rows only in one side, changed per column, samples and drift between two output versions', async () => {
    using tmp = tempDir();
    const root = join(tmp.dir, 'shop');
    assert.equal(sluice(['init', root]).code, 0);
    const p = ['--project', root];
    assert.equal(sluice([...p, 'run', 'orders', '--partition', '2026-11-01']).code, 0);
    // A candidate that drops every tenth order and shouts its channel; run it as the step's version.
    const v2 = join(root, 'steps/clean_orders/v2.sql');
    writeFileSync(v2, readFileSync(v2, 'utf8').replace('lower(o.channel) AS channel', 'upper(o.channel) AS channel').replace('AND o.amount >= 0', 'AND o.amount >= 0\n  AND o.order_id % 10 <> 0'));
    rmSync(join(root, 'flags'), { recursive: true, force: true });
    editPipeline(root, (t) => t.replace('default_version: v1', 'default_version: v2'));
    const run2 = sluice([...p, 'run', 'orders', '--partition', '2026-11-01']);
    assert.equal(run2.code, 0, run2.stderr);

    const d = sluice([...p, 'diff', 'cleaned_orders', '--partition', '2026-11-01', '--versions', 'v1', 'v2', '--sample', '3']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^diff cleaned_orders partition 2026-11-01: clean_orders\.r1 \(v1\) -> clean_orders\.r2 \(v2, published\), key \[order_id\], by join/);
    assert.match(d.stdout, /only in clean_orders\.r1: \d+; only in clean_orders\.r2: 0; changed: \d+; unchanged: \d+/);
    assert.match(d.stdout, /channel\s+\d+\s+100\.00 %\s+\d+\.\d{4}\s*\n/);
    assert.match(d.stdout, /changed rows \(first 3\):\n  order_id=\d+: channel "[a-z]+" -> "[A-Z]+"/);
    assert.match(d.stdout, /only in clean_orders\.r1 \(first 3\):\n  order_id=\d*0\n/);

    interface DiffJson {
      left: { id: string };
      right: { id: string; published: boolean };
      diff: { leftRows: number; rightRows: number; onlyLeft: number; onlyRight: number; changed: number; unchanged: number; changedByColumn: Record<string, number>; samples: { onlyLeft: { order_id: number }[] } };
      drift: { column: string; kind: string; psi: number; ks: number | null }[];
    }
    const j = json<DiffJson>(sluice([...p, '--json', 'diff', 'cleaned_orders', '--partition', '2026-11-01', '--versions', 'clean_orders.r1', 'published']));
    assert.equal(j.right.id, 'clean_orders.r2');
    assert.equal(j.right.published, true);
    const truth = await (async () => {
      // Read the version's own data file, in a DuckDB of the test's own: the truth does not go through Sluice.
      await using db = await DuckDBEngine.open(':memory:');
      await db.exec(`ATTACH '${join(root, '.sluice/warehouse-dev/versions', `${aliasOf('v', 'clean_orders.r1')}.duckdb`)}' AS v (READ_ONLY)`);
      const [row] = await db.query(`SELECT count(*) FILTER (WHERE order_id % 10 = 0)::INT AS dropped, count(*)::INT AS n FROM v.data`);
      return row;
    })();
    assert.equal(j.diff.onlyLeft, truth?.['dropped']);
    assert.equal(j.diff.leftRows, truth?.['n']);
    assert.equal(j.diff.rightRows, j.diff.leftRows - j.diff.onlyLeft);
    assert.equal(j.diff.onlyRight, 0);
    assert.equal(j.diff.changed + j.diff.unchanged, j.diff.rightRows);
    assert.equal(j.diff.changedByColumn['channel'], j.diff.rightRows, 'every matched row changed its channel');
    assert.ok(j.diff.samples.onlyLeft.every((r) => r.order_id % 10 === 0));
    const channel = j.drift.find((x) => x.column === 'channel');
    assert.equal(channel?.kind, 'categorical');
    assert.ok((channel?.psi ?? 0) > 1, 'new categories: a large PSI');
    const amount = j.drift.find((x) => x.column === 'amount');
    assert.equal(amount?.kind, 'numeric');
    assert.ok((amount?.psi ?? 1) < 0.1 && (amount?.ks ?? 1) < 0.1, 'dropping a tenth of orders at random barely moves the amounts');

    const one = sluice([...p, 'diff', 'cleaned_orders', '--partition', '2026-11-01', '--versions', 'v1']);
    assert.equal(one.code, 2);
    assert.match(one.stderr, /--versions takes exactly two output versions/);
    const other = sluice([...p, 'diff', 'cleaned_orders', '--partition', '2026-11-01', '--versions', 'v1', 'daily_revenue.r1']);
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /daily_revenue\.r1 is of step daily_revenue, but cleaned_orders publishes step clean_orders/);
  });

  test('sluice contract diff classifies changes under each mode (exit 6 when breaking), from DATASET@vN references or files', () => {
    using tmp = tempDir();
    const root = join(tmp.dir, 'shop');
    assert.equal(sluice(['init', root]).code, 0);
    const p = ['--project', root];
    const dir = join(root, 'contracts/cleaned_orders');
    // One version: comparing it with itself (or the dataset with itself) is no change, exit 0.
    for (const args of [['cleaned_orders@v1', 'cleaned_orders'], ['cleaned_orders', 'cleaned_orders'], ['cleaned_orders@v1', 'cleaned_orders@v1']]) {
      const same = sluice([...p, 'contract', 'diff', ...args]);
      assert.equal(same.code, 0, `${args.join(' ')}: ${same.stderr}`);
      assert.match(same.stdout, /^contract cleaned_orders@v1 -> cleaned_orders@v1 \(v1\), mode backward: no change/, args.join(' '));
    }
    const sameJson = json<{ compatible: boolean; noChange: boolean; changes: unknown[] }>(sluice([...p, '--json', 'contract', 'diff', 'cleaned_orders@v1', 'cleaned_orders', '--mode', 'full_transitive']));
    assert.deepEqual([sameJson.compatible, sameJson.noChange, sameJson.changes], [true, true, []]);
    const v1 = readFileSync(join(dir, 'v1.yaml'), 'utf8');
    // v2 drops channel; v3 adds a nullable note to v2.
    const v2 = v1.replace('version: 1', 'version: 2').replace('  - { name: channel, type: VARCHAR }\n', '');
    writeFileSync(join(dir, 'v2.yaml'), v2);
    writeFileSync(join(dir, 'v3.yaml'), v2.replace('version: 2', 'version: 3').replace('checks:\n', '  - { name: note, type: VARCHAR }\nchecks:\n'));

    const back = sluice([...p, 'contract', 'diff', 'cleaned_orders@v1', 'cleaned_orders@v2']);
    assert.equal(back.code, 6, back.stderr);
    assert.match(back.stdout, /^contract cleaned_orders@v1 -> cleaned_orders@v2 \(v2\), mode backward, against v1: BREAKING/);
    assert.match(back.stdout, /column_removed\s+channel\s+v1\s+BREAKING\s+channel is gone; readers of v1 select it/);
    assert.equal(sluice([...p, 'contract', 'diff', 'cleaned_orders@v1', 'cleaned_orders@v2', '--mode', 'forward']).code, 0, 'old data still has every column new readers need');
    assert.equal(sluice([...p, 'contract', 'diff', 'cleaned_orders@v1', 'cleaned_orders@v2', '--mode', 'full']).code, 6);

    const latest = sluice([...p, 'contract', 'diff', 'cleaned_orders@v2', 'cleaned_orders']);
    assert.equal(latest.code, 0, 'a nullable column added to v2 is backward compatible');
    assert.match(latest.stdout, /column_added\s+note\s+v2\s+ok/);
    const transitive = json<{ compatible: boolean; changes: { kind: string; against: number; breaking: boolean }[] }>(sluice([...p, '--json', 'contract', 'diff', 'cleaned_orders@v2', 'cleaned_orders@v3', '--mode', 'backward_transitive']));
    assert.equal(transitive.compatible, false, 'against v1 as well, channel is still missing');
    assert.deepEqual(transitive.changes.filter((c) => c.breaking).map((c) => [c.kind, c.against]), [['column_removed', 1]]);
    assert.equal(sluice([...p, 'contract', 'diff', 'cleaned_orders@v2', 'cleaned_orders@v3', '--mode', 'backward_transitive']).code, 6);

    // Files, relative to the current folder.
    const files = sluice(['contract', 'diff', 'contracts/cleaned_orders/v1.yaml', 'contracts/cleaned_orders/v3.yaml', '--mode', 'forward'], root);
    assert.equal(files.code, 0, files.stderr);
    assert.match(files.stdout, /contract contracts\/cleaned_orders\/v1\.yaml -> contracts\/cleaned_orders\/v3\.yaml \(v3\), mode forward, against v1: compatible/);

    const itself = sluice([...p, 'contract', 'diff', 'cleaned_orders@v2', 'cleaned_orders@v2']);
    assert.equal(itself.code, 0, 'a version against itself is no change, whatever came before it');
    assert.match(itself.stdout, /no change \(the same version\)/);

    const show = sluice([...p, 'contract', 'show', 'cleaned_orders']);
    assert.match(show.stdout, /versions v1, v2, v3 \(current v3\)/);
    assert.equal(sluice([...p, 'contract', 'diff', 'cleaned_orders@v1', 'cleaned_orders@v9']).code, 4);
    assert.equal(sluice([...p, 'contract', 'diff', 'cleaned_orders@v1', 'cleaned_orders@v2', '--mode', 'sideways']).code, 2);
    writeFileSync(join(tmp.dir, 'bad.yaml'), 'dataset: cleaned_orders\nversion: 4\ncolumns:\n  - { name: order_id, type: BIGINT, nullable: maybe }\n');
    const bad = sluice([...p, 'contract', 'diff', 'cleaned_orders', join(tmp.dir, 'bad.yaml')]);
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /bad\.yaml:4 columns\.0\.nullable: nullable must be true or false/);
  });

  test('sluice synth writes repeatable edge-case data from a contract or a source schema', async () => {
    using tmp = tempDir();
    const root = join(tmp.dir, 'shop');
    assert.equal(sluice(['init', root]).code, 0);
    const p = ['--project', root];
    const out = join(tmp.dir, 'orders.parquet');
    const r = sluice([...p, 'synth', 'cleaned_orders', '--rows', '120', '--seed', '3', '--out', out, '--partition', '2026-11-05']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote 120 synthetic rows for dataset cleaned_orders to .*orders\.parquet \(parquet, seed 3\)/);
    assert.match(r.stdout, /order_id\s+BIGINT\s+duplicate key every 50 rows/);
    assert.match(r.stdout, /amount\s+DOUBLE\s+0, -0\.0, .*NaN, Infinity, -Infinity\n/);
    await using db = await DuckDBEngine.open(':memory:');
    const read = (f: string): string => `read_parquet(${quoteLiteral(f)})`;
    const [stats] = await db.query(`SELECT count(*)::INT AS n, (count(*) - count(DISTINCT order_id))::INT AS dup, count(*) FILTER (WHERE channel IS NULL)::INT AS null_channel,
      count(*) FILTER (WHERE customer_id IS NULL)::INT AS null_customer, count(DISTINCT order_date)::INT AS dates, min(order_date)::VARCHAR AS d FROM ${read(out)}`);
    assert.deepEqual(stats, { n: 120, dup: 2, null_channel: stats?.['null_channel'], null_customer: 0, dates: 1, d: '2026-11-05' });
    assert.ok(Number(stats?.['null_channel']) > 0, 'nullable columns get nulls; non-null ones never');
    const again = join(tmp.dir, 'again.parquet');
    assert.equal(sluice([...p, 'synth', 'cleaned_orders', '--rows', '120', '--seed', '3', '--out', again, '--partition', '2026-11-05']).code, 0);
    const [same] = await db.query(`SELECT (SELECT count(*) FROM (SELECT * FROM ${read(out)} EXCEPT ALL SELECT * FROM ${read(again)}))::INT AS diff`);
    assert.equal(same?.['diff'], 0, 'the same seed writes the same rows');

    const src = sluice([...p, 'synth', 'raw_orders', '--rows', '60', '--partition', '2026-11-09']);
    assert.equal(src.code, 0, src.stderr);
    const csv = join(root, 'data/synthetic/raw_orders/order_date=2026-11-09/raw_orders.csv');
    assert.ok(existsSync(csv), 'a hive source gets its partition folder');
    assert.equal(readFileSync(csv, 'utf8').split('\n')[0], 'order_id,customer_id,ordered_at,currency,amount,status,channel', "the source's declared columns, in order");
    assert.match(src.stdout, /order_id\s+BIGINT\s+duplicate key every 50 rows/, "the source repeats its datasets' key, which the steps must dedupe");

    const noColumns = sluice([...p, 'synth', 'customers']);
    assert.equal(noColumns.code, 2);
    assert.match(noColumns.stderr, /source customers declares no columns/);
    assert.equal(sluice([...p, 'synth', 'daily_revenue']).code, 2, 'a dataset without a contract');
    assert.equal(sluice([...p, 'synth', 'nothing']).code, 4);
  });
});
