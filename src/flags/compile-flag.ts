import { compileConstraint, type CompiledConstraint } from './constraint.ts';
import type { FlagDefinition, Strategy } from './flag.ts';

/**
 * Flags are plain data; evaluation wants prepared matchers (sets, parsed numbers, compiled regexes).
 * They are built once per definition object and cached beside it, so definitions stay serialisable.
 */
export interface CompiledStrategy {
  readonly source: Strategy;
  readonly label: string;
  /** The strategy's own constraints followed by its segments' constraints. */
  readonly constraints: readonly CompiledConstraint[];
  /** For list strategies: the values as a set. */
  readonly list?: ReadonlySet<string>;
  /** For gradual strategies on md5: the bucket bound (keys below it are inside). */
  readonly bound: number;
  readonly hasTargeting: boolean;
}

export interface CompiledFlag {
  readonly flag: FlagDefinition;
  readonly strategies: readonly CompiledStrategy[];
}

const cache = new WeakMap<FlagDefinition, CompiledFlag>();

export function strategyLabel(s: Strategy, index: number): string {
  const n = `strategy ${index + 1}`;
  if (s.label) return `${n} "${s.label}"`;
  switch (s.kind) {
    case 'default':
      return `${n} (on for everyone)`;
    case 'gradual':
      return `${n} (gradual ${s.percentage} % on ${s.stickiness})`;
    case 'list':
      return `${n} (${s.field} in list)`;
    case 'unknown':
      return `${n} (unknown strategy ${s.name})`;
  }
}

export function compileFlag(flag: FlagDefinition): CompiledFlag {
  let c = cache.get(flag);
  if (c) return c;
  const strategies = flag.strategies.map((s, i): CompiledStrategy => {
    const constraints = [...s.constraints, ...s.segments.flatMap((seg) => seg.constraints)].map(compileConstraint);
    return {
      source: s,
      label: strategyLabel(s, i),
      constraints,
      list: s.kind === 'list' ? new Set(s.values) : undefined,
      bound: s.kind === 'gradual' ? Math.round(s.percentage * 100) : 0,
      hasTargeting: constraints.length > 0 || (s.missingSegments?.length ?? 0) > 0,
    };
  });
  c = { flag, strategies };
  cache.set(flag, c);
  return c;
}
