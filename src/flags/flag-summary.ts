import type { FlagDefinition, Strategy, Variant } from './flag.ts';
import type { FlagState } from './flag-state.ts';

/** Short, one-line descriptions of flag parts for tables, history and command output. */

export function strategySummary(s: Strategy): string {
  const n = s.constraints.length + s.segments.reduce((k, seg) => k + seg.constraints.length, 0);
  const extras = [
    n > 0 ? `${n} constraint${n === 1 ? '' : 's'}` : '',
    s.segments.length > 0 ? `segments ${s.segments.map((x) => x.name).join(',')}` : '',
    s.variants?.length ? `variants ${variantsSummary(s.variants)}` : '',
    s.window ? 'time window' : '',
  ].filter(Boolean);
  const tail = extras.length ? ` [${extras.join('; ')}]` : '';
  switch (s.kind) {
    case 'default':
      return `default${tail}`;
    case 'gradual':
      return `gradual ${s.percentage}% on ${s.stickiness} (group ${s.groupId})${tail}`;
    case 'list':
      return `list ${s.field} in ${s.values.join(',')}${tail}`;
    case 'unknown':
      return `unknown ${s.name}${tail}`;
  }
}

export function strategiesSummary(strategies: readonly Strategy[]): string {
  return strategies.length === 0 ? 'none (on for everyone when enabled)' : strategies.map(strategySummary).join('; ');
}

export function variantsSummary(variants: readonly Variant[]): string {
  return variants.map((v) => `${v.name}:${v.weight}`).join(',');
}

export function scopeSummary(flag: Pick<FlagDefinition, 'scope'>): string {
  const s = flag.scope;
  if (!s) return '(all)';
  return Object.entries(s).map(([k, v]) => `${k}=${String(v)}`).join(' ') || '(all)';
}

export function stateSummary(s: FlagState): string {
  return [
    s.enabled ? 'enabled' : 'disabled',
    strategiesSummary(s.strategies),
    ...(s.variants.length ? [`variants ${variantsSummary(s.variants)}`] : []),
    ...(s.defaultVariant ? [`default ${s.defaultVariant}`] : []),
  ].join(', ');
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** What changed between two states, one short phrase per change. */
export function describeChanges(before: FlagState, after: FlagState): string[] {
  const out: string[] = [];
  if (before.enabled !== after.enabled) out.push(after.enabled ? 'enabled' : 'disabled');
  if (before.defaultVariant !== after.defaultVariant) out.push(`default_variant ${before.defaultVariant ?? '(none)'} -> ${after.defaultVariant ?? '(none)'}`);
  if (!same(before.variants, after.variants)) out.push(`variants [${variantsSummary(before.variants)}] -> [${variantsSummary(after.variants)}]`);
  const n = Math.max(before.strategies.length, after.strategies.length);
  for (let i = 0; i < n; i++) {
    const a = before.strategies[i];
    const b = after.strategies[i];
    if (a && b) {
      if (same(a, b)) continue;
      const sa = strategySummary(a);
      const sb = strategySummary(b);
      out.push(sa === sb ? `strategy ${i + 1} (${sb}): constraints or details changed` : `strategy ${i + 1}: ${sa} -> ${sb}`);
    } else if (b) out.push(`+ strategy ${i + 1}: ${strategySummary(b)}`);
    else if (a) out.push(`- strategy ${i + 1}: ${strategySummary(a)}`);
  }
  return out;
}
