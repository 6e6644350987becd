import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openWorkspace } from '../src/app/open-workspace.ts';
import { ManualClock } from '../src/util/clock.ts';
import { sameRows, smallProject, tempDir, runBin, type BinOutput } from './helpers.ts';

const sluice = (root: string, args: string[], actor = 'alice'): BinOutput => runBin(args, { root, actor });

const plan = (name: string, onFail: 'rollback' | 'fail', candidate = 'v2'): string => `name: ${name}
step: orders.clean_orders
baseline: v1
candidate: ${candidate}
approvals: { before: [] }
gates:
  checks: { kind: checks, on_fail: ${onFail} }
  soak: { kind: soak, min_batches: 1 }
environments:
  - name: dev
    stages:
      - { mode: canary, percent: 50, gates: [checks, soak] }
      - { mode: full, gates: [checks, soak] }
`;

/** A project whose v2 of clean_orders nulls the customer of every order id ending in 7: an error check fails on it. */
async function project(dir: string, days = 4): Promise<string> {
  const root = await smallProject(dir, { days, ordersPerDay: 400 });
  const v2 = join(root, 'steps/clean_orders/v2.sql');
  writeFileSync(v2, readFileSync(v2, 'utf8').replace('  o.customer_id,', '  CASE WHEN o.order_id % 10 = 7 THEN NULL ELSE o.customer_id END AS customer_id,'));
  rmSync(join(root, 'rollouts'), { recursive: true, force: true });
  mkdirSync(join(root, 'rollouts'));
  writeFileSync(join(root, 'rollouts/strict.yaml'), plan('strict', 'rollback'));
  writeFileSync(join(root, 'rollouts/careful.yaml'), plan('careful', 'fail'));
  return root;
}

