import { Document, isScalar, isSeq, visit } from 'yaml';
import { constraintProblem } from './constraint.ts';
import type { Constraint, FlagDefinition, Segment, Strategy, TimeWindow, Variant } from './flag.ts';

/**
 * The inverse of `parseFlagFile`: flag definitions as a `flags/*.yaml` document (`segments:` plus
 * `flags:`), so `flags show` prints what a user would write and `flags import-unleash` writes a file
 * the project loads. The file format cannot hold a few things the model can (a constraint or
 * strategy Sluice cannot evaluate, an undefined segment, a list on a field other than
 * dataset/source/pipeline/step/partition); those are written as equivalent forms that evaluate the
 * same, each with a note.
 */
export type Doc = Record<string, unknown>;

export interface FlagDocument {
  readonly document: Doc;
  /** What had to be written in another, equivalent form, as `flag: note`. */
  readonly notes: readonly string[];
}

const DAY_NAMES = ['', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const LIST_KEYS: Readonly<Record<string, string>> = { dataset: 'datasets', source: 'sources', pipeline: 'pipelines', step: 'steps', partition: 'partitions' };
const SINGLE_VALUE = /^(NUM_|DATE_|SEMVER_|REGEX$)/;

/** A constraint that never matches, for what the file format cannot express but must not match. */
function neverMatches(field: string): Doc {
  return { field: field || 'never', operator: 'IN', values: [] };
}

function constraintDoc(c: Constraint, note: (s: string) => void): Doc {
  const broken = c.invalid ?? constraintProblem(c);
  if (broken) {
    note(`constraint on ${c.field || '(no field)'} never matches (${broken}); written as IN []`);
    return neverMatches(c.field);
  }
  const single = SINGLE_VALUE.test(c.operator);
  return {
    field: c.field,
    operator: c.operator,
    ...(single ? { value: c.values[0] ?? '' } : { values: [...c.values] }),
    ...(c.caseInsensitive ? { case_insensitive: true } : {}),
    ...(c.inverted ? { inverted: true } : {}),
  };
}

function variantDoc(v: Variant): Doc {
  return {
    name: v.name,
    weight: v.weight,
    ...(v.payload ? { payload: { type: v.payload.type, value: v.payload.value } } : {}),
    ...(v.overrides?.length ? { overrides: v.overrides.map((o) => ({ field: o.field, values: [...o.values] })) } : {}),
  };
}

export function windowDoc(w: TimeWindow): Doc {
  return {
    ...(w.from ? { from: w.from } : {}),
    ...(w.until ? { until: w.until } : {}),
    ...(w.recurring ? { recurring: { days: w.recurring.days.map((d) => DAY_NAMES[d] ?? String(d)), start: w.recurring.start, end: w.recurring.end, zone: w.recurring.zone } } : {}),
  };
}

function strategyDoc(s: Strategy, segments: Map<string, Segment>, note: (s: string) => void): Doc {
  const constraints = s.constraints.map((c) => constraintDoc(c, note));
  for (const seg of s.segments) if (!segments.has(seg.name)) segments.set(seg.name, seg);
  if (s.missingSegments?.length) {
    note(`a strategy references undefined segment(s) ${s.missingSegments.join(', ')}; written as a constraint that never matches`);
    constraints.push(neverMatches('segment'));
  }
  const head: Doc = {};
  switch (s.kind) {
    case 'default':
      head['kind'] = 'default';
      break;
    case 'gradual':
      Object.assign(head, { kind: 'gradual', percentage: s.percentage, stickiness: s.stickiness, group_id: s.groupId });
      break;
    case 'list': {
      const key = LIST_KEYS[s.field];
      if (key) Object.assign(head, { kind: 'list', [key]: [...s.values] });
      else {
        head['kind'] = 'default';
        constraints.unshift({ field: s.field, operator: 'IN', values: [...s.values] });
      }
      break;
    }
    case 'unknown':
      note(`strategy ${s.name} is not one Sluice implements; written as a strategy that never matches`);
      head['kind'] = 'default';
      constraints.push(neverMatches('strategy'));
      break;
  }
  const label = s.label ?? (s.kind === 'unknown' ? `unknown strategy ${s.name}` : s.kind === 'list' && !LIST_KEYS[s.field] ? `${s.field} in list` : undefined);
  return {
    ...head,
    ...(label ? { label } : {}),
    ...(constraints.length ? { constraints } : {}),
    ...(s.segments.length ? { segments: s.segments.map((x) => x.name) } : {}),
    ...(s.variants?.length ? { variants: s.variants.map(variantDoc) } : {}),
    ...(s.window ? { window: windowDoc(s.window) } : {}),
  };
}

/** The state fields of a flag (what `flags set --file` takes), in file form. */
export function stateDoc(
  flag: Pick<FlagDefinition, 'enabled' | 'strategies' | 'variants' | 'defaultVariant'>,
  segments: Map<string, Segment> = new Map(),
  note: (s: string) => void = () => {},
): Doc {
  return {
    enabled: flag.enabled,
    ...(flag.defaultVariant ? { default_variant: flag.defaultVariant } : {}),
    variants: flag.variants.map(variantDoc),
    strategies: flag.strategies.map((s) => strategyDoc(s, segments, note)),
  };
}

/** One flag as a mapping in file form; segments it uses are added to `segments`. */
export function flagDoc(flag: FlagDefinition, segments: Map<string, Segment> = new Map(), note: (s: string) => void = () => {}): Doc {
  const state = stateDoc(flag, segments, note);
  return {
    name: flag.name,
    ...(flag.description ? { description: flag.description } : {}),
    type: flag.type,
    ...(flag.killSwitch ? { kill_switch: true } : {}),
    ...(flag.scope && Object.keys(flag.scope).length ? { scope: { ...flag.scope } } : {}),
    enabled: state['enabled'],
    ...(flag.hash !== 'md5' ? { hash: flag.hash } : {}),
    ...(state['default_variant'] ? { default_variant: state['default_variant'] } : {}),
    ...(flag.variants.length ? { variants: state['variants'] } : {}),
    ...(flag.variantStickiness ? { variant_stickiness: flag.variantStickiness } : {}),
    strategies: state['strategies'],
    ...(flag.dependencies.length
      ? { dependencies: flag.dependencies.map((d) => ({ flag: d.flag, ...(d.enabled !== undefined ? { enabled: d.enabled } : {}), ...(d.variants ? { variants: [...d.variants] } : {}) })) }
      : {}),
    ...(flag.window ? { window: windowDoc(flag.window) } : {}),
  };
}

export function segmentsDoc(segments: ReadonlyMap<string, Segment>, note: (s: string) => void = () => {}): Doc {
  const out: Doc = {};
  for (const [name, seg] of segments) out[name] = seg.constraints.map((c) => constraintDoc(c, (n) => note(`segment ${name}: ${n}`)));
  return out;
}

/** Several flags as one `flags/*.yaml` document. */
export function flagsDocument(flags: readonly FlagDefinition[]): FlagDocument {
  const segments = new Map<string, Segment>();
  const notes: string[] = [];
  const list = flags.map((f) => flagDoc(f, segments, (n) => notes.push(`${f.name}: ${n}`)));
  return { document: { ...(segments.size ? { segments: segmentsDoc(segments, (n) => notes.push(n)) } : {}), flags: list }, notes };
}

/**
 * YAML text in the style of the files users write: block style, except that lists of scalars and
 * small mappings of scalars (a constraint, a variant, a scope) sit on one line; no line wrapping.
 */
export function toYaml(doc: unknown): string {
  const d = new Document(doc, { aliasDuplicateObjects: false });
  const scalarSeq = (n: unknown): boolean => isSeq(n) && n.items.every((i) => isScalar(i));
  visit(d, {
    Seq(_, node) {
      if (scalarSeq(node)) node.flow = true;
    },
    Map(_, node) {
      if (node !== d.contents && node.items.length <= 5 && node.items.every((p) => isScalar(p.value) || scalarSeq(p.value))) node.flow = true;
    },
  });
  return d.toString({ lineWidth: 0, flowCollectionPadding: false });
}
