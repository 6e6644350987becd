import { createHash } from 'node:crypto';
import type { AuditEntry, AuditEntryInput } from '../store/metadata-store.ts';
import { stableJson } from '../util/stable-json.ts';

export type { AuditEntry, AuditEntryInput };

/**
 * The audit trail is a hash chain: every entry carries the hash of the one before it, and its own
 * hash covers all its fields. Editing, dropping or reordering an entry breaks the chain at that
 * entry, which `verifyAuditChain` names.
 */
export const GENESIS_HASH = '0'.repeat(64);

export function auditHash(e: Omit<AuditEntry, 'hash'>): string {
  const body = stableJson({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, target: e.target, reason: e.reason, details: e.details, prev: e.prevHash });
  return createHash('sha256').update(body).digest('hex');
}

export function chainEntry(prev: Pick<AuditEntry, 'seq' | 'hash'> | undefined, input: AuditEntryInput, at: Date): AuditEntry {
  const partial = {
    seq: (prev?.seq ?? 0) + 1,
    at: at.toISOString(),
    actor: input.actor,
    action: input.action,
    target: input.target,
    reason: input.reason,
    // What is hashed is exactly what is stored: details as they round-trip through JSON.
    details: JSON.parse(JSON.stringify(input.details ?? {})) as Record<string, unknown>,
    prevHash: prev?.hash ?? GENESIS_HASH,
  };
  return { ...partial, hash: auditHash(partial) };
}

export type AuditVerdict = { ok: true; entries: number; head: string } | { ok: false; entries: number; badSeq: number; problem: string };

/** Walks the entries in stored order; the first entry that does not follow from its predecessor is named. */
export function verifyAuditChain(entries: readonly AuditEntry[], anchor?: { seq: number; hash: string }): AuditVerdict {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  for (const e of entries) {
    if (e.seq !== expectedSeq) {
      return { ok: false, entries: entries.length, badSeq: e.seq, problem: e.seq > expectedSeq ? `entry ${expectedSeq} is missing (found ${e.seq} next)` : `entry ${e.seq} is out of order (expected ${expectedSeq})` };
    }
    if (e.prevHash !== prevHash) return { ok: false, entries: entries.length, badSeq: e.seq, problem: `entry ${e.seq} does not follow entry ${e.seq - 1} (previous-hash mismatch: an entry was removed, reordered or edited)` };
    if (auditHash(e) !== e.hash) return { ok: false, entries: entries.length, badSeq: e.seq, problem: `entry ${e.seq} was edited (its content does not match its hash)` };
    prevHash = e.hash;
    expectedSeq++;
  }
  if (anchor && anchor.seq > entries.length) {
    return { ok: false, entries: entries.length, badSeq: entries.length + 1, problem: `the log ends at entry ${entries.length} but entry ${anchor.seq} was written (entries were removed from the end)` };
  }
  if (anchor && anchor.seq > 0 && entries[anchor.seq - 1]?.hash !== anchor.hash) {
    return { ok: false, entries: entries.length, badSeq: anchor.seq, problem: `entry ${anchor.seq} does not match the recorded head of the log` };
  }
  return { ok: true, entries: entries.length, head: prevHash };
}
