import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from './sqlite-store.ts';
import { verifyAuditChain } from '../../governance/audit-chain.ts';

function storeWithEntries(n: number): { path: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-audit-'));
  const path = join(dir, 'm.db');
  const s = new SqliteStore(path);
  for (let i = 1; i <= n; i++) s.appendAudit({ actor: `u${i}`, action: 'flag.set', target: `flag/f${i}`, reason: `r${i}`, details: { i } }, new Date(Date.UTC(2026, 10, i)));
  s.close();
  return { path, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

function verify(path: string) {
  const s = new SqliteStore(path);
  try {
    return verifyAuditChain(s.auditLog(), s.auditHead());
  } finally {
    s.close();
  }
}

function tamper(path: string, sql: string): void {
  const db = new Database(path);
  db.exec(sql);
  db.close();
}

describe('invariant: the audit log is append-only and verifiable', () => {
  test('an untouched log verifies', () => {
    using f = storeWithEntries(5);
    assert.deepEqual({ ...verify(f.path), head: undefined }, { ok: true, entries: 5, head: undefined });
  });

  test('an edited entry is named', () => {
    using f = storeWithEntries(5);
    tamper(f.path, `UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 3`);
    const v = verify(f.path);
    assert.equal(v.ok, false);
    assert.ok(!v.ok && v.badSeq === 3 && /edited/.test(v.problem));
  });

  test('a removed entry is named, also at the end of the log', () => {
    using f = storeWithEntries(5);
    tamper(f.path, `DELETE FROM audit_log WHERE seq = 2`);
    const v = verify(f.path);
    assert.ok(!v.ok && v.badSeq === 3 && /entry 2 is missing/.test(v.problem));
    using g = storeWithEntries(5);
    tamper(g.path, `DELETE FROM audit_log WHERE seq = 5`);
    const w = verify(g.path);
    assert.ok(!w.ok && /removed from the end/.test(w.problem));
  });

  test('reordered entries are named', () => {
    using f = storeWithEntries(5);
    // Swap entries 2 and 3: each keeps its content and hash but takes the other's place in the chain.
    tamper(f.path, `UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -1;`);
    const v = verify(f.path);
    assert.ok(!v.ok && v.badSeq === 2, JSON.stringify(v));
  });

  test('re-hashing an edited entry still breaks the chain at the next one', () => {
    using f = storeWithEntries(4);
    const s = new SqliteStore(f.path);
    const e2 = s.auditLog()[1];
    s.close();
    assert.ok(e2);
    tamper(f.path, `UPDATE audit_log SET hash = '${'f'.repeat(64)}', reason = 'forged' WHERE seq = 2`);
    const v = verify(f.path);
    assert.ok(!v.ok && v.badSeq === 2);
  });
});

describe('store: runs', () => {
  test('runs left running by a dead process are marked abandoned', () => {
    using f = storeWithEntries(0);
    const s = new SqliteStore(f.path);
    const r = s.startRun({ pipeline: 'p', partition: 'x', environment: 'dev', actor: 'a', artifacts: {}, flags: {}, engine: 'duckdb' }, new Date());
    assert.deepEqual(s.reapAbandonedRuns(() => true, new Date()), []);
    assert.deepEqual(s.reapAbandonedRuns(() => false, new Date()), [r.id]);
    assert.equal(s.run(r.id)?.status, 'abandoned');
    s.close();
  });
});
