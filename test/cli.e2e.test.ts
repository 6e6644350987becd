import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir, runBin, type BinOutput } from './helpers.ts';

const sluice = (args: string[], env: Record<string, string> = {}): BinOutput => runBin(args, { actor: 'carol', env });

describe('cli: the user-facing commands', () => {
  test('init, validate, run, backfill, runs, run-show, publications, republish and audit, as text and JSON', () => {
    using tmp = tempDir();
    const root = join(tmp.dir, 'shop');
    assert.equal(sluice(['init', root]).code, 0);
    const p = ['--project', root];
    const v = sluice([...p, 'validate']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /shop: ok/);

    const run = sluice([...p, '--json', 'run', 'orders', '--partition', '2026-11-01']);
    assert.equal(run.code, 0, run.stderr);
    const runJson = JSON.parse(run.stdout) as { run: { id: number; status: string; actor: string }; publications: { dataset: string; versionId: string }[] };
    assert.equal(runJson.run.status, 'succeeded');
    assert.equal(runJson.run.actor, 'carol', 'the actor comes from SLUICE_ACTOR');

    const bf = sluice([...p, 'backfill', 'orders', '--from', '2026-11-01', '--to', '2026-11-03']);
    assert.equal(bf.code, 0, bf.stderr);
    assert.match(bf.stdout, /3 of 3 partitions ok/);
    const bad = sluice([...p, 'backfill', 'orders', '--from', '2026-11-02', '--to', '2026-11-05']);
    assert.equal(bad.code, 5, 'a backfill with failed partitions exits non-zero');
    assert.match(bad.stdout, /2026-11-04\s+FAILED.*no folder order_date=2026-11-04/);

    const runs = JSON.parse(sluice([...p, '--json', 'runs']).stdout) as { id: number; status: string }[];
    assert.equal(runs.filter((r) => r.status === 'succeeded').length, 6);
    const show = sluice([...p, 'run-show', String(runJson.run.id)]);
    assert.match(show.stdout, /clean_orders v1 [0-9a-f]{12}/);

    const pubs = JSON.parse(sluice([...p, '--json', 'publications', 'cleaned_orders', '--partition', '2026-11-01']).stdout) as { versionId: string }[];
    assert.equal(pubs.length, 2, 'the run and the first backfill each published 2026-11-01');
    const first = pubs[0]?.versionId ?? '';
    const rep = sluice([...p, 'republish', 'cleaned_orders', '--partition', '2026-11-01', '--version', first, '--reason', 'test']);
    assert.equal(rep.code, 0, rep.stderr);
    assert.match(rep.stdout, new RegExp(`published cleaned_orders 2026-11-01 <- ${first.replace('.', '\\.')}`));
    const wrongStep = sluice([...p, 'republish', 'cleaned_orders', '--partition', '2026-11-01', '--version', first.replace('clean_orders', 'daily_revenue')]);
    assert.equal(wrongStep.code, 2);
    assert.match(wrongStep.stderr, /is of step daily_revenue, but cleaned_orders publishes step clean_orders/);

    const log = sluice([...p, 'audit', 'log']);
    assert.match(log.stdout, /republish\s+dataset\/cleaned_orders\/2026-11-01\s+test/);
    assert.equal(sluice([...p, 'audit', 'verify']).code, 0);
    const db = new Database(join(root, '.sluice/sluice.db'));
    db.prepare(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`).run();
    db.close();
    const broken = sluice([...p, 'audit', 'verify']);
    assert.equal(broken.code, 9);
    assert.match(broken.stdout, /BROKEN at entry 2/);
  });

  test('bad input: clear message with file and line, non-zero exit', () => {
    using tmp = tempDir();
    const root = join(tmp.dir, 'shop');
    sluice(['init', root]);
    writeFileSync(join(root, 'pipelines/orders.yaml'), 'name: orders\nsteps:\n  a: {versions: {v1: {sql: nope.sql}}}\n  b: [\n');
    const r = sluice(['--project', root, 'validate']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^error: pipelines\/orders\.yaml:5:1 invalid YAML/);
    const j = sluice(['--project', root, '--json', 'run', 'orders', '--partition', 'x']);
    assert.equal(j.code, 3);
    assert.equal((JSON.parse(j.stdout) as { error: { code: string } }).error.code, 'CONFIG_INVALID');
    assert.equal(sluice(['--project', root, 'run', 'orders', '--no-such-option']).code, 2, 'an unknown option is a usage error, before the project is read');
    assert.equal(sluice(['--project', tmp.dir, 'runs']).code, 3, 'no sluice.yaml');
  });
});
