import { parseYaml } from '../util/yaml-source.ts';
import type { Problem } from '../util/errors.ts';
import type { GateSpec } from './gate-spec.ts';
import { parseGateSpec } from './parse-gate-spec.ts';
import type { Obj, Path } from './plan-reader.ts';
import { PlanReader, describe } from './plan-reader.ts';
import type { CanaryDimension, CanaryTarget, DataKind, EnvironmentPlan, KnownStep, RiskEntry, RolloutPlan, StagePlan, StageMode, StepRef } from './rollout-plan.ts';
import { stepKey } from './rollout-plan.ts';

export type ParseRolloutPlanResult = { readonly ok: true; readonly plan: RolloutPlan } | { readonly ok: false; readonly problems: readonly Problem[] };

const TOP = ['name', 'description', 'step', 'steps', 'baseline', 'candidate', 'approvals', 'gates', 'environments', 'risks'];
const ENV = ['name', 'data', 'stages'];
const STAGE = ['id', 'mode', 'percent', 'datasets', 'sources', 'pipelines', 'gates', 'approvals'];
const DIMENSIONS: readonly CanaryDimension[] = ['datasets', 'sources', 'pipelines'];

/**
 * Parses `rollouts/NAME.yaml`. Every problem comes back at once, each with file, line and field
 * path. `knownSteps`, when given, lets the parser check that the steps, versions, slice keys and
 * canary datasets exist in the project. The plan name defaults to the file's base name.
 *
 * Approvals: a stage needs `approvals: N` before it is entered; by default the first stage of every
 * environment listed in `approvals.before` (default `[prod]`) needs `approvals.required` (default 1).
 */
export function parseRolloutPlan(file: string, text: string, knownSteps?: readonly KnownStep[]): ParseRolloutPlanResult {
  const parsed = parseYaml(file, text);
  if (!parsed.ok) return { ok: false, problems: parsed.problems };
  const source = parsed.source;
  const r = new PlanReader(source);
  const root = r.obj(source.value, []);
  if (!root) return { ok: false, problems: r.problems };
  r.onlyKeys(root, [], TOP);

  const name = r.str(root, 'name', []) ?? baseName(file);
  const description = r.str(root, 'description', []);
  const steps = parseSteps(r, root);
  const baseline = r.str(root, 'baseline', [], true);
  const candidate = r.str(root, 'candidate', [], true);
  if (baseline && candidate && baseline === candidate) r.report(['candidate'], `must differ from baseline (${baseline})`);

  // Reusable gates by id.
  const catalog = new Map<string, GateSpec>();
  const rawGates = root['gates'];
  if (rawGates !== undefined) {
    const gates = r.obj(rawGates, ['gates']);
    for (const id of Object.keys(gates ?? {})) {
      const g = r.obj(gates?.[id], ['gates', id]);
      if (g && g['id'] !== undefined && g['id'] !== id) r.report(['gates', id, 'id'], `differs from its key "${id}"; leave it out`);
      const spec = g ? parseGateSpec(r, g, ['gates', id], id) : undefined;
      if (spec) catalog.set(id, spec);
    }
  }

  // Approvals default.
  let approvalsRequired = 1;
  let approvalsBefore: readonly string[] | undefined;
  if (root['approvals'] !== undefined) {
    const a = r.obj(root['approvals'], ['approvals']);
    if (a) {
      r.onlyKeys(a, ['approvals'], ['required', 'before']);
      if (a['required'] === 0) r.report(['approvals', 'required'], 'must be at least 1: an approval that nobody has to give is no approval (to need none, list no environments: approvals: { before: [] })');
      else approvalsRequired = r.num(a, 'required', ['approvals'], { min: 1, integer: true }) ?? 1;
      approvalsBefore = r.strList(a, 'before', ['approvals']);
    }
  }

  const gateIds = new Set(catalog.keys());
  const environments: EnvironmentPlan[] = [];
  const envList = r.list(root, 'environments', [], true) ?? [];
  if (root['environments'] !== undefined && envList.length === 0) r.report(['environments'], 'needs at least one environment');
  const envNames = new Set<string>();
  envList.forEach((e, ei) => {
    const path: Path = ['environments', ei];
    const env = typeof e === 'string' ? { name: e } : r.obj(e, path);
    if (!env) return;
    r.onlyKeys(env, path, ENV);
    const envName = r.str(env, 'name', path, true) ?? `#${ei}`;
    if (envNames.has(envName)) r.report([...path, 'name'], `environment "${envName}" appears twice`);
    envNames.add(envName);
    const data = r.oneOf<DataKind>(env, 'data', path, ['sample', 'synthetic', 'real']);
    const stages: StagePlan[] = [];
    const stageList = r.list(env, 'stages', path, true) ?? [];
    if (env['stages'] !== undefined && stageList.length === 0) r.report([...path, 'stages'], 'needs at least one stage');
    let lastRowPercent = 0;
    stageList.forEach((s, si) => {
      const sp: Path = [...path, 'stages', si];
      const stage = parseStage(r, s, sp, envName, catalog, gateIds);
      if (!stage) return;
      if (stages.some((x) => x.id === stage.id)) r.report([...sp, 'id'], `stage id "${stage.id}" appears twice in environment ${envName}`);
      if (stage.target?.kind === 'rows') {
        if (stage.target.percent < lastRowPercent) r.report([...sp, 'percent'], `must not shrink within an environment (${stage.target.percent} after ${lastRowPercent}); slices are monotone`);
        lastRowPercent = stage.target.percent;
      }
      stages.push(stage);
    });
    environments.push({ name: envName, ...(data ? { data } : {}), stages });
  });

  // Default approvals: first stage of each listed environment, unless the stage says otherwise.
  const before = approvalsBefore ?? (envNames.has('prod') ? ['prod'] : []);
  before.forEach((b, i) => {
    const [envName, stageId] = b.split('/');
    const env = environments.find((x) => x.name === envName);
    const idx = env ? (stageId ? env.stages.findIndex((s) => s.id === stageId) : 0) : -1;
    if (!env || idx < 0) {
      if (approvalsBefore) r.report(['approvals', 'before', i], `no environment or stage "${b}" in this plan`);
      return;
    }
    const rawStage = stageRaw(root, environments.indexOf(env), idx);
    if (rawStage?.['approvals'] !== undefined) return;
    const stages = env.stages.map((s, k) => (k === idx ? { ...s, approvals: approvalsRequired } : s));
    environments[environments.indexOf(env)] = { ...env, stages };
  });

  const risks = parseRisks(r, root, gateIds);
  if (knownSteps) crossCheck(r, root['step'] !== undefined, knownSteps, steps, baseline, candidate, environments);

  if (r.problems.length > 0 || !baseline || !candidate) return { ok: false, problems: r.problems };
  return { ok: true, plan: { name, ...(description ? { description } : {}), steps, baseline, candidate, environments, risks } };
}