describe('trust: a failing candidate fails the candidate, not the batch', () => {
  test('an error check broken by the blend: the batch publishes the baseline, downstream from it; checks on_fail rollback rolls back at once and the run exits 11', async () => {
    using tmp = tempDir();
    const root = await project(tmp.dir);
    assert.equal(sluice(root, ['rollout', 'start', 'strict', '--reason', 'try']).code, 0);
    const r = sluice(root, ['run', 'orders', '--partition', '2026-11-01']);
    assert.equal(r.code, 11, r.stdout + r.stderr);
    assert.match(r.stdout, /candidate of clean_orders not published: the candidate failed contract: contract:not_null\(customer_id\) failed/);
    assert.match(r.stdout, /published cleaned_orders 2026-11-01 <- clean_orders\.r1\.v1 \(baseline v1 alone\)/);
    assert.match(r.stdout, /rollout strict rolled back because of this batch; the batch published the baseline \(exit 11: do not retry\)/);
    assert.match(r.stdout, /baseline\s+v1\s+\d+\s+clean_orders\.r1\.v1/, 'the text names the baseline it computed');
    assert.match(r.stdout, /candidate\s+v2\s+\d+\s+clean_orders\.r1\.v2/, 'and the candidate');
    assert.match(r.stdout, /blend\s+v1\+v2@50%\s+\d+\s+clean_orders\.r1/, 'and the blend');
    const status = JSON.parse(sluice(root, ['--json', 'rollout', 'status', 'strict']).stdout) as { state: string; reason: string };
    assert.equal(status.state, 'rolled_back');
    assert.match(status.reason, /gate checks/);
    await using ws = await openWorkspace(root, 'dev', { clock: new ManualClock('2026-11-20T10:00:00Z'), log: () => undefined });
    const cleaned = await ws.warehouse.datasetTable('cleaned_orders');
    const revenue = await ws.warehouse.datasetTable('daily_revenue');
    const base = await ws.warehouse.outputVersion('clean_orders.r1.v1');
    assert.ok(base && (await sameRows(ws.warehouse, `SELECT * FROM ${cleaned}`, `SELECT * FROM ${base.table}`)));
    const expected = `SELECT order_date, country, count(*) FILTER (WHERE status = 'paid') AS orders, count(*) FILTER (WHERE status = 'refunded') AS refunds, round(sum(CASE WHEN status = 'paid' THEN amount_usd ELSE -amount_usd END), 2) AS net_revenue_usd FROM ${base.table} GROUP BY order_date, country`;
    assert.ok(await sameRows(ws.warehouse, `SELECT * FROM ${revenue}`, expected), 'the downstream dataset was computed from the baseline, not the blend');
    for (const d of ['cleaned_orders', 'daily_revenue']) {
      for (const h of await ws.warehouse.publicationHistory(d, '2026-11-01')) assert.ok(!(await ws.warehouse.outputVersion(h.versionId))?.stepVersion.includes('v2'), `${d} never showed a v2 row`);
    }
  });

  test('checks on_fail pause: the rollout pauses and says why; a broken candidate SQL also publishes the baseline', async () => {
    using tmp = tempDir();
    const root = await project(tmp.dir);
    assert.equal(sluice(root, ['rollout', 'start', 'careful', '--reason', 'try']).code, 0);
    const r = sluice(root, ['run', 'orders', '--partition', '2026-11-01']);
    assert.equal(r.code, 11, r.stdout + r.stderr);
    assert.match(r.stdout, /rollout careful paused because of this batch/);
    const status = JSON.parse(sluice(root, ['--json', 'rollout', 'status', 'careful']).stdout) as { state: string; reason: string };
    assert.equal(status.state, 'paused');
    assert.match(status.reason, /gate failed: gate checks: check\(s\) failed on the candidate: contract, .*blend\.not_null\(customer_id\)/);
    assert.equal(sluice(root, ['rollout', 'abort', 'careful', '--reason', 'done']).code, 0);
    // A candidate whose SQL fails while it runs: the baseline is published and the batch does not fail.
    const v1 = readFileSync(join(root, 'steps/clean_orders/v1.sql'), 'utf8');
    writeFileSync(join(root, 'steps/clean_orders/v2.sql'), v1.replace('  o.channel', '  CAST(o.channel AS INTEGER) AS channel'));
    assert.equal(sluice(root, ['rollout', 'start', 'strict', '--reason', 'again']).code, 0);
    const r2 = sluice(root, ['run', 'orders', '--partition', '2026-11-02']);
    assert.equal(r2.code, 11, r2.stdout + r2.stderr);
    assert.match(r2.stdout, /candidate of clean_orders not published: step clean_orders version v2 failed: .*Conversion Error/);
    assert.match(r2.stdout, /published cleaned_orders 2026-11-02 <- clean_orders\.r2\.v1 \(baseline v1 alone\)/);
  });
});

