import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYaml, type YamlSource } from '../util/yaml-source.ts';
import type { FlagDefinition, GradualStrategy, Segment, Variant } from './flag.ts';
import { stateOf, type FlagState } from './flag-state.ts';
import { parseFlagFile } from './parse-flag-file.ts';
import { parseDecimal } from '../util/decimal.ts';
import { SluiceError, configError, messageOf, type Problem } from '../util/errors.ts';
import { flagDoc, segmentsDoc, stateDoc, toYaml, type Doc } from './flag-document.ts';

/** What the state rules read of a project: its root (for flags/*.yaml segments) and its steps' versions. */
export interface FlagProject {
  readonly root: string;
  readonly pipelines: ReadonlyMap<string, { readonly steps: readonly { readonly name: string; readonly versions: ReadonlyMap<string, unknown> }[] }>;
}

/**
 * Builds the new state of a flag for `sluice flags set` from a YAML fragment (`--file`) and the
 * command's options. Every candidate state is checked by the flag-file parser itself: the declared
 * flag plus the state is written as a one-flag document and parsed back, so a state the CLI sets is
 * exactly one a flags/*.yaml file could declare. Problems in the fragment name its file and line
 * (exit 3); problems from options name the field (exit 2). Nothing is written here.
 */
export interface StateOptions {
  readonly file?: string;
  readonly enable?: boolean;
  readonly disable?: boolean;
  readonly rollout?: string;
  readonly stickiness?: string;
  readonly groupId?: string;
  readonly variant?: readonly string[];
}

export const STATE_FIELDS = ['enabled', 'strategies', 'variants', 'default_variant'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Segments a fragment may reference by name: those of the current state, then every `segments:`
 * entry of the project's flags/*.yaml files (the project loaded, so they are valid), in file form.
 */
function segmentPool(project: Pick<FlagProject, 'root'>, current: FlagState): Map<string, unknown> {
  const pool = new Map<string, unknown>();
  const mine = new Map<string, Segment>();
  for (const s of current.strategies) for (const seg of s.segments) if (!mine.has(seg.name)) mine.set(seg.name, seg);
  for (const [name, doc] of Object.entries(segmentsDoc(mine))) pool.set(name, doc);
  const dir = join(project.root, 'flags');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  for (const f of files) {
    const parsed = parseYaml(f, readFileSync(join(dir, f), 'utf8'));
    const segs = parsed.ok && isObj(parsed.source.value) ? parsed.source.value['segments'] : undefined;
    if (isObj(segs)) for (const [name, doc] of Object.entries(segs)) if (!pool.has(name)) pool.set(name, doc);
  }
  return pool;
}

/** The declared flag with its state fields replaced by `state` (file form), parsed back by parseFlagFile. */
function parseWithState(declared: FlagDefinition, state: Doc, pool: ReadonlyMap<string, unknown>): { ok: true; flag: FlagDefinition } | { ok: false; problems: Problem[] } {
  const identity = flagDoc(declared);
  for (const k of STATE_FIELDS) delete identity[k];
  const flag = { ...identity, ...state };
  const doc = { ...(pool.size ? { segments: Object.fromEntries(pool) } : {}), flags: [flag] };
  const r = parseFlagFile('(state)', toYaml(doc));
  if (!r.ok) return r;
  const [f] = r.flags;
  if (!f) throw new SluiceError('INTERNAL', `flag ${declared.name} vanished in its own document`);
  return { ok: true, flag: f };
}

/** A variant flag scoped to a step picks that step's versions: every variant must name one. */
export function versionProblems(project: Pick<FlagProject, 'pipelines'>, flag: FlagDefinition): Problem[] {
  const scope = flag.scope;
  if (flag.type !== 'variant' || !scope?.pipeline || !scope.step) return [];
  const step = project.pipelines.get(scope.pipeline)?.steps.find((s) => s.name === scope.step);
  if (!step) return [];
  const known = [...step.versions.keys()];
  const problems: Problem[] = [];
  const check = (name: string | undefined, field: string): void => {
    if (name !== undefined && !step.versions.has(name)) problems.push({ field, message: `step ${step.name} has no version "${name}" (versions: ${known.join(', ')})` });
  };
  check(flag.defaultVariant, 'default_variant');
  flag.variants.forEach((v, i) => check(v.name, `variants.${i}.name`));
  flag.strategies.forEach((s, i) => s.variants?.forEach((v, j) => check(v.name, `strategies.${i}.variants.${j}.name`)));
  return problems;
}

function fileError(file: string, problems: readonly Problem[]): SluiceError {
  const first = problems[0];
  if (problems.length === 1 && first) return configError(problems);
  return new SluiceError('CONFIG_INVALID', `${problems.length} problems in ${file}`, first ?? { file }, problems);
}

/** Field path of a problem inside the one-flag document, without the leading `flags.0`. */
function localField(p: Problem): string {
  return (p.field ?? '').replace(/^flags\.0\.?/, '');
}

function readFragment(file: string): { source: YamlSource; fragment: Obj } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SluiceError('NOT_FOUND', `cannot read ${file}: ${messageOf(e)}`, { file, field: '--file' });
  }
  const parsed = parseYaml(file, text);
  if (!parsed.ok) throw fileError(file, parsed.problems);
  const src = parsed.source;
  if (!isObj(src.value)) throw fileError(file, [src.problem([], `expected a mapping of state fields (${STATE_FIELDS.join(', ')})`)]);
  const problems = Object.keys(src.value)
    .filter((k) => !(STATE_FIELDS as readonly string[]).includes(k))
    .map((k) => src.problem([k], `not a state field: it is declared in flags/*.yaml and the same in every environment (state fields: ${STATE_FIELDS.join(', ')})`));
  if (problems.length) throw fileError(file, problems);
  return { source: src, fragment: src.value };
}

