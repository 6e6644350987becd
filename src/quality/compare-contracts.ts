import type { Contract } from './contract.ts';
import { standardDialect } from '../engine/sql-dialect.ts';

/**
 * Compatibility modes, from the consumers' side of a dataset:
 * - `backward`: data published under the NEW contract still satisfies consumers written against the
 *   OLD one (existing readers keep working). Removing a column, narrowing what a reader may assume
 *   (nullable where it was not null, a wider type, dropped or loosened checks, another key) breaks it.
 * - `forward`: data published under the OLD contract satisfies consumers written against the NEW one
 *   (older partitions, or a rollback, still serve new readers). Adding a non-null column, making a
 *   column non-null, a narrower type, new or tightened checks break it.
 * - `full`: both. `*_transitive`: against every earlier version, not only the latest.
 */
export type CompatibilityMode = 'backward' | 'forward' | 'full' | 'backward_transitive' | 'forward_transitive' | 'full_transitive';

export const COMPATIBILITY_MODES: readonly CompatibilityMode[] = ['backward', 'forward', 'full', 'backward_transitive', 'forward_transitive', 'full_transitive'];

export type ContractChangeKind =
  | 'column_added'
  | 'column_removed'
  | 'type_widened'
  | 'type_narrowed'
  | 'type_changed'
  | 'made_nullable'
  | 'made_not_null'
  | 'primary_key_changed'
  | 'check_added'
  | 'check_removed'
  | 'owner_changed'
  | 'consumers_changed';

export interface ContractChange {
  readonly kind: ContractChangeKind;
  readonly column?: string;
  readonly check?: string;
  /** The version compared against (matters for transitive modes). */
  readonly against: number;
  readonly breaking: boolean;
  readonly why: string;
}

export interface ContractCompatibility {
  readonly mode: CompatibilityMode;
  readonly compatible: boolean;
  readonly changes: readonly ContractChange[];
}

/** Which direction each kind of change breaks. */
const BREAKS: Record<ContractChangeKind, { backward: boolean; forward: boolean }> = {
  column_added: { backward: false, forward: true }, // forward only when not nullable (see below)
  column_removed: { backward: true, forward: false },
  type_widened: { backward: true, forward: false },
  type_narrowed: { backward: false, forward: true },
  type_changed: { backward: true, forward: true },
  made_nullable: { backward: true, forward: false },
  made_not_null: { backward: false, forward: true },
  primary_key_changed: { backward: true, forward: true },
  check_added: { backward: false, forward: true },
  check_removed: { backward: true, forward: false },
  owner_changed: { backward: false, forward: false },
  consumers_changed: { backward: false, forward: false },
};

const INT_RANK: Record<string, number> = { TINYINT: 1, SMALLINT: 2, INTEGER: 3, BIGINT: 4, HUGEINT: 5 };
const FLOAT_RANK: Record<string, number> = { FLOAT: 1, DOUBLE: 2 };

/** widened / narrowed / changed / same for a type change, by the values each type can hold. */
export function typeChange(from: string, to: string): 'same' | 'type_widened' | 'type_narrowed' | 'type_changed' {
  const a = standardDialect.canonicalType(from);
  const b = standardDialect.canonicalType(to);
  if (a === b) return 'same';
  const ia = INT_RANK[a];
  const ib = INT_RANK[b];
  if (ia && ib) return ib > ia ? 'type_widened' : 'type_narrowed';
  const fa = FLOAT_RANK[a];
  const fb = FLOAT_RANK[b];
  if (fa && fb) return fb > fa ? 'type_widened' : 'type_narrowed';
  if (ia && (fb || /^DECIMAL/.test(b))) return 'type_widened';
  if (ib && (fa || /^DECIMAL/.test(a))) return 'type_narrowed';
  const va = /^VARCHAR(?:\((\d+)\))?$/.exec(a);
  const vb = /^VARCHAR(?:\((\d+)\))?$/.exec(b);
  if (va && vb) {
    const la = va[1] ? Number(va[1]) : Infinity;
    const lb = vb[1] ? Number(vb[1]) : Infinity;
    return lb > la ? 'type_widened' : 'type_narrowed';
  }
  return 'type_changed';
}

