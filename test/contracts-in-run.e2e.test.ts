import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runPipeline } from '../src/runner/run-pipeline.ts';
import type { ContractCheckResult, StoredProfile } from '../src/quality/stored-results.ts';
import { SluiceError } from '../src/util/errors.ts';
import { smallProject, tempDir, workspace } from './helpers.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'sluice.js');
const P1 = '2026-11-01';

function sluice(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, SLUICE_ACTOR: 'dana' }, timeout: 180_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The template's v1 contract with edits, written as version 2 (which becomes the enforced one). */
function writeV2(root: string, edit: (v1: string) => string): void {
  const v1 = readFileSync(join(root, 'contracts/cleaned_orders/v1.yaml'), 'utf8');
  writeFileSync(join(root, 'contracts/cleaned_orders/v2.yaml'), edit(v1.replace('version: 1', 'version: 2')));
}

describe('contracts: a run whose output breaks its dataset contract is not published', () => {
  test('the current (highest) version is enforced; violations name the dataset, the contract version and the values', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir);
    let firstPub: string | undefined;
    {
      await using ws = await workspace(root);
      const r = await runPipeline(ws, { pipeline: 'orders', partition: P1, environment: 'dev', actor: 't' });
      firstPub = r.publications.find((p) => p.dataset === 'cleaned_orders')?.versionId;
      const [stored] = (await ws.store.checkResults.forRun(r.run.id));
      const results = stored?.results as [ContractCheckResult, ...{ id: string; success: boolean }[]];
      assert.equal(results[0].id, 'contract', 'the contract verdict is stored first, under the name gates require');
      assert.equal(results[0].success, true);
      assert.deepEqual(results[0].contract, { ref: 'contracts/cleaned_orders', version: 1, file: 'contracts/cleaned_orders/v1.yaml' });
      assert.ok(results.some((x) => x.id === 'contract:primary_key(order_id)'), 'the contract key is checked');
      assert.ok(results.some((x) => x.id === 'in_set(currency)'), "the dataset's own checks ran in the same pass");
    }
    // v2 promises a column the step does not produce, a different type, and only paid orders.
    writeV2(root, (t) =>
      t
        .replace('{ name: customer_id, type: BIGINT, nullable: false }', '{ name: customer_id, type: VARCHAR, nullable: false }')
        .replace('checks:\n', '  - { name: discount, type: DOUBLE, nullable: false }\nchecks:\n  - { check: in_set, column: status, values: [paid], name: paid_only }\n'),
    );
    await using ws = await workspace(root);
    const e = await runPipeline(ws, { pipeline: 'orders', partition: P1, environment: 'dev', actor: 't' }).catch((x: unknown) => x);
    assert.ok(e instanceof SluiceError && e.code === 'CONTRACT_BROKEN', String(e));
    assert.match(e.message, /^dataset cleaned_orders: output clean_orders\.r2\S* of step clean_orders \(v1\) breaks contract contracts\/cleaned_orders v2 \(3 violation\(s\)\); nothing was published/);
    assert.match(e.message, /column customer_id is BIGINT; the contract says VARCHAR/);
    assert.match(e.message, /column discount \(DOUBLE\) is missing/);
    assert.match(e.message, /paid_only failed: \d+ of \d+ rows unexpected.*refunded/s);
    assert.equal(e.place.file, 'contracts/cleaned_orders/v2.yaml');
    const [pub] = await ws.warehouse.currentPublications('cleaned_orders');
    assert.equal(pub?.versionId, firstPub, 'the previous publication stays in place');
    const failed = (await ws.store.runs.list({ status: 'failed' }))[0];
    assert.ok(failed);
    assert.match(failed.error ?? '', /breaks contract contracts\/cleaned_orders v2/);
    const [stored] = (await ws.store.checkResults.forRun(failed.id));
    const summary = (stored?.results as ContractCheckResult[])[0];
    assert.equal(summary?.success, false);
    assert.deepEqual(summary?.violations.filter((v) => v.breaking).map((v) => v.kind).sort(), ['check_failed', 'missing_column', 'wrong_type']);
  });

  test('through the CLI: a broken contract exits 6 naming the contract file; a malformed one exits 3 naming file, line and field', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir);
    const p = ['--project', root];
    writeV2(root, (t) => t.replace('{ name: channel, type: VARCHAR }', '{ name: channel, type: VARCHAR, nullable: false }\n  - { name: coupon, type: VARCHAR }'));
    const broken = sluice([...p, 'run', 'orders', '--partition', P1]);
    assert.equal(broken.code, 6, broken.stderr);
    assert.match(broken.stderr, /^error: contracts\/cleaned_orders\/v2\.yaml: dataset cleaned_orders: .* breaks contract contracts\/cleaned_orders v2 \(1 violation\(s\)\)/m);
    assert.match(broken.stderr, /column coupon \(VARCHAR\) is missing/);
    const json = sluice([...p, '--json', 'run', 'orders', '--partition', P1]);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string; file: string } }).error.code, 'CONTRACT_BROKEN');

    writeFileSync(join(root, 'contracts/cleaned_orders/v2.yaml'), 'dataset: cleaned_orders\ncolumns:\n  - { name: order_id, type: BIGINT, nullable: maybe }\n  - { name: amount, type: DOUBLE }\nprimary_key: [order_id]\nretention: 30d\nchecks:\n  - { check: between, column: amount_usd, min: 0 }\n');
    const malformed = sluice([...p, 'run', 'orders', '--partition', P1]);
    assert.equal(malformed.code, 3, malformed.stderr);
    assert.match(malformed.stderr, /contracts\/cleaned_orders\/v2\.yaml:6 retention: unknown field/);
    assert.match(malformed.stderr, /contracts\/cleaned_orders\/v2\.yaml:3 columns\.0\.nullable: nullable must be true or false/);
    const show = sluice([...p, 'contract', 'show', 'cleaned_orders']);
    assert.equal(show.code, 3);
    writeFileSync(join(root, 'contracts/cleaned_orders/v2.yaml'), 'dataset: cleaned_orders\ncolumns:\n  - { name: order_id, type: BIGINT }\n  - { name: amount, type: DOUBLE }\nchecks:\n  - { check: between, column: amount_usd, min: 0 }\n');
    const missingColumn = sluice([...p, 'run', 'orders', '--partition', P1]);
    assert.equal(missingColumn.code, 3);
    assert.match(missingColumn.stderr, /contracts\/cleaned_orders\/v2\.yaml:6 checks\.0\.column: between\(amount_usd\): column "amount_usd" does not exist in the contract's columns/);

    renameSync(join(root, 'contracts/cleaned_orders'), join(root, 'contracts/elsewhere'));
    const gone = sluice([...p, 'run', 'orders', '--partition', P1]);
    assert.equal(gone.code, 3);
    assert.match(gone.stderr, /pipelines\/orders\.yaml:\d+ datasets\.cleaned_orders\.contract: contract contracts\/cleaned_orders not found/);
    // Contracts are part of the project: while one is missing every command refuses, naming it.
    assert.equal(sluice([...p, 'publications', 'cleaned_orders']).code, 3);
    renameSync(join(root, 'contracts/elsewhere'), join(root, 'contracts/cleaned_orders'));
    writeFileSync(join(root, 'contracts/cleaned_orders/v2.yaml'), readFileSync(join(root, 'contracts/cleaned_orders/v1.yaml'), 'utf8').replace(/version: 1/, 'version: 2'));
    assert.equal(sluice([...p, '--json', 'publications', 'cleaned_orders']).stdout.trim(), '[]', 'nothing was ever published');
  });
});

