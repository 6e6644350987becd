import { parseYaml, type YamlSource } from '../util/yaml-source.ts';
import type { Problem } from '../util/errors.ts';
import { constraintProblem } from './constraint.ts';
import {
  CONSTRAINT_OPERATORS,
  deepFreeze,
  type Constraint,
  type ConstraintOperator,
  type Dependency,
  type FlagDefinition,
  type FlagScope,
  type Segment,
  type Strategy,
  type TimeWindow,
  type Variant,
  type VariantOverride,
  type VariantPayload,
} from './flag.ts';
import { timeWindowProblems } from './time-window.ts';

/**
 * Parses a `flags/*.yaml` file. The file holds either one flag (a mapping with `name`) or
 * `flags:` (a list) plus optional `segments:` (name → list of constraints) shared by its flags:
 *
 *   segments:
 *     eu: [{ field: source, operator: IN, values: [eu_orders] }]
 *   flags:
 *     - name: clean_orders_v2
 *       type: variant                 # boolean (default) | variant
 *       kill_switch: false
 *       scope: { pipeline: orders, dataset: clean_orders, step: clean }
 *       enabled: true                 # default false
 *       hash: md5                     # md5 (default) | murmur3
 *       default_variant: v1           # the baseline when off
 *       strategies:
 *         - kind: gradual             # default | gradual | list
 *           percentage: 10
 *           stickiness: slice_key     # any context field; default slice_key
 *           group_id: clean_orders    # the salt; default the flag name
 *           segments: [eu]
 *           constraints: [{ field: partition, operator: DATE_AFTER, value: 2026-01-01T00:00:00Z }]
 *           variants: [{ name: v2, weight: 1 }]
 *         - kind: list
 *           datasets: [orders_replay] # or sources / pipelines / steps / partitions
 *       variants: [{ name: v2, weight: 50, payload: { type: string, value: x }, overrides: [{ field: dataset, values: [a] }] }]
 *       dependencies: [{ flag: new_reader, enabled: true, variants: [on] }]
 *       window: { from: ..., until: ..., recurring: { days: [mon, tue], start: "09:00", end: "16:00", zone: Europe/Oslo } }
 *
 * Every problem names file, line and field path; all are reported together.
 */
export type ParseFlagsResult = { ok: true; flags: FlagDefinition[] } | { ok: false; problems: Problem[] };

type Path = (string | number)[];
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.\-]*$/;
const DAYS: Record<string, number> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };
const LIST_FIELDS: Record<string, string> = { datasets: 'dataset', sources: 'source', pipelines: 'pipeline', steps: 'step', partitions: 'partition' };
const OPERATORS: ReadonlySet<string> = new Set(CONSTRAINT_OPERATORS);

class Reader {
  readonly problems: Problem[] = [];
  constructor(private readonly src: YamlSource) {}

  fail(path: Path, message: string): undefined {
    this.problems.push(this.src.problem(path, message));
    return undefined;
  }

  obj(v: unknown, path: Path, allowed: readonly string[]): Obj | undefined {
    if (!isObj(v)) return this.fail(path, `expected a mapping, got ${describe(v)}`);
    for (const k of Object.keys(v)) if (!allowed.includes(k)) this.fail([...path, k], `unknown field (expected one of: ${allowed.join(', ')})`);
    return v;
  }