function baseName(file: string): string {
  const b = file.split(/[\\/]/).pop() ?? file;
  return b.replace(/\.ya?ml$/, '');
}

function stageRaw(root: Obj, ei: number, si: number): Obj | undefined {
  const envs = root['environments'];
  const env = Array.isArray(envs) ? envs[ei] : undefined;
  const stages = env && typeof env === 'object' ? (env as Obj)['stages'] : undefined;
  const s = Array.isArray(stages) ? stages[si] : undefined;
  return s && typeof s === 'object' ? (s as Obj) : undefined;
}

function parseStepRef(r: PlanReader, v: unknown, path: Path): StepRef | undefined {
  if (typeof v === 'string') {
    const m = /^([^.\s]+)\.([^.\s]+)$/.exec(v);
    if (m?.[1] && m[2]) return { pipeline: m[1], step: m[2] };
    r.report(path, `expected PIPELINE.STEP, got ${describe(v)}`);
    return undefined;
  }
  const o = r.obj(v, path);
  if (!o) return undefined;
  r.onlyKeys(o, path, ['pipeline', 'step']);
  const pipeline = r.str(o, 'pipeline', path, true);
  const step = r.str(o, 'step', path, true);
  return pipeline && step ? { pipeline, step } : undefined;
}

function parseSteps(r: PlanReader, root: Obj): StepRef[] {
  const steps: StepRef[] = [];
  if (root['step'] !== undefined && root['steps'] !== undefined) r.report(['steps'], 'give either step or steps, not both');
  if (root['step'] !== undefined) {
    const s = parseStepRef(r, root['step'], ['step']);
    if (s) steps.push(s);
  } else {
    const list = r.list(root, 'steps', []);
    if (!list) r.report(['steps'], 'is required (or step: PIPELINE.STEP)');
    else if (list.length === 0) r.report(['steps'], 'needs at least one step');
    list?.forEach((v, i) => {
      const s = parseStepRef(r, v, ['steps', i]);
      if (!s) return;
      if (steps.some((x) => stepKey(x) === stepKey(s))) r.report(['steps', i], `step ${stepKey(s)} appears twice`);
      steps.push(s);
    });
  }
  return steps;
}