describe('profiles: every published output is profiled and judged against its history', () => {
  test('profiles are stored after runs; a partition whose row count collapses is flagged as an anomaly, and the publish stands', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 10, ordersPerDay: 300 });
    const p = ['--project', root];
    const bf = sluice([...p, 'backfill', 'orders', '--from', '2026-11-01', '--to', '2026-11-09']);
    assert.equal(bf.code, 0, bf.stderr);
    assert.doesNotMatch(bf.stderr, /anomaly/, 'ordinary partitions raise no anomaly');
    // Partition 10 loses most of its orders upstream.
    const csv = join(root, 'data/orders/order_date=2026-11-10/data_0.csv');
    writeFileSync(csv, readFileSync(csv, 'utf8').split('\n').slice(0, 31).join('\n') + '\n');
    const run = sluice([...p, 'run', 'orders', '--partition', '2026-11-10']);
    assert.equal(run.code, 0, 'an anomaly is evidence, not a verdict: the run is published');
    assert.match(run.stderr, /warning: anomaly in cleaned_orders partition 2026-11-10 \(clean_orders\.r10\S*\): row_count: ANOMALY: value \d+ vs median \d+(\.5)? of 9 points/);

    const list = sluice([...p, 'profile', 'cleaned_orders']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /2026-11-01 .* exact\s+-\n/);
    assert.match(list.stdout, /2026-11-10 .* exact\s+row_count\n/);
    const one = JSON.parse(sluice([...p, '--json', 'profile', 'cleaned_orders', '--partition', '2026-11-10']).stdout) as { runId: number; profile: StoredProfile };
    const rows = one.profile.anomalies.find((a) => a.metric === 'row_count');
    assert.equal(rows?.flagged, true);
    assert.equal(rows?.direction, 'low');
    assert.equal(rows?.historyUsed, 9);
    assert.ok(one.profile.rowCount < 40 && (rows?.expected ?? 0) > 250);
    assert.equal(one.profile.anomalies.filter((a) => a.flagged).length, 1, 'null rates did not move');
    const amount = one.profile.columns.find((c) => c.name === 'amount');
    assert.ok(amount && amount.mean !== null && amount.quantiles !== null && amount.nullRate === 0);
    assert.equal(one.profile.columns.find((c) => c.name === 'currency')?.topValues?.length, 6);
    const text = sluice([...p, 'profile', 'cleaned_orders', '--partition', '2026-11-10']);
    assert.match(text.stdout, /row_count\s+ANOMALY\s+\d+\s+\d+/);
    const early = JSON.parse(sluice([...p, '--json', 'profile', 'cleaned_orders', '--partition', '2026-11-02']).stdout) as { profile: StoredProfile };
    assert.equal(early.profile.anomalies[0]?.verdict, 'insufficient_history', 'one point of history is not enough for a verdict');

    const db = new Database(join(root, '.sluice/sluice.db'));
    const counts = db.prepare(`SELECT dataset, count(*) AS n FROM profiles GROUP BY dataset ORDER BY dataset`).all() as { dataset: string; n: number }[];
    assert.deepEqual(counts, [{ dataset: 'cleaned_orders', n: 10 }, { dataset: 'daily_revenue', n: 10 }], 'every published output of every run is profiled');
    // Observers never decide: with the profile table gone the run still publishes, and says why no profile was kept.
    db.exec('DROP TABLE profiles');
    db.close();
    const again = sluice([...p, 'run', 'orders', '--partition', '2026-11-09']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /warning: could not profile cleaned_orders partition 2026-11-09 .*the publish stands/);
    assert.match(again.stdout, /published cleaned_orders 2026-11-09/);
  });

  test('a minimum volume: on a dataset of one or two rows a day, a day with two rows is no anomaly', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 1, ordersPerDay: 10 });
    const p = ['--project', root];
    // Eight days of one order, then a day of two: the row count "doubles" against a flat median of 1.
    rmSync(join(root, 'data/orders'), { recursive: true });
    for (let d = 1; d <= 9; d++) {
      const day = `2026-11-0${d}`;
      mkdirSync(join(root, `data/orders/order_date=${day}`), { recursive: true });
      const rows = Array.from({ length: d === 9 ? 2 : 1 }, (_, i) => `${d * 10 + i},1,${day} 10:00:00,USD,10.5,paid,web`);
      writeFileSync(join(root, `data/orders/order_date=${day}/data_0.csv`), `order_id,customer_id,ordered_at,currency,amount,status,channel\n${rows.join('\n')}\n`);
    }
    const bf = sluice([...p, 'backfill', 'orders', '--from', '2026-11-01', '--to', '2026-11-09']);
    assert.equal(bf.code, 0, bf.stderr);
    assert.doesNotMatch(bf.stderr, /anomaly/, 'no run warns of an anomaly');
    const list = sluice([...p, 'profile', 'cleaned_orders']);
    assert.match(list.stdout, /2026-11-09 .* exact\s+-\n/);
    assert.match(list.stdout, /\nno anomalies\n?$/);
    const one = JSON.parse(sluice([...p, '--json', 'profile', 'cleaned_orders', '--partition', '2026-11-09']).stdout) as { profile: StoredProfile };
    const rows = one.profile.anomalies.find((a) => a.metric === 'row_count');
    assert.deepEqual([one.profile.rowCount, rows?.expected, rows?.historyUsed, rows?.verdict, rows?.flagged], [2, 1, 8, 'insufficient_volume', false]);
    const text = sluice([...p, 'profile', 'cleaned_orders', '--partition', '2026-11-09']).stdout;
    assert.match(text, /anomaly verdicts \(.*7\+ points, 30\+ rows, a row count more than 5 rows off its median\)/);
    assert.match(text, /row_count\s+insufficient_volume\s+2\s+1\s/);
  });

  test('profile: false on a dataset keeps no profile of it (and so no anomaly verdicts); the others are still profiled', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 1, ordersPerDay: 200 });
    const file = join(root, 'pipelines/orders.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('    step: daily_revenue\n', '    step: daily_revenue\n    profile: false\n'));
    const run = sluice(['--project', root, 'run', 'orders', '--partition', '2026-11-01']);
    assert.equal(run.code, 0, run.stderr);
    const db = new Database(join(root, '.sluice/sluice.db'), { readonly: true });
    const counts = db.prepare(`SELECT dataset, count(*) AS n FROM profiles GROUP BY dataset ORDER BY dataset`).all();
    db.close();
    assert.deepEqual(counts, [{ dataset: 'cleaned_orders', n: 1 }]);
    writeFileSync(file, readFileSync(file, 'utf8').replace('profile: false', 'profile: sometimes'));
    const bad = sluice(['--project', root, 'validate']);
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /pipelines\/orders\.yaml:\d+ datasets\.daily_revenue\.profile/);
  });
});
