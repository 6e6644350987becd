import type { Stores, UnitOfWork } from '../store/metadata-store.ts';
import { chainEntry, verifyAuditChain, type AuditEntry, type AuditEntryInput, type AuditVerdict } from './audit-chain.ts';

/**
 * The audit trail as a service: it computes the chain (sequence number, previous hash, hash) and
 * hands finished entries to the store, inside the caller's transaction when there is one (the
 * unit of work joins it), so a change and its entry commit together and the chain stays linear.
 */
export class AuditTrail {
  constructor(private readonly store: UnitOfWork & Pick<Stores, 'audit'>) {}

  append(input: AuditEntryInput, at: Date): Promise<AuditEntry> {
    return this.store.transaction(async (tx) => {
      const entry = chainEntry(await tx.audit.last(), input, at);
      await tx.audit.append(entry);
      // The head is kept apart from the log, so entries dropped from the end are detected too.
      await tx.audit.setHead({ seq: entry.seq, hash: entry.hash });
      return entry;
    });
  }

  async verify(): Promise<AuditVerdict> {
    return verifyAuditChain(await this.store.audit.list(), await this.store.audit.head());
  }
}