function parseStage(r: PlanReader, v: unknown, path: Path, envName: string, catalog: ReadonlyMap<string, GateSpec>, gateIds: Set<string>): StagePlan | undefined {
  const s = r.obj(v, path);
  if (!s) return undefined;
  r.onlyKeys(s, path, STAGE);
  const mode = r.oneOf<StageMode>(s, 'mode', path, ['shadow', 'canary', 'full']);
  if (!mode) {
    if (s['mode'] === undefined) r.report([...path, 'mode'], 'is required (shadow | canary | full)');
    return undefined;
  }
  let target: CanaryTarget | undefined;
  const given = ['percent', ...DIMENSIONS].filter((k) => s[k] !== undefined);
  if (mode !== 'canary') {
    for (const k of given) r.report([...path, k], `only a canary stage takes ${k}`);
  } else if (given.length !== 1) {
    r.report(path, given.length === 0 ? 'a canary stage needs percent, datasets, sources or pipelines' : `give only one of ${given.join(', ')}`);
  } else if (given[0] === 'percent') {
    const p = r.num(s, 'percent', path, { min: 0, max: 100 });
    if (p !== undefined && p <= 0) r.report([...path, 'percent'], 'must be more than 0');
    else if (p !== undefined) target = { kind: 'rows', percent: p };
  } else {
    const dimension = given[0] as CanaryDimension;
    const raw = s[dimension];
    if (Array.isArray(raw)) {
      const values = r.strList(s, dimension, path) ?? [];
      if (values.length === 0) r.report([...path, dimension], 'needs at least one name');
      else target = { kind: 'list', dimension, values };
    } else if (r.isObj(raw)) {
      r.onlyKeys(raw, [...path, dimension], ['share']);
      const p = r.num(raw, 'share', [...path, dimension], { min: 0, max: 100, required: true });
      if (p !== undefined) target = { kind: 'share', dimension, percent: p };
    } else r.report([...path, dimension], `expected a list of names or { share: PERCENT }, got ${describe(raw)}`);
  }
  const id = r.str(s, 'id', path) ?? (mode === 'canary' ? `canary-${target?.kind === 'rows' || target?.kind === 'share' ? target.percent : 'list'}` : mode);
  const gates: GateSpec[] = [];
  (r.list(s, 'gates', path) ?? []).forEach((g, gi) => {
    const gp: Path = [...path, 'gates', gi];
    if (typeof g === 'string') {
      const spec = catalog.get(g);
      if (spec) gates.push(spec);
      else r.report(gp, `no gate "${g}" in the gates section`);
      return;
    }
    const o = r.obj(g, gp);
    if (!o) return;
    let gid = typeof o['id'] === 'string' ? o['id'] : `${envName}/${id}/${String(o['kind'] ?? 'gate')}`;
    if (typeof o['id'] === 'string' && gateIds.has(gid)) r.report([...gp, 'id'], `gate id "${gid}" is already used`);
    for (let n = 2; typeof o['id'] !== 'string' && gateIds.has(gid); n++) gid = `${envName}/${id}/${String(o['kind'])}-${n}`;
    gateIds.add(gid);
    const spec = parseGateSpec(r, o, gp, gid);
    if (spec) gates.push(spec);
  });
  const approvals = r.num(s, 'approvals', path, { min: 0, integer: true }) ?? 0;
  return { id, mode, ...(target ? { target } : {}), gates, approvals };
}

function parseRisks(r: PlanReader, root: Obj, gateIds: ReadonlySet<string>): RiskEntry[] {
  const risks: RiskEntry[] = [];
  (r.list(root, 'risks', []) ?? []).forEach((v, i) => {
    const path: Path = ['risks', i];
    const o = r.obj(v, path);
    if (!o) return;
    r.onlyKeys(o, path, ['id', 'exposure', 'mitigation', 'gate']);
    const exposure = r.str(o, 'exposure', path, true);
    const mitigation = r.str(o, 'mitigation', path, true);
    const gate = r.str(o, 'gate', path, true);
    if (gate && !gateIds.has(gate)) r.report([...path, 'gate'], `no gate "${gate}" in this plan (known: ${[...gateIds].join(', ') || 'none'})`);
    if (exposure && mitigation && gate) risks.push({ id: r.str(o, 'id', path) ?? `risk-${i + 1}`, exposure, mitigation, gate });
  });
  return risks;
}

function crossCheck(r: PlanReader, singleStep: boolean, known: readonly KnownStep[], steps: readonly StepRef[], baseline: string | undefined, candidate: string | undefined, envs: readonly EnvironmentPlan[]): void {
  const found: KnownStep[] = [];
  steps.forEach((s, i) => {
    const path: Path = singleStep ? ['step'] : ['steps', i];
    const k = known.find((x) => x.pipeline === s.pipeline && x.step === s.step);
    if (!k) {
      r.report(path, `no step ${stepKey(s)} in the project`);
      return;
    }
    found.push(k);
    for (const [field, v] of [['baseline', baseline], ['candidate', candidate]] as const) {
      if (v && !k.versions.includes(v)) r.report([field], `step ${stepKey(s)} has no version ${v} (has ${k.versions.join(', ') || 'none'})`);
    }
  });
  const datasets = new Set(found.flatMap((k) => k.datasets ?? []));
  envs.forEach((env, ei) =>
    env.stages.forEach((st, si) => {
      const path: Path = ['environments', ei, 'stages', si];
      if (st.target?.kind === 'rows') {
        for (const k of found) if (!k.sliceKey) r.report([...path, 'percent'], `step ${stepKey(k)} declares no slice_key, so rows cannot be sliced; add one or canary by datasets or pipelines`);
      }
      if (st.target?.kind === 'list' && st.target.dimension === 'datasets' && datasets.size > 0) {
        for (const d of st.target.values) if (!datasets.has(d)) r.report([...path, 'datasets'], `dataset ${d} is not written by the moving steps (${[...datasets].join(', ')})`);
      }
      if (st.target?.kind === 'list' && st.target.dimension === 'pipelines') {
        for (const p of st.target.values) if (!steps.some((s) => s.pipeline === p)) r.report([...path, 'pipelines'], `pipeline ${p} is not one of the moving steps' pipelines`);
      }
    }),
  );
}
