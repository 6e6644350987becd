import type { Stores, UnitOfWork } from '../store/metadata-store.ts';
import { SluiceError } from '../util/errors.ts';
import { chainEntry, signCheckpoint, verifyAuditChain, type AuditCheckpoint, type AuditEntry, type AuditEntryInput, type AuditVerdict } from './audit-chain.ts';

/**
 * Where the audit trail's anchors live, outside the store: the key its entries are signed with and
 * the checkpoint of its last entry. Someone who can write the store but not these cannot rewrite
 * the trail unnoticed (the threat model is in the README).
 */
export interface AuditAnchor {
  /** The key, or undefined when there is none yet. */
  key(): Uint8Array | undefined;
  /** Creates the key (random, 32 bytes) when there is none; returns it. */
  ensureKey(): Uint8Array;
  /** Where the key is (or would be), for messages. */
  readonly keyLocation: string;
  readCheckpoint(): AuditCheckpoint | undefined;
  /** Records a checkpoint unless a later one is already recorded (`force`: the owner's accept replaces it). */
  writeCheckpoint(c: AuditCheckpoint, o?: { force?: boolean }): void;
  readonly checkpointLocation: string;
}

/**
 * The audit trail as a service: it computes the chain (sequence number, previous hash, keyed hash)
 * and hands finished entries to the store, inside the caller's transaction when there is one (the
 * unit of work joins it), so a change and its entry commit together and the chain stays linear;
 * once the transaction commits it signs a checkpoint of the new head outside the store.
 */
export class AuditTrail {
  /**
   * Entries appended in transactions that have not committed yet: their checkpoint is written on
   * commit, so an entry appended after one of them in the same transaction chains on it unchecked
   * (the first entry of the transaction was checked against the checkpoint).
   */
  private readonly uncommitted = new Set<string>();

  constructor(
    private readonly store: UnitOfWork & Pick<Stores, 'audit'>,
    private readonly anchor: AuditAnchor,
  ) {}

  get keyLocation(): string {
    return this.anchor.keyLocation;
  }

  get checkpointLocation(): string {
    return this.anchor.checkpointLocation;
  }

  append(input: AuditEntryInput, at: Date): Promise<AuditEntry> {
    return this.store.transaction(async (tx) => {
      const last = await tx.audit.last();
      const key = this.keyFor(last, input);
      if (input.action !== 'audit.accept' && !(last && this.uncommitted.has(last.hash))) this.checkAnchored(last, key);
      const entry = chainEntry(last, input, at, key);
      await tx.audit.append(entry);
      // The head is also kept apart from the log in the store, for a quick look; the checkpoint outside is what counts.
      await tx.audit.setHead({ seq: entry.seq, hash: entry.hash });
      this.uncommitted.add(entry.hash);
      await this.store.afterCommit(() => {
        this.uncommitted.delete(entry.hash);
        this.anchor.writeCheckpoint(signCheckpoint(key, entry, at), { force: input.action === 'audit.accept' });
      });
      return entry;
    });
  }

  /**
   * A keyed trail is written on only while its checkpoint outside the store agrees with it: a
   * missing checkpoint, or one naming entries the store no longer has, means the end of the trail
   * may have been cut, and writing on would hide it. The owner decides (`sluice audit accept`).
   */
  private checkAnchored(last: AuditEntry | undefined, key: Uint8Array): void {
    const c = this.anchor.readCheckpoint();
    const accept = 'run `sluice audit verify`; if the trail is as it should be, `sluice audit accept --reason …` anchors its current end';
    if (last?.alg === 'hmac-sha256' && !c) {
      throw new SluiceError('AUDIT_BROKEN', `the audit trail's checkpoint is missing (${this.anchor.checkpointLocation}), so entries removed from its end could not be detected; nothing is written until it is settled: ${accept}`);
    }
    if (!c) return;
    if (signCheckpoint(key, c, new Date(0)).mac !== c.mac) throw new SluiceError('AUDIT_BROKEN', `the audit trail's checkpoint (${this.anchor.checkpointLocation}) is not signed with the audit key; ${accept}`);
    if (c.seq > (last?.seq ?? 0)) throw new SluiceError('AUDIT_BROKEN', `the audit trail ends at entry ${last?.seq ?? 0} but its checkpoint names entry ${c.seq}: entries were removed from its end (or the store was replaced); ${accept}`);
  }