describe('trust: ended rollouts stay ended', () => {
  test('a plan retried after a rollback is a new attempt; the first attempt acts on none of its data, and a manual republish after the decision stands', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 4, ordersPerDay: 400 });
    rmSync(join(root, 'rollouts'), { recursive: true, force: true });
    mkdirSync(join(root, 'rollouts'));
    writeFileSync(join(root, 'rollouts/ship.yaml'), plan('ship', 'rollback').replace('min_batches: 1', 'min_batches: 3'));
    await using ws = await openWorkspace(root, 'dev', { clock: new ManualClock('2026-11-20T10:00:00Z'), log: () => undefined });
    const run = (partition: string) => ws.run({ pipeline: 'orders', partition, environment: 'dev', actor: 's' });
    const plain = await run('2026-11-02');
    await ws.rollouts.start('ship', 'alice', 'first');
    const a1 = await run('2026-11-01');
    const blend1 = a1.result.steps.find((s) => s.step === 'clean_orders')?.output?.id;
    assert.match(blend1 ?? '', /^clean_orders\.r\d+$/, 'the first attempt published a blend');
    await run('2026-11-02');
    // Someone republishes 2026-11-02 by hand after the first attempt's run; the rollback must leave it.
    const older = plain.result.steps.find((s) => s.step === 'clean_orders')?.output;
    assert.ok(older);
    await ws.warehouse.publish([{ dataset: 'cleaned_orders', partitionColumn: 'order_date', partition: '2026-11-02', versionId: older.id }], { runId: null, actor: 'ops', reason: 'by hand', at: ws.clock.now() });
    const rb = await ws.rollouts.dispatch('ship', { kind: 'rollback', actor: 'bob', reason: 'first attempt off' });
    assert.equal(rb.state.kind, 'rolled_back');
    const now = new Map((await ws.warehouse.currentPublications('cleaned_orders')).map((p) => [p.partition, p.versionId]));
    assert.equal(now.get('2026-11-01'), a1.result.steps.find((s) => s.step === 'clean_orders')?.baselineOutput?.id, 'its own blend is restored to its baseline');
    assert.equal(now.get('2026-11-02'), older.id, 'the later manual publication stands');
    assert.ok((await ws.store.audit.list({ action: 'republish.skipped' })).some((e) => e.target === 'dataset/cleaned_orders/2026-11-02'), 'and the audit trail says it was left alone');

    const second = await ws.rollouts.start('ship', 'alice', 'again');
    assert.equal(second.id, 'ship#2');
    const b1 = await run('2026-11-03');
    const b2 = await run('2026-11-01');
    const blend2 = b2.result.steps.find((s) => s.step === 'clean_orders')?.output?.id ?? '';
    assert.ok(b1.rollouts.every((o) => o.id === 'ship#2') && b2.rollouts.every((o) => o.id === 'ship#2'), 'runs report only to the attempt they pinned');
    // The first attempt saw nothing of the second: its log and state hold only its own runs.
    const first = await ws.rollouts.attempt('ship');
    assert.equal(first?.state.kind, 'rolled_back');
    const firstRuns = new Set((await ws.store.rollouts.log('ship')).flatMap((e) => (e.type === 'batch' ? [e.batch.runId] : [])));
    assert.deepEqual([...firstRuns].sort(), [String(a1.result.run.id), String(a1.result.run.id + 1)].sort(), 'the first attempt recorded only its own two batches');
    assert.ok(first && first.state.published.every((p) => Number(p.runId) <= a1.result.run.id + 1));
    const shown = new Map((await ws.warehouse.currentPublications('cleaned_orders')).map((p) => [p.partition, p.versionId]));
    assert.equal(shown.get('2026-11-01'), blend2, "the second attempt's publication is untouched");
    const pub = (await ws.warehouse.currentPublications('cleaned_orders')).find((p) => p.partition === '2026-11-01');
    assert.equal(pub?.rollout, 'ship#2', 'the publication records the attempt that produced it');
    assert.equal((await ws.rollouts.state('ship')).id, 'ship#2', 'commands by name act on the latest attempt');
  });
});

describe('trust: the run says what happened', () => {
  test('run-show names every computed version and what each partition shows now; backfill exit codes: 5 over 6 over 11', async () => {
    using tmp = tempDir();
    const root = await project(tmp.dir, 5);
    assert.equal(sluice(root, ['run', 'orders', '--partition', '2026-11-01']).code, 0);
    assert.equal(sluice(root, ['rollout', 'start', 'strict', '--reason', 'try']).code, 0);
    const b = sluice(root, ['backfill', 'orders', '--from', '2026-11-02', '--to', '2026-11-03']);
    assert.equal(b.code, 11, b.stdout + b.stderr);
    assert.match(b.stdout, /rollout strict rolled back during the backfill; its batches published the baseline/);
    assert.match(b.stdout, /rows published: cleaned_orders \d+, daily_revenue \d+/, 'rows per dataset, not the sum over steps');
    // A later republish of run 1's partition shows in run-show.
    const pubs = JSON.parse(sluice(root, ['--json', 'publications', 'cleaned_orders']).stdout) as { partition: string; versionId: string }[];
    assert.equal(pubs.find((p) => p.partition === '2026-11-01')?.versionId, 'clean_orders.r1');
    const show1 = sluice(root, ['run-show', '2']);
    assert.equal(show1.code, 0, show1.stderr);
    assert.match(show1.stdout, /computed:[\s\S]*baseline\s+v1[\s\S]*candidate\s+v2[\s\S]*blend\s+v1\+v2@50%/);
    assert.match(show1.stdout, /pinned to: clean_orders: rollout strict/);
    assert.match(show1.stdout, /now cleaned_orders 2026-11-02 shows clean_orders\.r2\.v1 \(this run\)/);
    assert.equal(sluice(root, ['republish', 'cleaned_orders', '--partition', '2026-11-01', '--version', 'clean_orders.r1', '--reason', 'again']).code, 0);
    // Missing source folder: a failed partition; and a broken error check fails checks on another day.
    const failed = sluice(root, ['backfill', 'orders', '--from', '2026-11-04', '--to', '2026-11-09']);
    assert.equal(failed.code, 5, 'failed partitions win over everything else');
    writeFileSync(join(root, 'pipelines/orders.yaml'), readFileSync(join(root, 'pipelines/orders.yaml'), 'utf8').replace("      - { check: unique, column: order_id }", "      - { check: unique, column: order_id }\n      - { check: in_set, column: channel, values: [web] }"));
    const checks = sluice(root, ['backfill', 'orders', '--from', '2026-11-04', '--to', '2026-11-05']);
    assert.equal(checks.code, 6, `only check failures: exit 6\n${checks.stdout}`);
  });
});

