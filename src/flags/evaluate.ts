import type { Clock } from '../util/clock.ts';
import { bucket, UNLEASH_VARIANT_SEED, unleashNormalizedValue } from './bucket.ts';
import { compileFlag, type CompiledStrategy } from './compile-flag.ts';
import { describeConstraint, type MatchEnv } from './constraint.ts';
import { contextValue, type EvaluationContext } from './evaluation-context.ts';
import type { Explanation, ExplanationStep } from './explanation.ts';
import type { FlagDefinition, FlagSet, Variant, VariantPayload } from './flag.ts';
import { inTimeWindow } from './time-window.ts';

/** The OpenFeature resolution reasons Sluice reports. */
export type EvaluationReason = 'STATIC' | 'TARGETING_MATCH' | 'SPLIT' | 'DISABLED' | 'DEFAULT' | 'ERROR';
/** The OpenFeature error codes Sluice reports. */
export type EvaluationErrorCode = 'FLAG_NOT_FOUND' | 'PARSE_ERROR' | 'TYPE_MISMATCH' | 'INVALID_CONTEXT' | 'GENERAL';

export interface FlagEvaluation {
  readonly flag: string;
  /** Boolean flags: whether on. Variant flags: the variant name, else `defaultVariant` (or 'disabled'). */
  readonly value: boolean | string;
  /** Whether the flag is on for this context (Unleash's feature_enabled). */
  readonly enabled: boolean;
  /** The variant chosen, when the flag is on and has variants. */
  readonly variant?: string;
  readonly payload?: VariantPayload;
  readonly reason: EvaluationReason;
  readonly errorCode?: EvaluationErrorCode;
  readonly errorMessage?: string;
  /** Built on first read (it re-runs the evaluation with tracing on the same instant and random draws). */
  readonly explanation: Explanation;
}

export interface EvaluateOptions {
  /** Where time comes from when the context has no currentTime. Default: the system clock. */
  readonly clock?: Clock;
  /** Uniform [0, 1) draws for 'random' stickiness. Default: Math.random. */
  readonly random?: () => number;
}

const NO_FLAGS: FlagSet = new Map();
const systemNow = (): number => Date.now();

/** Per-evaluation state: the context, the lazily read instant and any random draws (kept for replay). */
class Env implements MatchEnv {
  now = NaN;
  draws: number[] | undefined;
  replayAt = 0;
  constructor(
    readonly ctx: EvaluationContext,
    readonly flags: FlagSet,
    readonly options: EvaluateOptions,
    readonly replay?: readonly number[],
  ) {}
  nowMs(): number {
    if (Number.isNaN(this.now)) {
      const t = this.ctx.currentTime;
      this.now = t === undefined ? (this.options.clock ? this.options.clock.now().getTime() : systemNow()) : t instanceof Date ? t.getTime() : Date.parse(t);
    }
    return this.now;
  }
  draw(): number {
    if (this.replay && this.replayAt < this.replay.length) return this.replay[this.replayAt++]!;
    const r = (this.options.random ?? Math.random)();
    (this.draws ??= []).push(r);
    return r;
  }
}

interface Outcome {
  enabled: boolean;
  variant: Variant | undefined;
  reason: EvaluationReason;
  decidedBy: string;
}

const RANDOM = Symbol('random');
type StickyKey = string | typeof RANDOM | undefined;

function stickyKey(flag: FlagDefinition, field: string, forVariant: boolean, env: Env): StickyKey {
  const ctx = env.ctx;
  if (field === 'random') return RANDOM;
  if (field === 'default') {
    if (flag.hash === 'md5') return contextValue(ctx, 'slice_key');
    return contextValue(ctx, 'userId') ?? contextValue(ctx, 'sessionId') ?? (forVariant ? contextValue(ctx, 'remoteAddress') : undefined) ?? RANDOM;
  }
  const v = contextValue(ctx, field);
  // Unleash draws a random seed for variants when the stickiness field is absent; native flags do not.
  return v === undefined && forVariant && flag.hash === 'murmur3' ? RANDOM : v;
}

