/**
 * The flag model: plain, readonly, JSON-serialisable data. Parsers (`parseFlagFile`,
 * `importUnleash`) build it; the evaluator reads it; snapshots store it as is.
 */

/** Which hash a flag buckets with: `md5` for native flags (portable to SQL), `murmur3` for Unleash imports. */
export type HashAlgorithm = 'md5' | 'murmur3';

export type FlagType = 'boolean' | 'variant';

export const CONSTRAINT_OPERATORS = [
  'IN',
  'NOT_IN',
  'STR_CONTAINS',
  'STR_STARTS_WITH',
  'STR_ENDS_WITH',
  'NUM_EQ',
  'NUM_GT',
  'NUM_GTE',
  'NUM_LT',
  'NUM_LTE',
  'DATE_AFTER',
  'DATE_BEFORE',
  'SEMVER_EQ',
  'SEMVER_GT',
  'SEMVER_GTE',
  'SEMVER_LT',
  'SEMVER_LTE',
  'REGEX',
  'IN_CIDR',
] as const;

export type ConstraintOperator = (typeof CONSTRAINT_OPERATORS)[number];

/** One condition on one context field. Single-value operators (NUM_*, DATE_*, SEMVER_*, REGEX) read `values[0]`. */
export interface Constraint {
  readonly field: string;
  readonly operator: ConstraintOperator;
  readonly values: readonly string[];
  readonly caseInsensitive?: boolean;
  readonly inverted?: boolean;
  /** Set when the source held something Sluice cannot evaluate (e.g. an unknown operator); the constraint never matches. */
  readonly invalid?: string;
}

/** A named, reusable constraint set, copied into every strategy that references it. */
export interface Segment {
  readonly name: string;
  readonly constraints: readonly Constraint[];
}

export interface VariantPayload {
  readonly type: 'string' | 'json' | 'csv' | 'number';
  readonly value: string;
}

/** A variant forced for contexts whose `field` holds one of `values`. */
export interface VariantOverride {
  readonly field: string;
  readonly values: readonly string[];
}

/** A variant. For a flag that picks a step's version, the variant name is the version (`v2`). */
export interface Variant {
  readonly name: string;
  readonly weight: number;
  readonly payload?: VariantPayload;
  readonly overrides?: readonly VariantOverride[];
}

/**
 * Active only between two instants (`from` inclusive, `until` exclusive, ISO 8601) and/or inside a
 * recurring weekly window (`days` 1=Monday..7=Sunday, `start`/`end` as HH:MM local time in `zone`,
 * an IANA zone name; `end` before `start` wraps past midnight).
 */
export interface TimeWindow {
  readonly from?: string;
  readonly until?: string;
  readonly recurring?: {
    readonly days: readonly number[];
    readonly start: string;
    readonly end: string;
    readonly zone: string;
  };
}

interface StrategyBase {
  /** A label for explanations ("strategy 2 (gradual)" when absent). */
  readonly label?: string;
  readonly constraints: readonly Constraint[];
  /** Segments referenced by name, resolved into their constraints. */
  readonly segments: readonly Segment[];
  /** Segments referenced but not defined; a strategy with any never matches. */
  readonly missingSegments?: readonly string[];
  /** Variants chosen when this strategy decides; they win over the flag's own variants. */
  readonly variants?: readonly Variant[];
  readonly window?: TimeWindow;
}

/** On for everyone (subject to its constraints). */
export interface DefaultStrategy extends StrategyBase {
  readonly kind: 'default';
}

/**
 * On for `percentage` % of the values of the `stickiness` context field, bucketed with the flag's hash
 * and `groupId` as salt. `stickiness: 'default'` means slice_key for md5 flags and Unleash's
 * userId → sessionId → random for murmur3 flags; `'random'` draws each time.
 */
export interface GradualStrategy extends StrategyBase {
  readonly kind: 'gradual';
  readonly percentage: number;
  readonly stickiness: string;
  readonly groupId: string;
}

/** On when a context field is in a list (these datasets, these sources, these pipelines). */
export interface ListStrategy extends StrategyBase {
  readonly kind: 'list';
  readonly field: string;
  readonly values: readonly string[];
}

/** A strategy Sluice does not know (e.g. a custom Unleash strategy); never matches. */
export interface UnknownStrategy extends StrategyBase {
  readonly kind: 'unknown';
  readonly name: string;
}

export type Strategy = DefaultStrategy | GradualStrategy | ListStrategy | UnknownStrategy;

/** This flag applies only when its parent is enabled (or, with `enabled: false`, disabled), and optionally shows one of `variants`. */
export interface Dependency {
  readonly flag: string;
  readonly enabled?: boolean;
  readonly variants?: readonly string[];
}

/** Narrows a flag to part of the project; a context outside the scope gets the flag's default. */
export interface FlagScope {
  readonly pipeline?: string;
  readonly dataset?: string;
  readonly source?: string;
  readonly step?: string;
}

export interface FlagDefinition {
  readonly name: string;
  readonly description?: string;
  readonly type: FlagType;
  /** Marks an emergency off switch; the runner may check these first. Kill switches are boolean. */
  readonly killSwitch: boolean;
  readonly scope?: FlagScope;
  readonly enabled: boolean;
  readonly hash: HashAlgorithm;
  /** No strategies means on for everyone while enabled. The first matching strategy decides. */
  readonly strategies: readonly Strategy[];
  readonly variants: readonly Variant[];
  /** Context field the flag's own variants stick to ('default' as for strategies). */
  readonly variantStickiness?: string;
  /** For variant flags: the value when off or when no variant applies (e.g. the baseline version `v1`). */
  readonly defaultVariant?: string;
  readonly dependencies: readonly Dependency[];
  readonly window?: TimeWindow;
  /**
   * Set when this state is a rollout's exposure: the id of the rollout attempt that set it. Runs
   * pin it with the flag, so their batches and publications belong to that attempt.
   */
  readonly rollout?: string;
}

/** All flags of one environment, by name; dependencies are looked up here. */
export type FlagSet = ReadonlyMap<string, FlagDefinition>;

export function flagSet(flags: Iterable<FlagDefinition>): FlagSet {
  const m = new Map<string, FlagDefinition>();
  for (const f of flags) m.set(f.name, f);
  return m;
}

/** Deep-freezes plain data so definitions cannot change under a pinned run. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
