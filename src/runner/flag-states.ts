import type { AuditTrail } from '../governance/audit-trail.ts';
import { deepFreeze, type FlagDefinition } from '../flags/flag.ts';
import { createSnapshot, type FlagSnapshot } from '../flags/flag-snapshot.ts';
import { stateOf, type FlagState } from '../flags/flag-state.ts';
import type { FlagRevision, Stores, UnitOfWork } from '../store/metadata-store.ts';
import type { Clock } from '../util/clock.ts';
import { crashPoint } from '../util/crash-point.ts';
import { SluiceError } from '../util/errors.ts';

export interface FlagStateDeps {
  readonly declared: readonly FlagDefinition[];
  readonly store: UnitOfWork & Pick<Stores, 'flagRevisions'>;
  readonly audit: Pick<AuditTrail, 'append'>;
  readonly clock: Clock;
  /** Environments where every change must carry a reason (default: prod). */
  readonly reasonRequiredIn?: readonly string[];
}

export interface FlagHistoryEntry {
  readonly revision: number;
  readonly state: FlagState;
  readonly actor: string;
  readonly reason: string;
  readonly at: string | null;
}

/**
 * Flag states per environment. Revision 0 is the declaration in the project; every change appends
 * a revision and an audit entry in one store transaction, so history is complete and revertible.
 */
export class FlagStates {
  constructor(private readonly deps: FlagStateDeps) {}

  declared(name: string): FlagDefinition {
    const f = this.deps.declared.find((x) => x.name === name);
    if (!f) throw new SluiceError('NOT_FOUND', `unknown flag "${name}" (flags: ${this.deps.declared.map((x) => x.name).join(', ') || 'none declared in flags/'})`, { field: 'flag' });
    return f;
  }

  /** Every declared flag as it stands in `environment`. */
  async effective(environment: string): Promise<FlagDefinition[]> {
    const latest = new Map<string, FlagRevision>();
    for (const r of await this.deps.store.flagRevisions.list(environment)) latest.set(r.flag, r);
    return this.deps.declared.map((f) => {
      const r = latest.get(f.name);
      return r ? deepFreeze({ ...f, ...r.state }) : f;
    });
  }

  async flag(environment: string, name: string): Promise<FlagDefinition> {
    this.declared(name);
    const f = (await this.effective(environment)).find((x) => x.name === name);
    if (!f) throw new SluiceError('INTERNAL', `flag ${name} vanished`);
    return f;
  }

  async history(environment: string, name: string): Promise<FlagHistoryEntry[]> {
    const declared = this.declared(name);
    return [
      { revision: 0, state: stateOf(declared), actor: '(project file)', reason: 'declared in flags/', at: null },
      ...(await this.deps.store.flagRevisions.list(environment, name)).map((r) => ({ revision: r.revision, state: r.state, actor: r.actor, reason: r.reason, at: r.at })),
    ];
  }

  /**
   * Sets a flag's state in one environment; a change that alters nothing is still recorded. Only a
   * rollout's own change (`options.rollout`) marks the state as that rollout's exposure: any other
   * change, a revert included, detaches it.
   */
  async set(environment: string, name: string, change: Partial<FlagState>, actor: string, reason: string | undefined, action = 'flag.set', options: { readonly rollout?: string } = {}): Promise<FlagDefinition> {
    const current = await this.flag(environment, name);
    if (current.killSwitch && change.strategies && change.strategies.length > 0) {
      throw new SluiceError('USAGE', `flag ${name} is a kill switch: it is on or off, with no strategies`, { field: 'strategies' });
    }
    const required = this.deps.reasonRequiredIn ?? ['prod'];
    if (required.includes(environment) && (!reason || reason.trim() === '')) {
      throw new SluiceError('USAGE', `changing a flag in ${environment} needs a reason (--reason)`, { field: 'reason' });
    }
    const { rollout: _was, ...kept } = stateOf(current);
    const { rollout: _asked, ...asked } = change;
    const state: FlagState = { ...kept, ...asked, ...(options.rollout !== undefined ? { rollout: options.rollout } : {}) };
    const at = this.deps.clock.now();
    await this.deps.store.transaction(async (tx) => {
      const rev = await tx.flagRevisions.append({ environment, flag: name, state, actor, reason: reason ?? '', at: at.toISOString() });
      // Killed here, the revision is never committed without its entry: both are in this transaction.
      crashPoint('flags.revision');
      await this.deps.audit.append({ actor, action, target: `flag/${environment}/${name}`, reason: reason ?? '', details: { revision: rev.revision, before: stateOf(current), after: state } }, at);
    });
    return this.flag(environment, name);
  }

  async revert(environment: string, name: string, toRevision: number, actor: string, reason: string | undefined): Promise<FlagDefinition> {
    const entry = (await this.history(environment, name)).find((h) => h.revision === toRevision);
    if (!entry) throw new SluiceError('NOT_FOUND', `flag ${name} has no revision ${toRevision} in ${environment}`, { field: '--to' });
    return this.set(environment, name, entry.state, actor, reason, 'flag.revert');
  }

  async snapshot(environment: string): Promise<FlagSnapshot> {
    return createSnapshot(environment, await this.effective(environment), this.deps.clock);
  }
}
