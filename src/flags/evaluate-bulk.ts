import { bucketMany } from './bucket.ts';
import { compileFlag, type CompiledStrategy } from './compile-flag.ts';
import { evaluate, type EvaluateOptions } from './evaluate.ts';
import { contextValue, type EvaluationContext } from './evaluation-context.ts';
import type { FlagDefinition, FlagSet, Variant } from './flag.ts';

/** Per-key results over a column of keys. */
export interface BulkEvaluation {
  /** 1 where the flag is on for that key, else 0. */
  readonly enabled: Uint8Array;
  /** Index into `variantNames` of each key's variant; 255 where none (flag off or no variant). */
  readonly variants: Uint8Array;
  readonly variantNames: readonly string[];
  /** 'fast' when the key-independent parts ran once and only buckets per key; 'per-key' otherwise. */
  readonly path: 'fast' | 'per-key';
}

const NONE = 255;

/** A strategy as the fast path sees it: constant for every key, or a bucket / list test on the key. */
type Plan = { kind: 'never' } | { kind: 'always'; variant: number } | { kind: 'slice'; salt: string; bound: number; variant: number } | { kind: 'list'; set: ReadonlySet<string>; variant: number };

/**
 * Evaluates one flag for many keys (a column: each key becomes the context's slice_key, everything
 * else comes from `context`). Same answers as calling `evaluate` per key, much faster: for native
 * (md5) flags whose strategies depend on the key only through the slice bucket or a list of
 * slice keys, everything else is decided once, the salt is encoded once and each key costs one
 * MD5. Flags outside that shape (dependencies, Unleash hashing, weighted variants, constraints on
 * the key itself) fall back to per-key evaluation.
 */
export function evaluateBulk(
  flag: FlagDefinition,
  keys: ArrayLike<string | number | null | undefined>,
  context: EvaluationContext = {},
  allFlags: FlagSet = new Map(),
  options: EvaluateOptions = {},
): BulkEvaluation {
  const names: string[] = [];
  const plans = fastPlan(flag, context, allFlags, options, names);
  return plans ? runFast(plans, keys, names) : runPerKey(flag, keys, context, allFlags, options);
}

function variantIndex(v: Variant | undefined, names: string[]): number {
  if (!v) return NONE;
  let i = names.indexOf(v.name);
  if (i < 0) i = names.push(v.name) - 1;
  return i;
}

/** The single variant a strategy (or the flag) always yields, or undefined when it would vary per key. */
function constantVariant(flag: FlagDefinition, cs: CompiledStrategy): Variant | null | undefined {
  const list = cs.source.variants && cs.source.variants.length > 0 ? cs.source.variants : flag.variants;
  if (list.length === 0) return null;
  const weighted = list.filter((v) => v.weight > 0);
  if (weighted.length !== 1 || list.some((v) => v.overrides && v.overrides.length > 0)) return undefined;
  return weighted[0];
}

function fastPlan(flag: FlagDefinition, context: EvaluationContext, allFlags: FlagSet, options: EvaluateOptions, names: string[]): Plan[] | undefined {
  if (flag.hash !== 'md5' || flag.dependencies.length > 0) return undefined;
  // Everything before the strategies (scope, enabled, window) does not look at the key: ask once.
  const probe = evaluate({ ...flag, strategies: [], variants: [] }, context, allFlags, options);
  if (probe.errorCode) return undefined;
  if (!probe.enabled) return [{ kind: 'never' }];
  const compiled = compileFlag(flag).strategies;
  if (compiled.length === 0) {
    const v = flag.variants.length === 0 ? null : flag.variants.filter((x) => x.weight > 0).length === 1 && !flag.variants.some((x) => x.overrides?.length) ? flag.variants.find((x) => x.weight > 0)! : undefined;
    if (v === undefined) return undefined;
    return [{ kind: 'always', variant: variantIndex(v ?? undefined, names) }];
  }
  const plans: Plan[] = [];
  const env = { nowMs: () => probeTime(context, options) };
  for (const cs of compiled) {
    const s = cs.source;
    if (s.window || (s.missingSegments?.length ?? 0) > 0) return undefined;
    if (cs.constraints.some((c) => c.source.field === 'slice_key')) return undefined;
    const v = constantVariant(flag, cs);
    if (v === undefined) return undefined;
    const variant = variantIndex(v ?? undefined, names);
    if (!cs.constraints.every((c) => c.match(context, env))) {
      plans.push({ kind: 'never' });
      continue;
    }
    if (s.kind === 'default') plans.push({ kind: 'always', variant });
    else if (s.kind === 'unknown') plans.push({ kind: 'never' });
    else if (s.kind === 'list') {
      if (s.field !== 'slice_key') plans.push(cs.list!.has(contextValue(context, s.field) ?? '') ? { kind: 'always', variant } : { kind: 'never' });
      else plans.push({ kind: 'list', set: cs.list!, variant });
    } else {
      if (s.stickiness !== 'slice_key' && s.stickiness !== 'default') return undefined;
      plans.push({ kind: 'slice', salt: s.groupId, bound: cs.bound, variant });
    }
    if (plans[plans.length - 1]!.kind === 'always') break;
  }
  return plans;
}

function probeTime(context: EvaluationContext, options: EvaluateOptions): number {
  const t = context.currentTime;
  if (t === undefined) return options.clock ? options.clock.now().getTime() : Date.now();
  return t instanceof Date ? t.getTime() : Date.parse(t);
}

function runFast(plans: Plan[], keys: ArrayLike<string | number | null | undefined>, names: string[]): BulkEvaluation {
  const n = keys.length;
  const enabled = new Uint8Array(n);
  const variants = new Uint8Array(n).fill(NONE);
  const decided = new Uint8Array(n);
  const buckets = new Map<string, Uint16Array>();
  for (const p of plans) {
    if (p.kind === 'never') continue;
    if (p.kind === 'always') {
      for (let i = 0; i < n; i++) {
        if (decided[i]) continue;
        decided[i] = 1;
        enabled[i] = 1;
        variants[i] = p.variant;
      }
      break;
    }
    if (p.kind === 'slice') {
      let b = buckets.get(p.salt);
      if (!b) buckets.set(p.salt, (b = bucketMany(p.salt, keys)));
      const bound = p.bound;
      for (let i = 0; i < n; i++) {
        if (decided[i] || b[i]! >= bound) continue;
        decided[i] = 1;
        enabled[i] = 1;
        variants[i] = p.variant;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const k = keys[i];
        if (decided[i] || k === null || k === undefined || !p.set.has(String(k))) continue;
        decided[i] = 1;
        enabled[i] = 1;
        variants[i] = p.variant;
      }
    }
  }
  return { enabled, variants, variantNames: names, path: 'fast' };
}

function runPerKey(flag: FlagDefinition, keys: ArrayLike<string | number | null | undefined>, context: EvaluationContext, allFlags: FlagSet, options: EvaluateOptions): BulkEvaluation {
  const n = keys.length;
  const enabled = new Uint8Array(n);
  const variants = new Uint8Array(n).fill(NONE);
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    const r = evaluate(flag, k === null || k === undefined ? context : { ...context, slice_key: k }, allFlags, options);
    if (r.enabled) enabled[i] = 1;
    if (r.variant !== undefined) {
      let j = names.indexOf(r.variant);
      if (j < 0) j = names.push(r.variant) - 1;
      variants[i] = Math.min(j, NONE - 1);
    }
  }
  return { enabled, variants, variantNames: names, path: 'per-key' };
}