/** Picks a variant by weight (after overrides); undefined when there are none or no key to stick to. */
function pickVariant(flag: FlagDefinition, variants: readonly Variant[], stickiness: string, groupId: string, env: Env): Variant | undefined {
  let total = 0;
  for (const v of variants) total += v.weight;
  if (total <= 0) return undefined;
  for (const v of variants) {
    if (v.overrides?.some((o) => {
      const cv = contextValue(env.ctx, o.field);
      return cv !== undefined && o.values.includes(cv);
    })) return v;
  }
  // Without a key to stick to, a native flag still picks a stable variant (it hashes the empty key);
  // Unleash flags draw at random instead (stickyKey returns RANDOM), as Unleash SDKs do.
  const key = stickyKey(flag, stickiness, true, env) ?? '';
  if (flag.hash === 'murmur3') {
    const target = key === RANDOM ? Math.floor(env.draw() * total) + 1 : unleashNormalizedValue(key, groupId, total, UNLEASH_VARIANT_SEED);
    let counter = 0;
    for (const v of variants) {
      if (v.weight === 0) continue;
      counter += v.weight;
      if (counter >= target) return v;
    }
    return undefined;
  }
  const b = key === RANDOM ? Math.floor(env.draw() * 10000) : bucket(`${groupId}:variant`, key);
  const target = Math.floor((b * total) / 10000);
  let cum = 0;
  for (const v of variants) {
    cum += v.weight;
    if (target < cum) return v;
  }
  return undefined;
}

/** Whether a gradual strategy includes the context, and (when tracing) why. */
function gradualIncludes(flag: FlagDefinition, cs: CompiledStrategy, env: Env, trace: ExplanationStep[] | null): boolean {
  const s = cs.source;
  if (s.kind !== 'gradual') return false;
  const key = stickyKey(flag, s.stickiness, false, env);
  if (key === undefined) {
    trace?.push({ subject: 'rollout', outcome: 'fail', detail: `no value for stickiness field ${s.stickiness}` });
    return false;
  }
  let inside: boolean;
  let n: number;
  if (flag.hash === 'murmur3') {
    n = key === RANDOM ? Math.floor(env.draw() * 100) + 1 : unleashNormalizedValue(key, s.groupId, 100, 0);
    inside = s.percentage > 0 && n <= s.percentage;
  } else {
    n = key === RANDOM ? Math.floor(env.draw() * 10000) : bucket(s.groupId, key);
    inside = n < cs.bound;
  }
  if (trace) {
    const what = key === RANDOM ? 'random draw' : flag.hash === 'murmur3' ? `murmur3 value of ${JSON.stringify(key)}` : `bucket of ${s.stickiness} ${JSON.stringify(key)}`;
    const cmp = flag.hash === 'murmur3' ? `${n} ${inside ? '<=' : '>'} ${s.percentage}` : `${n} ${inside ? '<' : '>='} ${cs.bound}`;
    trace.push({ subject: 'rollout', outcome: inside ? 'pass' : 'fail', detail: `${what} ${cmp} (${s.percentage} % slice, group ${JSON.stringify(s.groupId)})` });
  }
  return inside;
}

function strategyMatches(flag: FlagDefinition, cs: CompiledStrategy, env: Env, trace: ExplanationStep[] | null): boolean {
  const s = cs.source;
  let ok = true;
  if (s.window) {
    const w = inTimeWindow(s.window, env.nowMs());
    trace?.push({ subject: 'time window', outcome: w.active ? 'pass' : 'fail', detail: w.why });
    if (!w.active) {
      if (!trace) return false;
      ok = false;
    }
  }
  if (s.missingSegments && s.missingSegments.length > 0) {
    trace?.push({ subject: 'segments', outcome: 'fail', detail: `undefined segment(s): ${s.missingSegments.join(', ')}` });
    if (!trace) return false;
    ok = false;
  }
  for (const c of cs.constraints) {
    const m = c.match(env.ctx, env);
    if (trace) trace.push({ subject: 'constraint', outcome: m ? 'pass' : 'fail', detail: c.broken ? `never matches: ${c.broken}` : describeConstraint(c.source, env.ctx, m) });
    if (!m) {
      if (!trace) return false;
      ok = false;
    }
  }
  if (!ok) return false;
  switch (s.kind) {
    case 'default':
      return true;
    case 'gradual':
      return gradualIncludes(flag, cs, env, trace);
    case 'list': {
      const v = contextValue(env.ctx, s.field);
      const inside = v !== undefined && cs.list!.has(v);
      trace?.push({ subject: 'list', outcome: inside ? 'pass' : 'fail', detail: `${s.field} ${v === undefined ? 'is absent' : JSON.stringify(v)} ${inside ? 'is' : 'is not'} in [${s.values.join(', ')}]` });
      return inside;
    }
    case 'unknown':
      trace?.push({ subject: 'strategy', outcome: 'fail', detail: `Sluice does not implement strategy ${s.name}` });
      return false;
  }
}

const SCOPE_FIELDS = ['pipeline', 'dataset', 'source', 'step'] as const;

