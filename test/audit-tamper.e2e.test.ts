import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { fileAuditAnchor } from '../src/app/audit-anchor.ts';
import { chainEntry, signCheckpoint, type AuditEntry } from '../src/governance/audit-chain.ts';
import { smallProject, runBin, type BinOutput } from './helpers.ts';

/**
 * The audit trail attacked as a store writer would, through the real bin: with SQL on the store
 * file (no key), and as someone who also stole the key and re-chained the trail. Each rewrite is
 * detected by `sluice audit verify` (exit 9), naming the entry or the record it no longer covers.
 */

const sluice = (root: string, home: string, args: string[]): BinOutput => runBin(args, { root, env: { SLUICE_HOME: home } });

const storeOf = (root: string): string => join(root, '.sluice', 'sluice.db');
const anchorDir = (root: string, home: string): string => dirname(fileAuditAnchor(`sqlite ${storeOf(root)}`, { SLUICE_HOME: home }).checkpointLocation);

interface Case {
  readonly root: string;
  readonly home: string;
  readonly key: Buffer;
  sql(statements: string): void;
  entries(): AuditEntry[];
  /** Rewrites the whole trail as someone holding the key would: entries re-chained, head and checkpoint moved. */
  rechain(entries: readonly AuditEntry[]): void;
  verify(): { code: number | null; stdout: string };
}

let base: { dir: string; root: string; home: string };

