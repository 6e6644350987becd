import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditAlgorithm, AuditEntry, AuditEntryInput } from '../store/metadata-store.ts';
import { stableJson } from '../util/stable-json.ts';

export type { AuditAlgorithm, AuditEntry, AuditEntryInput };

/**
 * The audit trail is a keyed hash chain: every entry carries the hash of the one before it, and its
 * own hash is an HMAC-SHA256, under a key kept outside the store, of all its fields. Editing,
 * dropping or reordering an entry breaks the chain at that entry; recomputing the hashes needs the
 * key; and a checkpoint of (last sequence number, head hash), also outside the store and signed
 * with the key, catches entries dropped from the end. Chains written before keys existed carry
 * plain sha256 hashes; `sluice audit seal` ends such a prefix with a keyed entry that anchors it.
 */
export const GENESIS_HASH = '0'.repeat(64);

function body(e: Omit<AuditEntry, 'hash' | 'alg'>): string {
  return stableJson({ seq: e.seq, at: e.at, actor: e.actor, action: e.action, target: e.target, reason: e.reason, details: e.details, prev: e.prevHash });
}

export function auditHash(e: Omit<AuditEntry, 'hash' | 'alg'>, key?: Uint8Array): string {
  return key ? createHmac('sha256', key).update(body(e)).digest('hex') : createHash('sha256').update(body(e)).digest('hex');
}

export function chainEntry(prev: Pick<AuditEntry, 'seq' | 'hash'> | undefined, input: AuditEntryInput, at: Date, key?: Uint8Array): AuditEntry {
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
  return { ...partial, alg: key ? 'hmac-sha256' : 'sha256', hash: auditHash(partial, key) };
}

/** The last entry a writer committed, signed with the key; kept outside the store. */
export interface AuditCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
  readonly mac: string;
}

export function signCheckpoint(key: Uint8Array, head: { seq: number; hash: string }, at: Date): AuditCheckpoint {
  const mac = createHmac('sha256', key).update(`sluice-audit-checkpoint:${head.seq}:${head.hash}`).digest('hex');
  return { seq: head.seq, hash: head.hash, at: at.toISOString(), mac };
}

function checkpointValid(key: Uint8Array, c: AuditCheckpoint): boolean {
  const want = Buffer.from(signCheckpoint(key, c, new Date(0)).mac, 'hex');
  const got = Buffer.from(c.mac, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}

export type AuditVerdict =
  | { readonly ok: true; readonly entries: number; readonly head: string; readonly keyed: number; readonly sealedPrefix: number }
  | { readonly ok: false; readonly entries: number; readonly badSeq: number; readonly problem: string };

export interface VerifyOptions {
  /** The audit key; without it keyed entries cannot be checked, and verification fails. */
  readonly key?: Uint8Array;
  /** The checkpoint kept outside the store; absent while the store holds entries is a failure. */
  readonly checkpoint?: AuditCheckpoint;
  /** Require the whole trail to be keyed or sealed (default true). */
  readonly requireKeyed?: boolean;
  /** Check the checkpoint outside the store (default true). */
  readonly checkCheckpoint?: boolean;
}

/** Walks the entries in stored order; the first entry that does not follow from its predecessor is named. */
export function verifyAuditChain(entries: readonly AuditEntry[], o: VerifyOptions = {}): AuditVerdict {
  const bad = (badSeq: number, problem: string): AuditVerdict => ({ ok: false, entries: entries.length, badSeq, problem });
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let keyed = 0;
  let sealedPrefix = 0;
  for (const e of entries) {
    if (e.seq !== expectedSeq) return bad(e.seq, e.seq > expectedSeq ? `entry ${expectedSeq} is missing (found ${e.seq} next)` : `entry ${e.seq} is out of order (expected ${expectedSeq})`);
    if (e.prevHash !== prevHash) return bad(e.seq, `entry ${e.seq} does not follow entry ${e.seq - 1} (previous-hash mismatch: an entry was removed, reordered or edited)`);
    if (e.alg === 'hmac-sha256') {
      if (!o.key) return bad(e.seq, `entry ${e.seq} is keyed and no audit key was given to check it`);
      if (keyed === 0 && sealedPrefix > 0 && e.action !== 'audit.seal') return bad(e.seq, `entry ${e.seq} is the first keyed entry but not the seal of the unkeyed entries before it`);
      if (auditHash(e, o.key) !== e.hash) return bad(e.seq, `entry ${e.seq} was edited or forged (its content does not match its keyed hash)`);
      keyed++;
    } else {
      if (keyed > 0) return bad(e.seq, `entry ${e.seq} is not keyed but follows keyed entries: written by someone without the audit key`);
      if (auditHash(e) !== e.hash) return bad(e.seq, `entry ${e.seq} was edited (its content does not match its hash)`);
      sealedPrefix++;
    }
    prevHash = e.hash;
    expectedSeq++;
  }
  if ((o.requireKeyed ?? true) && sealedPrefix > 0 && keyed === 0) {
    return bad(1, `the trail's ${sealedPrefix} entries are not keyed (written before audit keys): run \`sluice audit seal\` to anchor them under the key`);
  }
  if ((o.checkCheckpoint ?? true) && (entries.length > 0 || o.checkpoint)) {
    const c = o.checkpoint;
    if (!c) return bad(entries.length, 'there is no checkpoint of this trail outside the store: it cannot be checked for entries removed from the end');
    if (!o.key || !checkpointValid(o.key, c)) return bad(c.seq, 'the checkpoint outside the store is not signed with the audit key');
    if (c.seq > entries.length) return bad(entries.length + 1, `the log ends at entry ${entries.length} but the checkpoint outside the store names entry ${c.seq} (entries were removed from the end)`);
    if (c.seq > 0 && entries[c.seq - 1]?.hash !== c.hash) return bad(c.seq, `entry ${c.seq} is not the one the checkpoint outside the store names (the trail was rewritten)`);
  }
  return { ok: true, entries: entries.length, head: prevHash, keyed, sealedPrefix };
}
