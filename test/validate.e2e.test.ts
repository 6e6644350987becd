import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { smallProject, tempDir, sluiceBin } from './helpers.ts';

/**
 * `sluice validate` is the whole check, through the real bin: step SQL bound by the engine against
 * declared source columns, file headers and earlier steps' outputs; checks' columns, types and
 * regexes; rollout plans; all problems at once, with file, line and field; nothing written. `run`
 * and `rollout start` refuse the same problems before they write anything.
 */

const sluice = sluiceBin;

function edit(root: string, rel: string, from: string | RegExp, to: string): void {
  const p = join(root, rel);
  const before = readFileSync(p, 'utf8');
  const after = before.replace(from, to);
  assert.notEqual(after, before, `${rel}: ${String(from)} was to be replaced`);
  writeFileSync(p, after);
}

/** Every file under the project's state folder, with its size: validate must leave it as it was. */
function state(root: string): string {
  const dir = join(root, '.sluice');
  if (!existsSync(dir)) return '(none)';
  return readdirSync(dir, { recursive: true })
    .map(String)
    .sort()
    .map((f) => `${f}:${statSync(join(dir, f)).isFile() ? statSync(join(dir, f)).size : 'dir'}`)
    .join(',');
}

describe('validate is the whole check', () => {
  test('a clean project validates; every kind of problem is then reported at once with file, line and field, and nothing is written', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 1, ordersPerDay: 50 });
    const clean = sluice(root, ['validate']);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, /ok/);
    const before = state(root);

    edit(root, 'steps/clean_orders/v2.sql', 'o.customer_id,', 'o.custmer_id,');
    edit(root, 'steps/clean_orders/v3.sql', /^SELECT/m, 'SELEC');
    edit(root, 'steps/daily_revenue/v1.sql', 'sum(CASE', 'sum(status) + sum(CASE');
    edit(root, 'pipelines/orders.yaml', '- { check: not_null, column: customer_id }', "- { check: not_null, column: customer_idd }\n      - { check: regex, column: currency, pattern: '([' }\n      - { check: between, column: currency, min: 0 }");
    writeFileSync(
      join(root, 'rollouts/bad.yaml'),
      'name: bad\nstep: orders.clean_orders\nbaseline: v1\ncandidate: v2\napprovals: { required: 0 }\ngates:\n  win: { kind: window, zone: Mars/Olympus }\n  ok: { kind: approval, required: 0 }\nenvironments:\n  - name: dev\n    stages:\n      - { mode: canary, percent: -10, gates: [win, ok] }\n',
    );
    const r = sluice(root, ['validate']);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    const expected: [RegExp, string][] = [
      [/steps\/clean_orders\/v3\.sql:\d+:\d+ \(step clean_orders version v3\) the SQL parser error: syntax error at or near "SELEC"/, 'a statement that does not parse'],
      [/steps\/clean_orders\/v2\.sql:4 \(step clean_orders version v2\) .*"custmer_id"/, 'a misspelt column, at its line'],
      [/steps\/daily_revenue\/v1\.sql:\d+ \(step daily_revenue version v1\) .*Binder Error.*sum/, 'a type error in a later step, bound against the earlier step\'s output'],
      [/pipelines\/orders\.yaml:\d+ datasets\.cleaned_orders\.checks\.0\.column: not_null\(customer_idd\): column "customer_idd" does not exist/, 'a check on a column that is not there'],
      [/pipelines\/orders\.yaml:\d+ datasets\.cleaned_orders\.checks\.1\.pattern: .*invalid regular expression "\(\["/, 'a regex the engine cannot compile'],
      [/pipelines\/orders\.yaml:\d+ datasets\.cleaned_orders\.checks\.2.*currency/, 'a numeric bound on a text column'],
      [/rollouts\/bad\.yaml:\d+ approvals\.required: must be at least 1/, 'approvals that nobody has to give'],
      [/rollouts\/bad\.yaml:\d+ gates\.win\.zone: unknown time zone "Mars\/Olympus"/, 'an unknown time zone'],
      [/rollouts\/bad\.yaml:\d+ gates\.ok\.required: must be at least 1/, 'an approval gate that needs nobody'],
      [/rollouts\/bad\.yaml:\d+ environments\.0\.stages\.0\.percent: must be at least 0, got -10/, 'a negative percentage'],
    ];
    for (const [re, what] of expected) assert.match(r.stderr, re, `${what}:\n${r.stderr}`);
    assert.equal(state(root), before, 'validate wrote nothing');
  });

  test('run and rollout start refuse the same problems before they write anything: no run row, no audit entry, no output version', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 1, ordersPerDay: 50 });
    edit(root, 'pipelines/orders.yaml', '- { check: not_null, column: customer_id }', "- { check: regex, column: currency, pattern: '([' }");
    const run = sluice(root, ['run', 'orders', '--partition', '2026-11-01']);
    assert.equal(run.code, 3, run.stdout + run.stderr);
    assert.match(run.stderr, /invalid regular expression/);
    assert.ok(!existsSync(join(root, '.sluice', 'sluice.db')) || JSON.parse(sluice(root, ['--json', 'runs']).stdout).length === 0, 'no run was recorded');
    const start = sluice(root, ['rollout', 'start', 'clean-orders-v2']);
    assert.equal(start.code, 3, start.stdout + start.stderr);
    const log = sluice(root, ['--json', 'audit', 'log']);
    assert.deepEqual(JSON.parse(log.stdout), [], 'not one audit entry');
    const pubs = sluice(root, ['--json', 'publications', 'cleaned_orders']);
    assert.deepEqual(JSON.parse(pubs.stdout), [], 'nothing published');
  });

  test('a source without declared columns is bound through one of its files\' header; a hive source gets its partition column from the folders', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 1, ordersPerDay: 50 });
    // customers.csv declares no columns: its header is what step SQL binds against.
    edit(root, 'steps/clean_orders/v1.sql', /c\.country/g, 'c.countryy');
    const r = sluice(root, ['validate']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /steps\/clean_orders\/v1\.sql:\d+ .*countryy/);
  });

  test('a CSV whose header is not the declared columns is refused by validate, naming the source, the file and what differs (as the run would)', async () => {
    using tmp = tempDir();
    const root = await smallProject(tmp.dir, { days: 2, ordersPerDay: 50 });
    const csv = join(root, 'data/orders/order_date=2026-11-02/data_0.csv');
    writeFileSync(csv, readFileSync(csv, 'utf8').replace(/^order_id,/, 'id,'));
    const before = state(root);
    const r = sluice(root, ['validate']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /pipelines\/orders\.yaml:\d+ sources\.raw_orders\.columns: source raw_orders: \S*order_date=2026-11-02\/data_0\.csv: columns do not match the declared ones .*missing order_id; unexpected id/);
    assert.equal(state(root), before, 'nothing written');
    // A run checks only its own partition's files: the bad file of 2026-11-02 does not block 2026-11-01.
    assert.equal(sluice(root, ['run', 'orders', '--partition', '2026-11-01']).code, 0);
    const other = sluice(root, ['run', 'orders', '--partition', '2026-11-02']);
    assert.equal(other.code, 5, other.stderr);
    assert.match(other.stderr, /order_date=2026-11-02\/data_0\.csv: columns do not match the declared ones/);
  });
});