  str(o: Obj, key: string, path: Path, required = false): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) return required ? this.fail([...path, key], 'is required') : undefined;
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
    if (v instanceof Date) return v.toISOString();
    return this.fail([...path, key], `expected text, got ${describe(v)}`);
  }

  bool(o: Obj, key: string, path: Path, fallback: boolean): boolean {
    const v = o[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'boolean') return v;
    this.fail([...path, key], `expected true or false, got ${describe(v)}`);
    return fallback;
  }

  num(o: Obj, key: string, path: Path, min: number, max: number): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.fail([...path, key], `expected a number, got ${describe(v)}`);
    if (v < min || v > max) return this.fail([...path, key], `must be between ${min} and ${max}, got ${v}`);
    return v;
  }

  list(o: Obj, key: string, path: Path): unknown[] {
    const v = o[key];
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v;
    this.fail([...path, key], `expected a list, got ${describe(v)}`);
    return [];
  }

  strings(o: Obj, key: string, path: Path): string[] {
    return this.list(o, key, path).flatMap((v, i) => {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return [String(v)];
      if (v instanceof Date) return [v.toISOString()];
      this.fail([...path, key, i], `expected text, got ${describe(v)}`);
      return [];
    });
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function readConstraint(r: Reader, v: unknown, path: Path): Constraint | undefined {
  const o = r.obj(v, path, ['field', 'operator', 'values', 'value', 'case_insensitive', 'inverted']);
  if (!o) return undefined;
  const field = r.str(o, 'field', path, true);
  const op = r.str(o, 'operator', path, true);
  if (op !== undefined && !OPERATORS.has(op)) r.fail([...path, 'operator'], `unknown operator ${op} (expected one of: ${CONSTRAINT_OPERATORS.join(', ')})`);
  const values = o['value'] !== undefined ? [r.str(o, 'value', path) ?? ''] : r.strings(o, 'values', path);
  if (o['value'] !== undefined && o['values'] !== undefined) r.fail([...path, 'values'], 'give value or values, not both');
  if (field === undefined || op === undefined || !OPERATORS.has(op)) return undefined;
  const c: Constraint = {
    field,
    operator: op as ConstraintOperator,
    values,
    ...(r.bool(o, 'case_insensitive', path, false) ? { caseInsensitive: true } : {}),
    ...(r.bool(o, 'inverted', path, false) ? { inverted: true } : {}),
  };
  const bad = constraintProblem(c);
  if (bad) return r.fail([...path, o['value'] !== undefined ? 'value' : 'values'], bad);
  return c;
}

function readConstraints(r: Reader, o: Obj, key: string, path: Path): Constraint[] {
  return r.list(o, key, path).flatMap((c, i) => readConstraint(r, c, [...path, key, i]) ?? []);
}

function readPayload(r: Reader, v: unknown, path: Path): VariantPayload | undefined {
  const o = r.obj(v, path, ['type', 'value']);
  if (!o) return undefined;
  const type = r.str(o, 'type', path) ?? 'string';
  if (type !== 'string' && type !== 'json' && type !== 'csv' && type !== 'number') return r.fail([...path, 'type'], `expected string, json, csv or number, got ${type}`);
  const raw = o['value'];
  const value = typeof raw === 'string' ? raw : raw === undefined ? undefined : JSON.stringify(raw);
  if (value === undefined) return r.fail([...path, 'value'], 'is required');
  if (type === 'json') {
    try {
      JSON.parse(value);
    } catch {
      return r.fail([...path, 'value'], 'is not valid JSON');
    }
  }
  if (type === 'number' && !Number.isFinite(Number(value))) return r.fail([...path, 'value'], `is not a number: ${value}`);
  return { type, value };
}

function readVariants(r: Reader, o: Obj, key: string, path: Path): Variant[] {
  const seen = new Set<string>();
  return r.list(o, key, path).flatMap((v, i): Variant[] => {
    const p = [...path, key, i];
    const vo = r.obj(v, p, ['name', 'weight', 'payload', 'overrides']);
    if (!vo) return [];
    const name = r.str(vo, 'name', p, true);
    if (name && seen.has(name)) r.fail([...p, 'name'], `variant ${name} is listed twice`);
    if (name) seen.add(name);
    const weight = vo['weight'] === undefined ? 1 : r.num(vo, 'weight', p, 0, 1_000_000);
    const payload = vo['payload'] === undefined ? undefined : readPayload(r, vo['payload'], [...p, 'payload']);
    const overrides = r.list(vo, 'overrides', p).flatMap((ov, j): VariantOverride[] => {
      const op = [...p, 'overrides', j];
      const oo = r.obj(ov, op, ['field', 'values']);
      const field = oo && r.str(oo, 'field', op, true);
      return oo && field ? [{ field, values: r.strings(oo, 'values', op) }] : [];
    });
    if (!name || weight === undefined) return [];
    return [{ name, weight, ...(payload ? { payload } : {}), ...(overrides.length ? { overrides } : {}) }];
  });
}

function readWindow(r: Reader, v: unknown, path: Path): TimeWindow | undefined {
  const o = r.obj(v, path, ['from', 'until', 'recurring']);
  if (!o) return undefined;
  const from = r.str(o, 'from', path);
  const until = r.str(o, 'until', path);
  let recurring: TimeWindow['recurring'];
  if (o['recurring'] !== undefined) {
    const rp = [...path, 'recurring'];
    const ro = r.obj(o['recurring'], rp, ['days', 'start', 'end', 'zone']);
    if (ro) {
      const days = ro['days'] === undefined ? ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] : r.strings(ro, 'days', rp);
      recurring = {
        days: days.map((d) => DAYS[d.toLowerCase().slice(0, 3)] ?? Number(d)),
        start: r.str(ro, 'start', rp, true) ?? '00:00',
        end: r.str(ro, 'end', rp, true) ?? '00:00',
        zone: r.str(ro, 'zone', rp) ?? 'UTC',
      };
    }
  }
  const w: TimeWindow = { ...(from ? { from } : {}), ...(until ? { until } : {}), ...(recurring ? { recurring } : {}) };
  for (const [field, message] of timeWindowProblems(w)) r.fail([...path, ...field.split('.')], message);
  return w;
}

