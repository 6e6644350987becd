import type { Problem } from '../util/errors.ts';
import type { EvaluationContext } from './evaluation-context.ts';
import {
  CONSTRAINT_OPERATORS,
  deepFreeze,
  type Constraint,
  type ConstraintOperator,
  type Dependency,
  type FlagDefinition,
  type Segment,
  type Strategy,
  type Variant,
  type VariantPayload,
} from './flag.ts';

/**
 * Converts Unleash's client API features payload (`{version, features, segments}`) or a list of
 * delta-API events (`{events: [hydration | feature-updated | feature-removed | segment-updated |
 * segment-removed]}`) into Sluice flags. Imported flags bucket with Unleash's murmur3 so they
 * evaluate exactly as Unleash SDKs do. Segments are resolved into the strategies that reference
 * them after all events are applied; a reference to an unknown segment makes that strategy never match.
 */
export type ImportResult = { ok: true; flags: FlagDefinition[] } | { ok: false; problems: Problem[] };

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

const SINGLE_VALUE = new Set<string>(['NUM_EQ', 'NUM_GT', 'NUM_GTE', 'NUM_LT', 'NUM_LTE', 'DATE_AFTER', 'DATE_BEFORE', 'SEMVER_EQ', 'SEMVER_GT', 'SEMVER_GTE', 'SEMVER_LT', 'SEMVER_LTE', 'REGEX']);
const KNOWN_OPS: ReadonlySet<string> = new Set(CONSTRAINT_OPERATORS);

function convertConstraint(raw: unknown): Constraint {
  const c = isObj(raw) ? raw : {};
  const op = str(c['operator']) ?? '';
  const field = str(c['contextName']) ?? '';
  const single = str(c['value']);
  const many = arr(c['values']).map(str).filter((x): x is string => x !== undefined);
  const values = SINGLE_VALUE.has(op) ? (single !== undefined ? [single] : many.slice(0, 1)) : many;
  const base = {
    field,
    operator: (KNOWN_OPS.has(op) ? op : 'IN') as ConstraintOperator,
    values,
    // Unleash applies caseInsensitive to string operators and REGEX only.
    ...(c['caseInsensitive'] === true && (op.startsWith('STR_') || op === 'REGEX') ? { caseInsensitive: true } : {}),
    ...(c['inverted'] === true ? { inverted: true } : {}),
  };
  return KNOWN_OPS.has(op) ? base : { ...base, invalid: `unknown operator ${op || '(none)'}` };
}

function convertPayload(raw: unknown): VariantPayload | undefined {
  if (!isObj(raw)) return undefined;
  const type = str(raw['type']);
  const value = str(raw['value']) ?? (raw['value'] !== undefined ? JSON.stringify(raw['value']) : undefined);
  if (value === undefined || (type !== 'string' && type !== 'json' && type !== 'csv' && type !== 'number')) return undefined;
  return { type, value };
}

function convertVariants(raw: unknown): Variant[] {
  return arr(raw)
    .filter(isObj)
    .map((v) => {
      const payload = convertPayload(v['payload']);
      const overrides = arr(v['overrides'])
        .filter(isObj)
        .map((o) => ({ field: str(o['contextName']) ?? '', values: arr(o['values']).map(str).filter((x): x is string => x !== undefined) }));
      return {
        name: str(v['name']) ?? '',
        weight: Number(v['weight'] ?? 0) || 0,
        ...(payload ? { payload } : {}),
        ...(overrides.length > 0 ? { overrides } : {}),
      };
    });
}