describe('trust: promotion lands in the project', () => {
  test('plan shows the promoted baseline, plan --write puts it in the flag file keeping its comments and pins the others; plan exits 12 while they differ', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 3, ordersPerDay: 200 });
    rmSync(join(root, 'rollouts'), { recursive: true, force: true });
    mkdirSync(join(root, 'rollouts'));
    writeFileSync(join(root, 'rollouts/ship.yaml'), `name: ship\nstep: orders.clean_orders\nbaseline: v1\ncandidate: v2\napprovals: { before: [] }\nenvironments:\n  - name: dev\n    stages:\n      - { mode: full }\n`);
    assert.equal(sluice(root, ['plan']).code, 0, 'a fresh project deploys what its files say');
    assert.equal(sluice(root, ['rollout', 'start', 'ship', '--reason', 'go']).code, 0);
    const during = sluice(root, ['plan']);
    assert.equal(during.code, 0, `a rollout in progress is listed but does not count\n${during.stdout}`);
    assert.match(during.stdout, /rollout\s+ship/);
    const run = sluice(root, ['run', 'orders', '--partition', '2026-11-01']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const status = JSON.parse(sluice(root, ['--json', 'rollout', 'status', 'ship']).stdout) as { state: string };
    assert.equal(status.state, 'promoted');
    const report = sluice(root, ['rollout', 'report', 'ship']).stdout;
    assert.match(report, /v2 is now the baseline in dev; test, stage, prod \(not in the plan\) still run v1/);
    const p = sluice(root, ['plan']);
    assert.equal(p.code, 12, p.stdout);
    assert.match(p.stdout, /dev\s+baseline\s+orders\.clean_orders \(clean_orders_version\)\s+v1\s+v2/);
    const before = readFileSync(join(root, 'flags/clean_orders_rollout.yaml'), 'utf8');
    const w = sluice(root, ['plan', '--write']);
    assert.equal(w.code, 0, w.stdout + w.stderr);
    assert.match(w.stdout, /wrote flags\/clean_orders_rollout\.yaml default_variant: v1 -> v2 .*pinned test, stage, prod at v1 first/);
    const after = readFileSync(join(root, 'flags/clean_orders_rollout.yaml'), 'utf8');
    assert.equal(after, before.replace('default_variant: v1', 'default_variant: v2'), 'only the baseline changed; every comment is kept');
    const prod = JSON.parse(sluice(root, ['--json', '--env', 'prod', 'flags', 'show', 'clean_orders_version']).stdout) as { flag: { defaultVariant: string } };
    assert.equal(prod.flag.defaultVariant, 'v1', 'prod still runs v1 after the file changed');
    const dev = JSON.parse(sluice(root, ['--json', 'flags', 'show', 'clean_orders_version']).stdout) as { flag: { defaultVariant: string } };
    assert.equal(dev.flag.defaultVariant, 'v2');
    const left = sluice(root, ['plan']);
    assert.equal(left.code, 12);
    assert.match(left.stdout, /test, stage, prod run an older baseline than the files/);
    assert.doesNotMatch(left.stdout, /^dev /m, 'dev now runs what the files say');
  });
});