function readStrategy(r: Reader, v: unknown, path: Path, flagName: string, segments: ReadonlyMap<string, Segment>): Strategy | undefined {
  const common = ['kind', 'label', 'constraints', 'segments', 'variants', 'window'];
  const kind = isObj(v) ? v['kind'] : undefined;
  const extra = kind === 'gradual' ? ['percentage', 'stickiness', 'group_id'] : kind === 'list' ? Object.keys(LIST_FIELDS) : [];
  const o = r.obj(v, path, [...common, ...extra]);
  if (!o) return undefined;
  const label = r.str(o, 'label', path);
  const constraints = readConstraints(r, o, 'constraints', path);
  const segs = r.strings(o, 'segments', path).flatMap((name, i) => {
    const s = segments.get(name);
    if (!s) r.fail([...path, 'segments', i], `unknown segment ${name} (defined: ${[...segments.keys()].join(', ') || 'none'})`);
    return s ? [s] : [];
  });
  const variants = readVariants(r, o, 'variants', path);
  const window = o['window'] === undefined ? undefined : readWindow(r, o['window'], [...path, 'window']);
  const base = { ...(label ? { label } : {}), constraints, segments: segs, ...(variants.length ? { variants } : {}), ...(window ? { window } : {}) };
  switch (kind) {
    case 'default':
      return { kind: 'default', ...base };
    case 'gradual': {
      const percentage = r.num(o, 'percentage', path, 0, 100);
      if (o['percentage'] === undefined) r.fail([...path, 'percentage'], 'is required');
      const stickiness = r.str(o, 'stickiness', path) ?? 'slice_key';
      const groupId = r.str(o, 'group_id', path) ?? flagName;
      return percentage === undefined ? undefined : { kind: 'gradual', percentage, stickiness, groupId, ...base };
    }
    case 'list': {
      const given = Object.keys(LIST_FIELDS).filter((k) => o[k] !== undefined);
      if (given.length !== 1) return r.fail(path, `a list strategy needs exactly one of: ${Object.keys(LIST_FIELDS).join(', ')}`);
      const key = given[0]!;
      return { kind: 'list', field: LIST_FIELDS[key]!, values: r.strings(o, key, path), ...base };
    }
    default:
      return r.fail([...path, 'kind'], `expected default, gradual or list, got ${describe(kind)}`);
  }
}

const FLAG_FIELDS = ['name', 'description', 'type', 'kill_switch', 'scope', 'enabled', 'hash', 'strategies', 'variants', 'variant_stickiness', 'default_variant', 'dependencies', 'window'];