function splitList(v: unknown): string[] {
  return (str(v) ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

function percentage(v: unknown, fallback: number): number {
  const n = Number(str(v) ?? NaN);
  return Number.isFinite(n) ? Math.min(100, Math.max(0, n)) : fallback;
}

function convertStrategy(raw: unknown, featureName: string, segments: ReadonlyMap<string, Segment>): Strategy {
  const s = isObj(raw) ? raw : {};
  const p = isObj(s['parameters']) ? s['parameters'] : {};
  const constraints = arr(s['constraints']).map(convertConstraint);
  const refs = arr(s['segments']).map((x) => String(x));
  const found = refs.map((r) => segments.get(r)).filter((x): x is Segment => x !== undefined);
  const missing = refs.filter((r) => !segments.has(r));
  const variants = convertVariants(s['variants']);
  const base = {
    constraints,
    segments: found,
    ...(missing.length > 0 ? { missingSegments: missing } : {}),
    ...(variants.length > 0 ? { variants } : {}),
  };
  const name = str(s['name']) ?? '';
  const groupId = str(p['groupId']) || featureName;
  switch (name) {
    case 'default':
      return { kind: 'default', ...base };
    case 'flexibleRollout':
      return { kind: 'gradual', percentage: percentage(p['rollout'], 0), stickiness: str(p['stickiness']) || 'default', groupId, ...base };
    case 'gradualRolloutUserId':
      return { kind: 'gradual', percentage: percentage(p['percentage'], 0), stickiness: 'userId', groupId, ...base };
    case 'gradualRolloutSessionId':
      return { kind: 'gradual', percentage: percentage(p['percentage'], 0), stickiness: 'sessionId', groupId, ...base };
    case 'gradualRolloutRandom':
      return { kind: 'gradual', percentage: percentage(p['percentage'], 0), stickiness: 'random', groupId, ...base };
    case 'userWithId':
      return { kind: 'list', field: 'userId', values: splitList(p['userIds']), ...base };
    case 'remoteAddress':
      return {
        kind: 'default',
        label: 'remoteAddress',
        ...base,
        constraints: [...constraints, { field: 'remoteAddress', operator: 'IN_CIDR', values: splitList(p['IPs']) }],
      };
    default:
      return { kind: 'unknown', name: name || '(unnamed)', ...base };
  }
}

function convertFeature(f: Obj, segments: ReadonlyMap<string, Segment>): FlagDefinition {
  const name = str(f['name']) ?? '';
  const variants = convertVariants(f['variants']);
  const strategies = arr(f['strategies']).map((s) => convertStrategy(s, name, segments));
  const dependencies: Dependency[] = arr(f['dependencies'])
    .filter(isObj)
    .map((d) => ({
      flag: str(d['feature']) ?? '',
      ...(typeof d['enabled'] === 'boolean' ? { enabled: d['enabled'] } : {}),
      ...(Array.isArray(d['variants']) ? { variants: arr(d['variants']).map(String) } : {}),
    }));
  const firstStickiness = arr(f['variants']).filter(isObj)[0]?.['stickiness'];
  const description = str(f['description']);
  return {
    name,
    ...(description ? { description } : {}),
    type: variants.length > 0 || strategies.some((s) => (s.variants?.length ?? 0) > 0) ? 'variant' : 'boolean',
    killSwitch: f['type'] === 'kill-switch',
    enabled: f['enabled'] === true,
    hash: 'murmur3',
    strategies,
    variants,
    ...(str(firstStickiness) ? { variantStickiness: str(firstStickiness) } : {}),
    dependencies,
  };
}

function segmentOf(raw: Obj): Segment {
  return { name: String(raw['id'] ?? raw['name'] ?? ''), constraints: arr(raw['constraints']).map(convertConstraint) };
}

export function importUnleash(json: unknown): ImportResult {
  if (!isObj(json)) return { ok: false, problems: [{ message: 'Unleash payload must be a JSON object with features or events' }] };
  const features = new Map<string, Obj>();
  const segments = new Map<string, Segment>();
  const problems: Problem[] = [];
  const addFeatures = (list: unknown, field: string): void => {
    arr(list).forEach((f, i) => {
      if (!isObj(f) || typeof f['name'] !== 'string' || f['name'] === '') problems.push({ field: `${field}.${i}.name`, message: 'a feature needs a name' });
      else features.set(f['name'], f);
    });
  };
  const addSegments = (list: unknown): void => {
    for (const s of arr(list)) if (isObj(s)) segments.set(String(s['id'] ?? s['name']), segmentOf(s));
  };
  if (Array.isArray(json['events'])) {
    json['events'].forEach((ev, i) => {
      if (!isObj(ev)) return problems.push({ field: `events.${i}`, message: 'an event must be an object' });
      switch (ev['type']) {
        case 'hydration':
          features.clear();
          segments.clear();
          addFeatures(ev['features'], `events.${i}.features`);
          addSegments(ev['segments']);
          break;
        case 'feature-updated':
          addFeatures([ev['feature']], `events.${i}.feature`);
          break;
        case 'feature-removed':
          features.delete(String(ev['featureName']));
          break;
        case 'segment-updated':
          addSegments([ev['segment']]);
          break;
        case 'segment-removed':
          segments.delete(String(ev['segmentId']));
          break;
        default:
          problems.push({ field: `events.${i}.type`, message: `unknown event type ${String(ev['type'])}` });
      }
      return undefined;
    });
  } else {
    if (!Array.isArray(json['features'])) return { ok: false, problems: [{ field: 'features', message: 'expected a list of features' }] };
    addFeatures(json['features'], 'features');
    addSegments(json['segments']);
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, flags: [...features.values()].map((f) => deepFreeze(convertFeature(f, segments))) };
}

/**
 * Maps an Unleash context (`userId`, `sessionId`, `remoteAddress`, `appName`, `environment`,
 * `currentTime`, `properties`) onto Sluice's: environment and currentTime keep their place, every
 * other field becomes a property, as Unleash resolves unknown fields from properties too.
 */
export function unleashContext(raw: unknown): EvaluationContext {
  const c = isObj(raw) ? raw : {};
  const props: Record<string, string | null> = {};
  const top = isObj(c['properties']) ? c['properties'] : {};
  for (const [k, v] of Object.entries(top)) props[k] = v === null || v === undefined ? null : String(v);
  for (const [k, v] of Object.entries(c)) {
    if (k === 'properties' || k === 'environment' || k === 'currentTime' || v === undefined || v === null) continue;
    props[k] = String(v);
  }
  return {
    ...(typeof c['environment'] === 'string' ? { environment: c['environment'] } : {}),
    ...(typeof c['currentTime'] === 'string' || c['currentTime'] instanceof Date ? { currentTime: c['currentTime'] as string | Date } : {}),
    properties: props,
  };
}