function run(flag: FlagDefinition, env: Env, trace: ExplanationStep[] | null, depth: number): Outcome {
  const ctx = env.ctx;
  if (flag.scope) {
    for (const f of SCOPE_FIELDS) {
      const want = flag.scope[f];
      if (want === undefined) continue;
      const got = ctx[f];
      if (got !== want) {
        trace?.push({ subject: 'scope', outcome: 'fail', detail: `flag applies to ${f} ${JSON.stringify(want)}, context has ${got === undefined ? 'none' : JSON.stringify(got)}` });
        return { enabled: false, variant: undefined, reason: 'DEFAULT', decidedBy: `out of scope (${f})` };
      }
    }
    trace?.push({ subject: 'scope', outcome: 'pass', detail: 'context is inside the flag scope' });
  }
  if (!flag.enabled) {
    trace?.push({ subject: 'enabled', outcome: 'fail', detail: `flag is disabled${flag.killSwitch ? ' (kill switch off)' : ''}` });
    return { enabled: false, variant: undefined, reason: 'DISABLED', decidedBy: 'the flag is disabled' };
  }
  trace?.push({ subject: 'enabled', outcome: 'pass', detail: `flag is enabled${flag.killSwitch ? ' (kill switch)' : ''}` });
  if (flag.window) {
    const w = inTimeWindow(flag.window, env.nowMs());
    trace?.push({ subject: 'time window', outcome: w.active ? 'pass' : 'fail', detail: w.why });
    if (!w.active) return { enabled: false, variant: undefined, reason: 'DEFAULT', decidedBy: `outside the flag's time window (${w.why})` };
  }
  for (const dep of flag.dependencies) {
    const why = dependencyUnmet(dep, env, depth);
    trace?.push({ subject: `dependency ${dep.flag}`, outcome: why ? 'fail' : 'pass', detail: why ?? describeDependency(dep) });
    if (why) return { enabled: false, variant: undefined, reason: 'DEFAULT', decidedBy: `dependency ${dep.flag}: ${why}` };
  }
  const strategies = compileFlag(flag).strategies;
  if (strategies.length === 0) {
    trace?.push({ subject: 'strategies', outcome: 'decided', detail: 'none defined: on for everyone' });
    return withVariant(flag, undefined, env, { enabled: true, variant: undefined, reason: 'STATIC', decidedBy: 'enabled with no strategies' });
  }
  for (let i = 0; i < strategies.length; i++) {
    const cs = strategies[i]!;
    const children: ExplanationStep[] | null = trace ? [] : null;
    if (strategyMatches(flag, cs, env, children)) {
      const s = cs.source;
      const reason: EvaluationReason = s.kind === 'gradual' && s.percentage < 100 ? 'SPLIT' : cs.hasTargeting || s.kind === 'list' ? 'TARGETING_MATCH' : 'STATIC';
      if (trace) {
        trace.push({ subject: cs.label, outcome: 'decided', detail: 'matched', children: children! });
        for (let j = i + 1; j < strategies.length; j++) trace.push({ subject: strategies[j]!.label, outcome: 'skipped', detail: 'not evaluated: an earlier strategy decided' });
      }
      return withVariant(flag, cs, env, { enabled: true, variant: undefined, reason, decidedBy: cs.label });
    }
    trace?.push({ subject: cs.label, outcome: 'fail', detail: 'did not match', children: children! });
  }
  return { enabled: false, variant: undefined, reason: 'DEFAULT', decidedBy: 'no strategy matched' };
}

function withVariant(flag: FlagDefinition, cs: CompiledStrategy | undefined, env: Env, out: Outcome): Outcome {
  const s = cs?.source;
  if (s?.variants && s.variants.length > 0) {
    const stickiness = s.kind === 'gradual' ? s.stickiness : 'default';
    const groupId = s.kind === 'gradual' ? s.groupId : flag.name;
    out.variant = pickVariant(flag, s.variants, stickiness, groupId, env);
  } else if (flag.variants.length > 0) {
    out.variant = pickVariant(flag, flag.variants, flag.variantStickiness ?? 'default', flag.name, env);
  }
  if (out.variant && flag.variants.length + (s?.variants?.length ?? 0) > 1 && out.reason === 'STATIC') out.reason = 'SPLIT';
  return out;
}

function describeDependency(dep: { flag: string; enabled?: boolean; variants?: readonly string[] }): string {
  if (dep.enabled === false) return `${dep.flag} is disabled, as required`;
  return `${dep.flag} is enabled${dep.variants && dep.variants.length > 0 ? ` with variant in [${dep.variants.join(', ')}]` : ''}, as required`;
}

/** Why a dependency is not met, or undefined when it is. Dependencies are one level deep, as in Unleash. */
function dependencyUnmet(dep: FlagDefinition['dependencies'][number], env: Env, depth: number): string | undefined {
  const parent = env.flags.get(dep.flag);
  if (!parent) return `flag ${dep.flag} does not exist`;
  if (parent.dependencies.length > 0 || depth > 0) return `${dep.flag} has dependencies of its own; transitive dependencies are not followed`;
  const p = run(parent, env, null, depth + 1);
  if (dep.enabled === false) return p.enabled ? `${dep.flag} is enabled but must be disabled` : undefined;
  if (!p.enabled) return `${dep.flag} is not enabled`;
  if (dep.variants && dep.variants.length > 0) {
    const name = p.variant?.name ?? 'disabled';
    if (!dep.variants.includes(name)) return `${dep.flag} has variant ${name}, not one of [${dep.variants.join(', ')}]`;
  }
  return undefined;
}