/** The fragment's fields over the current state, checked as a flag file; problems at the fragment's lines. */
function stateFromFile(file: string, declared: FlagDefinition, current: FlagState, project: FlagProject): FlagState {
  const { source, fragment } = readFragment(file);
  const pool = segmentPool(project, current);
  const merged: Doc = { ...stateDoc(current), ...fragment };
  const r = parseWithState(declared, merged, pool);
  const problems = r.ok ? versionProblems(project, r.flag).map((p) => ({ ...p, field: `flags.0.${p.field ?? ''}` })) : r.problems;
  if (problems.length) {
    throw fileError(file, problems.map((p) => {
      const field = localField(p);
      const top = field.split('.')[0] ?? '';
      // A problem inside the fragment gets its line; one in a field it left alone names the field only.
      return top in fragment ? source.problem(field, p.message) : { file, field: field || undefined, message: p.message };
    }));
  }
  if (!r.ok) throw new SluiceError('INTERNAL', 'unreachable');
  return stateOf(r.flag);
}

function percentage(v: string): number {
  const n = parseDecimal(v.trim().replace(/%$/, ''));
  if (n === undefined || n < 0 || n > 100) throw new SluiceError('USAGE', `--rollout takes a decimal percentage from 0 to 100 (got "${v}")`, { field: '--rollout' });
  return n;
}

function withRollout(declared: FlagDefinition, state: FlagState, o: StateOptions): FlagState {
  if (o.rollout === undefined) {
    if (o.stickiness !== undefined || o.groupId !== undefined) throw new SluiceError('USAGE', '--stickiness and --group-id go with --rollout', { field: '--rollout' });
    return state;
  }
  const pct = percentage(o.rollout);
  const gradual = state.strategies.flatMap((s, i) => (s.kind === 'gradual' ? [i] : []));
  if (gradual.length > 1) throw new SluiceError('USAGE', `flag ${declared.name} has ${gradual.length} gradual strategies; say which to change with --file`, { field: '--rollout' });
  const i = gradual[0];
  if (i !== undefined) {
    const s = state.strategies[i] as GradualStrategy;
    const next: GradualStrategy = { ...s, percentage: pct, stickiness: o.stickiness ?? s.stickiness, groupId: o.groupId ?? s.groupId };
    return { ...state, strategies: state.strategies.map((x, j) => (j === i ? next : x)) };
  }
  if (state.strategies.length > 0) {
    throw new SluiceError('USAGE', `flag ${declared.name} has strategies but no gradual one; add it with --file`, { field: '--rollout' });
  }
  const created: GradualStrategy = { kind: 'gradual', percentage: pct, stickiness: o.stickiness ?? (declared.hash === 'md5' ? 'slice_key' : 'default'), groupId: o.groupId ?? declared.name, constraints: [], segments: [] };
  return { ...state, strategies: [created] };
}

/** `--variant NAME[=WEIGHT] ...`: the flag's variants; without weights they split equally. Payloads and overrides of kept names stay. */
function withVariants(state: FlagState, specs: readonly string[] | undefined): FlagState {
  if (!specs || specs.length === 0) return state;
  const parsed = specs.map((spec) => {
    const m = /^([^=]+?)(?:=(\d+(?:\.\d+)?))?$/.exec(spec.trim());
    if (!m || !m[1]) throw new SluiceError('USAGE', `--variant takes NAME or NAME=WEIGHT (got "${spec}")`, { field: '--variant' });
    return { name: m[1], weight: m[2] === undefined ? undefined : Number(m[2]) };
  });
  const weighted = parsed.filter((p) => p.weight !== undefined).length;
  if (weighted !== 0 && weighted !== parsed.length) throw new SluiceError('USAGE', 'give a weight to every --variant or to none', { field: '--variant' });
  const variants = parsed.map((p): Variant => {
    const old = state.variants.find((v) => v.name === p.name);
    return { ...(old ?? {}), name: p.name, weight: p.weight ?? 1 };
  });
  return { ...state, variants };
}

/** The state `flags set` would write, or a SluiceError saying what is wrong with the request. */
export function buildState(declared: FlagDefinition, current: FlagDefinition, project: FlagProject, o: StateOptions): FlagState {
  if (o.enable && o.disable) throw new SluiceError('USAGE', 'give --enable or --disable, not both', { field: '--enable' });
  const anyOption = o.enable || o.disable || o.rollout !== undefined || (o.variant?.length ?? 0) > 0;
  if (!o.file && !anyOption && o.stickiness === undefined && o.groupId === undefined) {
    throw new SluiceError('USAGE', 'nothing to set: give --file, --enable/--disable, --rollout or --variant', { field: 'flags set' });
  }
  let state = o.file ? stateFromFile(o.file, declared, stateOf(current), project) : stateOf(current);
  if (!anyOption && o.stickiness === undefined && o.groupId === undefined) return state;
  if (o.enable) state = { ...state, enabled: true };
  if (o.disable) state = { ...state, enabled: false };
  state = withVariants(withRollout(declared, state, o), o.variant);
  const r = parseWithState(declared, stateDoc(state), segmentPool(project, state));
  const problems = r.ok ? versionProblems(project, r.flag) : r.problems.map((p) => ({ field: localField(p) || undefined, message: p.message }));
  if (problems.length) {
    const first = problems[0]!;
    throw new SluiceError('USAGE', problems.length === 1 ? `flag ${declared.name}: ${first.field ? `${first.field}: ` : ''}${first.message}` : `flag ${declared.name}: ${problems.length} problems in the new state`, { field: first.field }, problems);
  }
  if (!r.ok) throw new SluiceError('INTERNAL', 'unreachable');
  return stateOf(r.flag);
}