  /**
   * The owner's decision after a broken anchor: the chain is checked entry by entry against the
   * key, and its current end becomes the checkpoint, recorded as an `audit.accept` entry.
   */
  async accept(actor: string, reason: string, at: Date): Promise<AuditEntry> {
    const key = this.anchor.key();
    if (!key) throw new SluiceError('AUDIT_BROKEN', `there is no audit key (expected at ${this.anchor.keyLocation})`);
    const entries = await this.store.audit.list();
    const v = verifyAuditChain(entries, { key, checkCheckpoint: false });
    if (!v.ok) throw new SluiceError('AUDIT_BROKEN', `the chain itself is broken at entry ${v.badSeq} (${v.problem}); it cannot be accepted`);
    const c = this.anchor.readCheckpoint();
    return this.append({ actor, action: 'audit.accept', target: 'audit', reason, details: { entries: entries.length, head: v.head, checkpointWas: c ? { seq: c.seq, hash: c.hash } : null } }, at);
  }

  /** The key to sign the next entry with: created with the first entry of a trail; never silently replaced. */
  private keyFor(last: AuditEntry | undefined, input: AuditEntryInput): Uint8Array {
    const key = this.anchor.key();
    if (!last) return key ?? this.anchor.ensureKey();
    if (last.alg === 'sha256' && input.action !== 'audit.seal') {
      throw new SluiceError('AUDIT_BROKEN', `the audit trail was written before audit keys: run \`sluice audit seal\` once to anchor its ${last.seq} entries under the key (${this.anchor.keyLocation})`);
    }
    if (!key) {
      if (last.alg === 'sha256') return this.anchor.ensureKey();
      throw new SluiceError('AUDIT_BROKEN', `the audit key of this store is missing (expected at ${this.anchor.keyLocation}); restore it, or set SLUICE_AUDIT_KEY / SLUICE_AUDIT_KEY_FILE`);
    }
    return key;
  }

  /** Ends an unkeyed chain (written before audit keys) with a keyed entry that anchors it. */
  async seal(actor: string, at: Date): Promise<AuditEntry> {
    const entries = await this.store.audit.list();
    const last = entries[entries.length - 1];
    if (last?.alg === 'hmac-sha256' || !last) throw new SluiceError('CONFLICT', last ? 'the audit trail is already keyed: nothing to seal' : 'the audit trail is empty: nothing to seal');
    const prefix = verifyAuditChain(entries, { requireKeyed: false, checkCheckpoint: false });
    if (!prefix.ok) throw new SluiceError('AUDIT_BROKEN', `the unkeyed trail does not verify, so it cannot be sealed: entry ${prefix.badSeq}: ${prefix.problem}`);
    return this.append({ actor, action: 'audit.seal', target: 'audit', reason: `sealed ${entries.length} entries written before audit keys`, details: { sealed: entries.length, head: last.hash } }, at);
  }

  async verify(): Promise<AuditVerdict> {
    const key = this.anchor.key();
    const checkpoint = this.anchor.readCheckpoint();
    const v = verifyAuditChain(await this.store.audit.list(), { ...(key ? { key } : {}), ...(checkpoint ? { checkpoint } : {}) });
    if (v.ok || key) return v;
    return { ...v, problem: `${v.problem} (the audit key is expected at ${this.anchor.keyLocation}; or set SLUICE_AUDIT_KEY / SLUICE_AUDIT_KEY_FILE)` };
  }
}