function offValue(flag: FlagDefinition | undefined): boolean | string {
  if (!flag || flag.type === 'boolean') return false;
  return flag.defaultVariant ?? 'disabled';
}

class Evaluation implements FlagEvaluation {
  readonly variant?: string;
  readonly payload?: VariantPayload;
  readonly errorCode?: EvaluationErrorCode;
  readonly errorMessage?: string;
  #explanation: Explanation | undefined;
  readonly #def: FlagDefinition | undefined;
  readonly #env: Env | undefined;

  constructor(
    readonly flag: string,
    readonly value: boolean | string,
    readonly enabled: boolean,
    readonly reason: EvaluationReason,
    variant: Variant | undefined,
    def: FlagDefinition | undefined,
    env: Env | undefined,
  ) {
    if (variant) {
      this.variant = variant.name;
      if (variant.payload) this.payload = variant.payload;
    }
    this.#def = def;
    this.#env = env;
  }

  static error(name: string, def: FlagDefinition | undefined, code: EvaluationErrorCode, message: string): Evaluation {
    const e = new Evaluation(name, offValue(def), false, 'ERROR', undefined, undefined, undefined);
    (e as { errorCode?: EvaluationErrorCode }).errorCode = code;
    (e as { errorMessage?: string }).errorMessage = message;
    e.#explanation = { flag: name, decidedBy: `error ${code}: ${message}`, steps: [{ subject: 'evaluation', outcome: 'error', detail: message }] };
    return e;
  }

  get explanation(): Explanation {
    return (this.#explanation ??= explain(this.#def!, this.#env!));
  }

  toJSON(): Record<string, unknown> {
    return {
      flag: this.flag,
      value: this.value,
      enabled: this.enabled,
      ...(this.variant !== undefined ? { variant: this.variant } : {}),
      ...(this.payload ? { payload: this.payload } : {}),
      reason: this.reason,
      ...(this.errorCode ? { errorCode: this.errorCode, errorMessage: this.errorMessage } : {}),
      explanation: this.explanation,
    };
  }
}

function errorResult(name: string, flag: FlagDefinition | undefined, code: EvaluationErrorCode, message: string): FlagEvaluation {
  return Evaluation.error(name, flag, code, message);
}

/**
 * Evaluates one flag (a definition, or a name looked up in `allFlags`) for a context. Pure: time
 * comes from the context or the injected clock. Never throws: a missing flag, a malformed context
 * or an internal failure yields the flag's off value with reason ERROR and an error code.
 */
export function evaluate(flag: FlagDefinition | string, context: EvaluationContext, allFlags: FlagSet = NO_FLAGS, options: EvaluateOptions = {}): FlagEvaluation {
  const def = typeof flag === 'string' ? allFlags.get(flag) : flag;
  const name = typeof flag === 'string' ? flag : flag?.name;
  if (!def) return errorResult(String(name), undefined, 'FLAG_NOT_FOUND', `flag ${String(name)} is not defined`);
  if (context === null || typeof context !== 'object') return errorResult(def.name, def, 'INVALID_CONTEXT', 'the evaluation context must be an object');
  const ct = context.currentTime;
  if (ct !== undefined && (ct instanceof Date ? Number.isNaN(ct.getTime()) : Number.isNaN(Date.parse(String(ct))))) {
    return errorResult(def.name, def, 'INVALID_CONTEXT', `currentTime ${JSON.stringify(ct)} is not an instant`);
  }
  try {
    const env = new Env(context, allFlags, options);
    const o = run(def, env, null, 0);
    const value = def.type === 'boolean' ? o.enabled : o.enabled && o.variant ? o.variant.name : offValue(def);
    return new Evaluation(def.name, value, o.enabled, o.reason, o.enabled ? o.variant : undefined, def, env);
  } catch (e) {
    return errorResult(def.name, def, 'GENERAL', e instanceof Error ? e.message : String(e));
  }
}

/** Re-runs an evaluation with tracing, on the same instant and random draws. */
function explain(flag: FlagDefinition, first: Env): Explanation {
  const env = new Env(first.ctx, first.flags, first.options, first.draws ?? []);
  env.now = first.now;
  const steps: ExplanationStep[] = [];
  const o = run(flag, env, steps, 0);
  return { flag: flag.name, decidedBy: o.variant && o.enabled ? `${o.decidedBy}; variant ${o.variant.name}` : o.decidedBy, steps };
}