/** A copy of the base project, its store and its anchors (moved to the copy's store id). */
function copyCase(name: string): Case {
  const dir = join(base.dir, name);
  const root = join(dir, 'shop');
  const home = join(dir, 'home');
  cpSync(base.root, root, { recursive: true });
  cpSync(base.home, home, { recursive: true });
  renameSync(anchorDir(base.root, home), anchorDir(root, home));
  const key = Buffer.from(readFileSync(join(anchorDir(root, home), 'audit.key'), 'utf8').trim(), 'hex');
  const withDb = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(storeOf(root));
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  const entries = (): AuditEntry[] =>
    withDb((db) => (db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Record<string, string | number>[]).map((r) => ({ seq: Number(r['seq']), at: String(r['at']), actor: String(r['actor']), action: String(r['action']), target: String(r['target']), reason: String(r['reason']), details: JSON.parse(String(r['details'])) as Record<string, unknown>, prevHash: String(r['prev_hash']), alg: r['alg'] as AuditEntry['alg'], hash: String(r['hash']) })));
  return {
    root,
    home,
    key,
    sql: (statements) => withDb((db) => db.exec(statements)),
    entries,
    rechain(kept) {
      let prev: AuditEntry | undefined;
      const fresh: AuditEntry[] = [];
      for (const e of kept) {
        prev = chainEntry(prev, e, new Date(e.at), key);
        fresh.push(prev);
      }
      withDb((db) => {
        db.exec('DELETE FROM audit_log');
        const insert = db.prepare('INSERT INTO audit_log (seq, at, actor, action, target, reason, details, prev_hash, hash, alg) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
        for (const e of fresh) insert.run(e.seq, e.at, e.actor, e.action, e.target, e.reason, JSON.stringify(e.details), e.prevHash, e.hash, e.alg);
        if (prev) db.prepare(`UPDATE meta SET value = ? WHERE key = 'audit_head'`).run(JSON.stringify({ seq: prev.seq, hash: prev.hash }));
      });
      if (prev) writeFileSync(join(anchorDir(root, home), 'checkpoint.json'), JSON.stringify(signCheckpoint(key, prev, new Date())));
    },
    verify: () => sluice(root, home, ['audit', 'verify']),
  };
}

function broken(c: Case, expect: RegExp, what: string): void {
  const v = c.verify();
  assert.equal(v.code, 9, `${what}: audit verify must fail:\n${v.stdout}`);
  assert.match(v.stdout, expect, what);
}

describe('audit tamper: a store writer cannot rewrite the trail unnoticed', () => {
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-tamper-'));
    const root = await smallProject(dir, { days: 3, ordersPerDay: 200 });
    const home = join(dir, 'home');
    base = { dir, root, home };
    const run = (args: string[]): void => assert.equal(sluice(root, home, args).code, 0, args.join(' '));
    run(['run', 'orders', '--partition', '2026-11-01']);
    run(['run', 'orders', '--partition', '2026-11-02']);
    run(['flags', 'set', 'clean_orders_version', '--variant', 'v2', '--reason', 'try v2']);
    run(['run', 'orders', '--partition', '2026-11-03']);
    run(['republish', 'cleaned_orders', '--partition', '2026-11-01', '--version', 'clean_orders.r1', '--reason', 'again']);
    const v = sluice(root, home, ['audit', 'verify']);
    assert.equal(v.code, 0, v.stdout);
  });
  after(() => rmSync(base.dir, { recursive: true, force: true }));

  test('without the key: edits, deletions, reorderings, truncation and forged entries are named', () => {
    const cases: { what: string; tamper: (c: Case) => void; expect: RegExp }[] = [
      { what: 'edit an entry', tamper: (c) => c.sql(`UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 4`), expect: /BROKEN at entry 4: entry 4 was edited or forged/ },
      { what: 'edit and recompute the hash without the key', tamper: (c) => c.sql(`UPDATE audit_log SET actor = 'mallory', hash = '${'a'.repeat(64)}' WHERE seq = 2`), expect: /BROKEN at entry 2/ },
      { what: 'delete an entry', tamper: (c) => c.sql('DELETE FROM audit_log WHERE seq = 3'), expect: /entry 3 is missing/ },
      { what: 'reorder two entries', tamper: (c) => c.sql('UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -1'), expect: /BROKEN at entry 2/ },
      { what: 'truncate, leaving the head', tamper: (c) => c.sql(`DELETE FROM audit_log WHERE seq > ${c.entries().length - 3}`), expect: /checkpoint outside the store names entry/ },
      {
        what: 'truncate and move the head',
        tamper: (c) => {
          const es = c.entries();
          const last = es[es.length - 4];
          c.sql(`DELETE FROM audit_log WHERE seq > ${last?.seq}; UPDATE meta SET value = '${JSON.stringify({ seq: last?.seq, hash: last?.hash })}' WHERE key = 'audit_head'`);
        },
        expect: /entries were removed from the end/,
      },
      { what: 'delete every entry and the head', tamper: (c) => c.sql(`DELETE FROM audit_log; DELETE FROM meta WHERE key = 'audit_head'`), expect: /log ends at entry 0 but the checkpoint outside the store names entry \d+/ },
      {
        what: 'append a forged entry without the key',
        tamper: (c) => {
          const es = c.entries();
          const e = chainEntry(es[es.length - 1], { actor: 'mallory', action: 'flag.set', target: 'flag/dev/clean_orders_version', reason: 'forged' }, new Date(), Buffer.alloc(32, 7));
          c.sql(`INSERT INTO audit_log (seq, at, actor, action, target, reason, details, prev_hash, hash, alg) VALUES (${e.seq}, '${e.at}', '${e.actor}', '${e.action}', '${e.target}', '${e.reason}', '{}', '${e.prevHash}', '${e.hash}', '${e.alg}')`);
        },
        expect: /entry \d+ was edited or forged/,
      },
      { what: 'the checkpoint outside the store removed', tamper: (c) => rmSync(join(anchorDir(c.root, c.home), 'checkpoint.json')), expect: /no checkpoint of this trail outside the store/ },
      { what: 'the key replaced by another', tamper: (c) => writeFileSync(join(anchorDir(c.root, c.home), 'audit.key'), `${'ab'.repeat(32)}\n`), expect: /entry 1 was edited or forged/ },
      { what: 'the whole store deleted', tamper: (c) => rmSync(storeOf(c.root)), expect: /the store sqlite .* is gone, but the checkpoint .* anchors entries of it/ },
    ];
    for (const [i, k] of cases.entries()) {
      const c = copyCase(`nokey-${i}`);
      assert.equal(c.verify().code, 0, `${k.what}: the copy verifies before the tamper`);
      k.tamper(c);
      broken(c, k.expect, k.what);
    }
  });

  test('with the stolen key: a re-chained trail still has to cover every run, flag revision and publication', async () => {
    const cases: { what: string; tamper: (c: Case) => Promise<void> | void; expect: RegExp }[] = [
      { what: 'entries of a run dropped and the trail re-chained', tamper: (c) => c.rechain(c.entries().filter((e) => e.target !== 'run/2')), expect: /run 2 \(dev\) has no run\.started entry[\s\S]*run 2 is succeeded but the trail has no run\.finished entry/ },
      { what: "a flag change's entry dropped", tamper: (c) => c.rechain(c.entries().filter((e) => e.action !== 'flag.set')), expect: /flag clean_orders_version revision 1 in dev \(by alice at .*\) has no audit entry/ },
      { what: "a publish's entry dropped", tamper: (c) => c.rechain(c.entries().filter((e) => !(e.action === 'publish' && e.target === 'dataset/cleaned_orders/2026-11-02'))), expect: /cleaned_orders 2026-11-02 in dev was published at .* \(clean_orders\.r2, by run 2\) with no publish or republish entry/ },
      { what: "a manual republish's entry dropped", tamper: (c) => c.rechain(c.entries().filter((e) => e.action !== 'republish')), expect: /cleaned_orders 2026-11-01 in dev was published at .* \(clean_orders\.r1, by intent republish-[^)]+\) with no publish or republish entry/ },
      { what: 'a run record deleted from the store', tamper: (c) => c.sql('PRAGMA foreign_keys = OFF; DELETE FROM runs WHERE id = 1'), expect: /entry \d+ records the start of run 1, which the store does not have/ },
      { what: 'a flag revision deleted from the store', tamper: (c) => c.sql('DELETE FROM flag_revisions'), expect: /records revision 1 of dev\/clean_orders_version, which the store does not have/ },
      {
        what: "a publication deleted from the warehouse's log",
        tamper: (c) => {
          // The warehouse's publication log is in its catalog file, beside the data files.
          const db = new Database(join(c.root, '.sluice', 'warehouse-dev', 'catalog.db'));
          db.exec(`DELETE FROM publication_log WHERE dataset = 'daily_revenue' AND partition = '2026-11-03'`);
          db.close();
        },
        expect: /records a publish of daily_revenue 2026-11-03 in dev \(#\d+\) that the warehouse's publication log does not show/,
      },
    ];
    for (const [i, k] of cases.entries()) {
      const c = copyCase(`key-${i}`);
      await k.tamper(c);
      broken(c, k.expect, k.what);
    }
    // The re-chained trail itself verifies: it is the coverage that catches what it lost.
    const c = copyCase('key-chain');
    c.rechain(c.entries().filter((e) => e.target !== 'run/2'));
    assert.match(c.verify().stdout, /audit chain ok/);
    assert.ok(existsSync(storeOf(c.root)));
  });
});
