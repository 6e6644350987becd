import semver from 'semver';
import { cidrContains, parseCidr, parseIp, type CidrRange } from './cidr.ts';
import { contextValue, type EvaluationContext } from './evaluation-context.ts';
import type { Constraint } from './flag.ts';
import { compileRe2 } from './re2-regex.ts';

/** What a matcher may need beyond the context: the evaluation instant, read lazily. */
export interface MatchEnv {
  nowMs(): number;
}

export type ConstraintMatcher = (ctx: EvaluationContext, env: MatchEnv) => boolean;

/** A constraint prepared for evaluation: its matcher, plus why it can never match when it is broken. */
export interface CompiledConstraint {
  readonly source: Constraint;
  readonly match: ConstraintMatcher;
  readonly broken?: string;
}

const STRICT_SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** A strict semantic version (no leading `v`, no loose forms), or undefined. */
export function parseSemver(s: string | undefined): semver.SemVer | undefined {
  if (s === undefined || !STRICT_SEMVER.test(s)) return undefined;
  return semver.parse(s) ?? undefined;
}

function toNumber(s: string | undefined): number {
  if (s === undefined) return NaN;
  const t = s.trim();
  return t === '' ? NaN : Number(t);
}

function toTime(s: string | undefined): number {
  return s === undefined ? NaN : Date.parse(s);
}

const never: ConstraintMatcher = () => false;

/** Checks a constraint's own values, so parsers can report a bad one at its line; undefined when fine. */
export function constraintProblem(c: Constraint): string | undefined {
  return compileConstraint(c).broken;
}

export function compileConstraint(c: Constraint): CompiledConstraint {
  if (c.invalid) return { source: c, match: never, broken: c.invalid };
  const field = c.field;
  const inv = c.inverted === true;
  const ci = c.caseInsensitive === true;
  const first = c.values[0];
  const wrap = (raw: (v: string | undefined, env: MatchEnv) => boolean): ConstraintMatcher =>
    inv ? (ctx, env) => !raw(contextValue(ctx, field), env) : (ctx, env) => raw(contextValue(ctx, field), env);
  const broken = (message: string): CompiledConstraint => ({ source: c, match: never, broken: message });

  switch (c.operator) {
    case 'IN':
    case 'NOT_IN': {
      const set = new Set(ci ? c.values.map((v) => v.toLowerCase()) : c.values);
      const isIn = c.operator === 'IN';
      return {
        source: c,
        match: wrap((v) => {
          if (v === undefined) return !isIn;
          return set.has(ci ? v.toLowerCase() : v) === isIn;
        }),
      };
    }
    case 'STR_CONTAINS':
    case 'STR_STARTS_WITH':
    case 'STR_ENDS_WITH': {
      const vals = ci ? c.values.map((v) => v.toLowerCase()) : c.values;
      const op = c.operator;
      return {
        source: c,
        match: wrap((v) => {
          if (v === undefined) return false;
          const s = ci ? v.toLowerCase() : v;
          if (op === 'STR_CONTAINS') return vals.some((x) => s.includes(x));
          if (op === 'STR_STARTS_WITH') return vals.some((x) => s.startsWith(x));
          return vals.some((x) => s.endsWith(x));
        }),
      };
    }
    case 'NUM_EQ':
    case 'NUM_GT':
    case 'NUM_GTE':
    case 'NUM_LT':
    case 'NUM_LTE': {
      const target = toNumber(first);
      if (Number.isNaN(target)) return broken(`${c.operator} needs a number, got ${JSON.stringify(first ?? null)}`);
      const op = c.operator;
      return {
        source: c,
        match: wrap((v) => {
          const n = toNumber(v);
          if (Number.isNaN(n)) return false;
          if (op === 'NUM_EQ') return n === target;
          if (op === 'NUM_GT') return n > target;
          if (op === 'NUM_GTE') return n >= target;
          if (op === 'NUM_LT') return n < target;
          return n <= target;
        }),
      };
    }
    case 'DATE_AFTER':
    case 'DATE_BEFORE': {
      const target = toTime(first);
      if (Number.isNaN(target)) return broken(`${c.operator} needs an ISO 8601 instant, got ${JSON.stringify(first ?? null)}`);
      const after = c.operator === 'DATE_AFTER';
      const isNow = field === 'currentTime';
      return {
        source: c,
        match: wrap((v, env) => {
          const t = v === undefined ? (isNow ? env.nowMs() : NaN) : toTime(v);
          if (Number.isNaN(t)) return false;
          return after ? t > target : t < target;
        }),
      };
    }
    case 'SEMVER_EQ':
    case 'SEMVER_GT':
    case 'SEMVER_GTE':
    case 'SEMVER_LT':
    case 'SEMVER_LTE': {
      const target = parseSemver(first);
      if (!target) return broken(`${c.operator} needs a semantic version like 1.2.3, got ${JSON.stringify(first ?? null)}`);
      const op = c.operator;
      return {
        source: c,
        match: wrap((v) => {
          const sv = parseSemver(v);
          if (!sv) return false;
          const cmp = sv.compare(target);
          if (op === 'SEMVER_EQ') return cmp === 0;
          if (op === 'SEMVER_GT') return cmp > 0;
          if (op === 'SEMVER_GTE') return cmp >= 0;
          if (op === 'SEMVER_LT') return cmp < 0;
          return cmp <= 0;
        }),
      };
    }
    case 'REGEX': {
      const r = first === undefined ? ({ ok: false, message: 'REGEX needs a pattern' } as const) : compileRe2(first, ci);
      if (!r.ok) return broken(`invalid regular expression: ${r.message}`);
      const re = r.regex;
      return { source: c, match: wrap((v) => v !== undefined && re.test(v)) };
    }
    case 'IN_CIDR': {
      const ranges = c.values.map(parseCidr).filter((r): r is CidrRange => r !== undefined);
      return {
        source: c,
        match: wrap((v) => {
          const ip = v === undefined ? undefined : parseIp(v);
          return ip !== undefined && ranges.some((r) => cidrContains(r, ip));
        }),
      };
    }
    default:
      return broken(`unknown operator ${String((c as { operator: unknown }).operator)}`);
  }
}

/** One line saying what a constraint compared and how it came out, for explanations. */
export function describeConstraint(c: Constraint, ctx: EvaluationContext, matched: boolean): string {
  const v = contextValue(ctx, c.field);
  const vals = c.values.length === 1 ? JSON.stringify(c.values[0]) : `[${c.values.map((x) => JSON.stringify(x)).join(', ')}]`;
  const mods = [c.inverted ? 'inverted' : '', c.caseInsensitive ? 'case-insensitive' : ''].filter(Boolean).join(', ');
  const shown = v === undefined ? (c.field === 'currentTime' ? 'now' : 'absent') : JSON.stringify(v);
  return `${c.field} (${shown}) ${c.operator} ${vals}${mods ? ` (${mods})` : ''}: ${matched ? 'matched' : 'did not match'}`;
}