function readFlag(r: Reader, v: unknown, path: Path, segments: ReadonlyMap<string, Segment>): FlagDefinition | undefined {
  const o = r.obj(v, path, FLAG_FIELDS);
  if (!o) return undefined;
  const before = r.problems.length;
  const name = r.str(o, 'name', path, true);
  if (name && !NAME.test(name)) r.fail([...path, 'name'], `must be letters, digits, '_', '.' or '-', got ${name}`);
  const description = r.str(o, 'description', path);
  const variants = readVariants(r, o, 'variants', path);
  const strategies = r.list(o, 'strategies', path).flatMap((s, i) => readStrategy(r, s, [...path, 'strategies', i], name ?? '', segments) ?? []);
  const hasVariants = variants.length > 0 || strategies.some((s) => (s.variants?.length ?? 0) > 0);
  const type = r.str(o, 'type', path) ?? (hasVariants ? 'variant' : 'boolean');
  if (type !== 'boolean' && type !== 'variant') r.fail([...path, 'type'], `expected boolean or variant, got ${type}`);
  if (type === 'boolean' && hasVariants) r.fail([...path, 'type'], 'a boolean flag cannot have variants; use type: variant');
  const killSwitch = r.bool(o, 'kill_switch', path, false);
  if (killSwitch && type !== 'boolean') r.fail([...path, 'kill_switch'], 'a kill switch must be a boolean flag');
  let scope: FlagScope | undefined;
  if (o['scope'] !== undefined) {
    const so = r.obj(o['scope'], [...path, 'scope'], ['pipeline', 'dataset', 'source', 'step']);
    if (so) {
      const sp = [...path, 'scope'];
      const s = { pipeline: r.str(so, 'pipeline', sp), dataset: r.str(so, 'dataset', sp), source: r.str(so, 'source', sp), step: r.str(so, 'step', sp) };
      scope = Object.fromEntries(Object.entries(s).filter(([, x]) => x !== undefined));
    }
  }
  const hash = r.str(o, 'hash', path) ?? 'md5';
  if (hash !== 'md5' && hash !== 'murmur3') r.fail([...path, 'hash'], `expected md5 or murmur3, got ${hash}`);
  const variantStickiness = r.str(o, 'variant_stickiness', path);
  const defaultVariant = r.str(o, 'default_variant', path);
  if (defaultVariant && type !== 'variant') r.fail([...path, 'default_variant'], 'only a variant flag has a default variant');
  const dependencies = r.list(o, 'dependencies', path).flatMap((d, i): Dependency[] => {
    const dp = [...path, 'dependencies', i];
    const dobj = r.obj(d, dp, ['flag', 'enabled', 'variants']);
    const flag = dobj && r.str(dobj, 'flag', dp, true);
    if (!dobj || !flag) return [];
    if (flag === name) r.fail([...dp, 'flag'], 'a flag cannot depend on itself');
    const variantsWanted = dobj['variants'] === undefined ? undefined : r.strings(dobj, 'variants', dp);
    return [{ flag, ...(dobj['enabled'] !== undefined ? { enabled: r.bool(dobj, 'enabled', dp, true) } : {}), ...(variantsWanted ? { variants: variantsWanted } : {}) }];
  });
  const window = o['window'] === undefined ? undefined : readWindow(r, o['window'], [...path, 'window']);
  const enabled = r.bool(o, 'enabled', path, false);
  if (r.problems.length > before || !name) return undefined;
  return {
    name,
    ...(description ? { description } : {}),
    type: type as FlagDefinition['type'],
    killSwitch,
    ...(scope && Object.keys(scope).length ? { scope } : {}),
    enabled,
    hash: hash as FlagDefinition['hash'],
    strategies,
    variants,
    ...(variantStickiness ? { variantStickiness } : {}),
    ...(defaultVariant ? { defaultVariant } : {}),
    dependencies,
    ...(window ? { window } : {}),
  };
}

export function parseFlagFile(file: string, text: string): ParseFlagsResult {
  const parsed = parseYaml(file, text);
  if (!parsed.ok) return { ok: false, problems: parsed.problems };
  const src = parsed.source;
  const r = new Reader(src);
  const root = src.value;
  const single = isObj(root) && 'name' in root;
  const top = single ? undefined : r.obj(root, [], ['flags', 'segments']);
  const segments = new Map<string, Segment>();
  if (top && top['segments'] !== undefined) {
    const so = r.obj(top['segments'], ['segments'], Object.keys(isObj(top['segments']) ? top['segments'] : {}));
    for (const [name, list] of Object.entries(so ?? {})) {
      if (!Array.isArray(list)) {
        r.fail(['segments', name], 'expected a list of constraints');
        continue;
      }
      segments.set(name, { name, constraints: readConstraints(r, so!, name, ['segments']) });
    }
  }
  const flags: FlagDefinition[] = [];
  const entries: Array<[unknown, Path]> = single ? [[root, []]] : top ? r.list(top, 'flags', []).map((f, i): [unknown, Path] => [f, ['flags', i]]) : [];
  const seen = new Map<string, string>();
  for (const [raw, path] of entries) {
    const f = readFlag(r, raw, path, segments);
    if (!f) continue;
    if (seen.has(f.name)) r.fail([...path, 'name'], `flag ${f.name} is already defined at ${seen.get(f.name)}`);
    seen.set(f.name, `${file}:${src.lineOf(path) ?? '?'}`);
    flags.push(f);
  }
  if (r.problems.length > 0) return { ok: false, problems: r.problems };
  return { ok: true, flags: flags.map(deepFreeze) };
}