/** Every change from `prev` to `next`, each marked breaking or not under `mode` (non-transitive). */
export function diffContracts(prev: Contract, next: Contract, mode: 'backward' | 'forward' | 'full'): ContractChange[] {
  const changes: ContractChange[] = [];
  const breaks = (kind: ContractChangeKind, extraForward = true): boolean => {
    const b = BREAKS[kind];
    return (mode !== 'forward' && b.backward) || (mode !== 'backward' && b.forward && extraForward);
  };
  const add = (kind: ContractChangeKind, why: string, more: { column?: string; check?: string } = {}, extraForward = true): void => {
    changes.push({ kind, ...more, against: prev.version, breaking: breaks(kind, extraForward), why });
  };
  for (const old of prev.columns) {
    const now = next.columns.find((c) => c.name === old.name);
    if (!now) {
      add('column_removed', `${old.name} is gone; readers of v${prev.version} select it`, { column: old.name });
      continue;
    }
    const t = typeChange(old.type, now.type);
    if (t !== 'same') {
      const why =
        t === 'type_widened'
          ? `${old.type} -> ${now.type}: new values may not fit readers expecting ${old.type}`
          : t === 'type_narrowed'
            ? `${old.type} -> ${now.type}: older data may hold values ${now.type} cannot`
            : `${old.type} -> ${now.type}: a different kind of value`;
      add(t, why, { column: old.name });
    }
    if (!old.nullable && now.nullable) add('made_nullable', `${old.name} may now be null; readers of v${prev.version} rely on it never being null`, { column: old.name });
    if (old.nullable && !now.nullable) add('made_not_null', `${old.name} must now be non-null; older data may hold nulls`, { column: old.name });
  }
  for (const now of next.columns)
    if (!prev.columns.some((c) => c.name === now.name))
      add(
        'column_added',
        now.nullable ? `${now.name} is new and nullable: older data reads it as null` : `${now.name} is new and not null: older data has no value for it`,
        { column: now.name },
        !now.nullable,
      );
  if (prev.primaryKey.join(',') !== next.primaryKey.join(','))
    add('primary_key_changed', `primary key [${prev.primaryKey.join(', ')}] -> [${next.primaryKey.join(', ')}]: joins and dedupes on the key change meaning`);
  const sig = (c: unknown): string => JSON.stringify(c, Object.keys((c ?? {}) as object).sort());
  const prevChecks = new Map(prev.rawChecks.map((c) => [sig(c), c]));
  const nextChecks = new Map(next.rawChecks.map((c) => [sig(c), c]));
  prev.checks.forEach((c, i) => {
    const s = sig(prev.rawChecks[i]);
    if (!nextChecks.has(s)) add('check_removed', `check ${c.id} no longer holds: readers may rely on it`, { check: c.id });
  });
  next.checks.forEach((c, i) => {
    const s = sig(next.rawChecks[i]);
    if (!prevChecks.has(s)) add('check_added', `check ${c.id} is new (or changed): older data was not held to it`, { check: c.id });
  });
  if ((prev.owner ?? '') !== (next.owner ?? '')) add('owner_changed', `owner ${prev.owner ?? '(none)'} -> ${next.owner ?? '(none)'}`);
  if (prev.consumers.join(',') !== next.consumers.join(',')) add('consumers_changed', `consumers [${prev.consumers.join(', ')}] -> [${next.consumers.join(', ')}]`);
  return changes;
}

/**
 * Is `next` compatible with the earlier version(s) under `mode`? `earlier` is the previous contract
 * or the list of every earlier version (oldest first); non-transitive modes use the latest of them.
 */
export function compareContracts(earlier: Contract | readonly Contract[], next: Contract, mode: CompatibilityMode): ContractCompatibility {
  const list = (Array.isArray(earlier) ? [...(earlier as readonly Contract[])] : [earlier as Contract]).sort((a, b) => a.version - b.version);
  const base = mode.replace('_transitive', '') as 'backward' | 'forward' | 'full';
  const against = mode.endsWith('_transitive') ? list : list.slice(-1);
  const changes = against.flatMap((prev) => diffContracts(prev, next, base));
  return { mode, compatible: changes.every((c) => !c.breaking), changes };
}
