import { createHash } from 'node:crypto';
import { PROJECT_LIMITS, readProjectFile } from '../util/project-file.ts';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { configError, type Problem } from '../util/errors.ts';
import { parseYaml, type YamlSource } from '../util/yaml-source.ts';
import { pipelineSchema, projectSchema } from './schemas.ts';
import { lineOf, type SqlAnalyzer } from '../engine/sql-analysis.ts';
import { PARTITION_RELATION } from '../engine/partition-binding.ts';
import { stableJson } from '../util/stable-json.ts';
import { DAILY, describePartitioning, isTimeZone, samePartitioning, WHOLE, type Partitioning } from './partitioning.ts';
import { parseChecks } from '../quality/parse-checks.ts';
import { bindProject } from './bind-project.ts';
import { readPlanFiles } from './load-rollout-plans.ts';
import { parseFlagFile } from '../flags/parse-flag-file.ts';
import { loadContracts } from './load-contracts.ts';
import type { FlagDefinition } from '../flags/flag.ts';
import { DEFAULT_STORAGE, type Dataset, type Pipeline, type Project, type Source, type Step, type StepVersion, type StorageSettings, type StoreSettings, type WarehouseSettings } from './project-model.ts';
import { parseDuration } from '../rollout/parse-duration.ts';

export const PROJECT_FILE = 'sluice.yaml';
export const DEFAULT_ENVIRONMENTS = ['dev', 'test', 'stage', 'prod'] as const;

// Compiled on first use: commands that read only settings and metadata start without paying for it.
let ajv: Ajv | undefined;
const compiled = new Map<object, ValidateFunction>();
function validator(schema: object): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    ajv ??= new Ajv({ allErrors: true, strict: false });
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

export type LoadResult = { ok: true; project: Project; notes: readonly string[] } | { ok: false; problems: Problem[] };

/** What sluice.yaml alone says: enough for commands that read only metadata. */
export type ProjectSettings = Pick<Project, 'root' | 'name' | 'environments' | 'defaultEnvironment' | 'warehouse' | 'store' | 'storage'> & { readonly pipelineDir: string };

export interface LoadOptions {
  /**
   * The SQL analyzer of the engine the project's warehouse runs on: step dependencies and the
   * one-SELECT rule come from its parser (the composition root opens it; it is closed after use).
   */
  readonly analyzerFor: (warehouse: WarehouseSettings) => Promise<SqlAnalyzer>;
  /**
   * Also bind every step version, check and rollout plan against the engine without running
   * anything (`sluice validate`, and `run`/`backfill`/`rollout start` before they write).
   */
  readonly bind?: boolean;
  /** Also parse every plan in rollouts/ (validate; a command that starts one plan checks only that one). */
  readonly plans?: boolean;
  /**
   * Also check every file of every file source as a run would before reading a row (CSV headers
   * against the declared columns): validate. A run checks only its partition's files, so one bad
   * partition never blocks the others.
   */
  readonly files?: boolean;
}

/** Reads and checks sluice.yaml only (no pipelines, flags or SQL). */
export function loadProjectSettings(dir: string): { ok: true; settings: ProjectSettings } | { ok: false; problems: Problem[] } {
  const root = resolve(dir);
  const problems: Problem[] = [];
  const projectPath = join(root, PROJECT_FILE);
  if (!existsSync(projectPath)) {
    return { ok: false, problems: [{ file: projectPath, message: `no ${PROJECT_FILE} here; run \`sluice init\` or pass --project DIR` }] };
  }
  const src = readYaml(root, PROJECT_FILE, problems);
  if (!src) return { ok: false, problems };
  const validateProjectFile = validator(projectSchema);
  if (!validateProjectFile(src.value)) {
    problems.push(...schemaProblems(src, validateProjectFile.errors ?? []));
    return { ok: false, problems };
  }
  const raw = src.value as ProjectFile;
  const environments = raw.environments ?? [...DEFAULT_ENVIRONMENTS];
  const defaultEnvironment = raw.default_environment ?? environments[0] ?? 'dev';
  if (!environments.includes(defaultEnvironment)) {
    problems.push(src.problem('default_environment', `"${defaultEnvironment}" is not one of the environments (${environments.join(', ')})`));
  }
  if (new Set(environments).size !== environments.length) problems.push(src.problem('environments', 'environments must be unique'));
  const warehouse = warehouseSettings(src, raw, problems);
  const store = storeSettings(src, raw, problems);
  const storage = storageSettings(src, raw, problems);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, settings: { root, name: raw.name, environments, defaultEnvironment, warehouse, store, storage, pipelineDir: raw.pipelines ?? 'pipelines' } };
}

/** Loads and validates a whole project, collecting every problem before answering. */
export async function loadProject(dir: string, options: LoadOptions): Promise<LoadResult> {
  const s = loadProjectSettings(dir);
  if (!s.ok) return s;
  const { root, pipelineDir } = s.settings;
  const problems: Problem[] = [];
  const drafts: PipelineDraft[] = [];
  const datasetOwners = new Map<string, string>();
  const names = new Map<string, string>();
  const pipelineFiles = existsSync(join(root, pipelineDir))
    ? readdirSync(join(root, pipelineDir)).filter((f) => /\.ya?ml$/.test(f)).sort()
    : [];
  if (pipelineFiles.length === 0) problems.push({ file: join(root, pipelineDir), message: 'no pipeline files (*.yaml) found' });
  if (pipelineFiles.length > PROJECT_LIMITS.filesPerFolder) return { ok: false, problems: [{ file: pipelineDir, message: `holds ${pipelineFiles.length} pipeline files; a project is limited to ${PROJECT_LIMITS.filesPerFolder}` }] };
  for (const f of pipelineFiles) {
    const rel = join(pipelineDir, f);
    const p = loadPipeline(root, rel, problems);
    if (!p) continue;
    const other = names.get(p.name);
    if (other) {
      problems.push({ file: rel, field: 'name', message: `pipeline "${p.name}" is declared twice (also in ${other})` });
      continue;
    }
    for (const ds of p.datasets.keys()) {
      const owner = datasetOwners.get(ds);
      if (owner) problems.push({ file: rel, field: `datasets.${ds}`, message: `dataset "${ds}" is already published by pipeline "${owner}"` });
      datasetOwners.set(ds, p.name);
    }
    names.set(p.name, rel);
    drafts.push(p);
  }
  const pipelines = new Map<string, Pipeline>();
  const notes: string[] = [];
  // Scope checks need every pipeline; when one failed to load they would only repeat its problem.
  let pipelinesComplete = false;
  if (problems.length === 0) {
    const analyzer = await options.analyzerFor(s.settings.warehouse);
    try {
      for (const p of await resolveSteps(drafts, analyzer, problems)) pipelines.set(p.name, p);
      // Problems of single step versions leave the pipelines whole: flags, contracts and plans are still checked.
      pipelinesComplete = problems.every((p) => p.version !== undefined);
      // Binding goes on past versions the parser refused (they, and what reads them, are skipped), so every problem is reported at once.
      if (options.bind && problems.every((p) => p.version !== undefined)) {
        const sources = new Map(drafts.map((d) => [d.name, d.src]));
        const problemAt = (p: Pipeline, field: string, message: string): Problem => sources.get(p.name)?.problem(field, message) ?? { file: p.file, field, message };
        const refused = new Set(problems.flatMap((p) => (p.file ? [p.file] : [])));
        const bound = await bindProject(pipelines, root, analyzer, problemAt, refused, options.files === true);
        problems.push(...bound.problems);
        notes.push(...bound.notes);
      }
    } finally {
      await analyzer.close();
    }
  }
  const flags = withImplicitStepFlags(loadFlags(root, pipelines, problems, pipelinesComplete), pipelines);
  // Contracts are checked with the project, so `sluice validate` and every command report them up front.
  if (pipelinesComplete) problems.push(...loadContracts(root, pipelines).problems);
  const { pipelineDir: _dir, ...settings } = s.settings;
  const project: Project = { ...settings, pipelines, flags };
  // Rollout plans are part of the project: a broken plan is a problem of the whole check.
  if (options.plans && pipelinesComplete) for (const f of readPlanFiles(project)) problems.push(...f.problems.map((p) => ({ ...p, file: p.file ?? f.file })));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, project, notes };
}

/**
 * Every step with more than one version gets a version flag, so it can be flipped, sliced or rolled
 * out without writing one: `<pipeline>.<step>.version`, off, its default version as the baseline.
 * A variant flag declared for the step in flags/ takes its place.
 */
export function implicitStepFlagName(pipeline: string, step: string): string {
  return `${pipeline}.${step}.version`;
}

function withImplicitStepFlags(declared: FlagDefinition[], pipelines: ReadonlyMap<string, Pipeline>): FlagDefinition[] {
  const out = [...declared];
  for (const p of pipelines.values()) {
    for (const step of p.steps) {
      if (step.versions.size < 2) continue;
      const covered = declared.some((f) => f.type === 'variant' && f.scope?.step === step.name && (!f.scope.pipeline || f.scope.pipeline === p.name));
      if (covered) continue;
      out.push({
        name: implicitStepFlagName(p.name, step.name),
        description: `which version of ${p.name}.${step.name} runs (implicit: the step has several versions)`,
        type: 'variant',
        killSwitch: false,
        scope: { pipeline: p.name, step: step.name },
        enabled: false,
        hash: 'md5',
        strategies: [],
        variants: [...step.versions.keys()].filter((v) => v !== step.defaultVersion).map((name) => ({ name, weight: 100 })),
        defaultVariant: step.defaultVersion,
        dependencies: [],
      });
    }
  }
  return out;
}

/** Flags declared in flags/*.yaml; a flag scoped to a step may only name that step's versions. */
function loadFlags(root: string, pipelines: ReadonlyMap<string, Pipeline>, problems: Problem[], checkScopes: boolean): FlagDefinition[] {
  const dir = join(root, 'flags');
  if (!existsSync(dir)) return [];
  const flags: FlagDefinition[] = [];
  const seen = new Map<string, string>();
  for (const f of readdirSync(dir).filter((x) => /\.ya?ml$/.test(x)).sort()) {
    const rel = join('flags', f);
    const read = readProjectFile(join(root, rel), rel, PROJECT_LIMITS.yamlBytes);
    if (!read.ok) {
      problems.push(read.problem);
      continue;
    }
    const r = parseFlagFile(rel, read.text);
    if (!r.ok) {
      problems.push(...r.problems);
      continue;
    }
    const src = parseYaml(rel, read.text);
    const problemAt = (path: string, message: string): Problem => (src.ok ? src.source.problem(path, message) : { file: rel, message });
    for (const flag of r.flags) {
      const other = seen.get(flag.name);
      if (other) problems.push(problemAt('name', `flag "${flag.name}" is declared twice (also in ${other})`));
      seen.set(flag.name, rel);
      const scope = flag.scope;
      if (scope?.pipeline && checkScopes) {
        const p = pipelines.get(scope.pipeline);
        if (!p) problems.push(problemAt('scope.pipeline', `flag ${flag.name}: unknown pipeline "${scope.pipeline}"`));
        else if (scope.step) {
          const step = p.steps.find((s) => s.name === scope.step);
          if (!step) problems.push(problemAt('scope.step', `flag ${flag.name}: pipeline ${p.name} has no step "${scope.step}"`));
          else if (flag.type === 'variant') {
            for (const v of [...flag.variants.map((x) => x.name), ...(flag.defaultVariant ? [flag.defaultVariant] : [])]) {
              if (!step.versions.has(v)) problems.push(problemAt('variants', `flag ${flag.name}: step ${step.name} has no version "${v}" (versions: ${[...step.versions.keys()].join(', ')})`));
            }
          }
        }
      }
      flags.push(flag);
    }
  }
  return flags;
}

/** Like loadProject, but throws a CONFIG_INVALID SluiceError listing every problem. */
export async function loadProjectOrThrow(dir: string, options: LoadOptions): Promise<Project> {
  const r = await loadProject(dir, options);
  if (!r.ok) throw configError(r.problems);
  return r.project;
}

type WarehouseFile = string | { kind?: 'duckdb' | 'postgres'; path?: string; memory_limit?: string; threads?: number; url?: string };

interface ProjectFile {
  name: string;
  environments?: string[];
  default_environment?: string;
  warehouse?: WarehouseFile;
  engine?: WarehouseFile;
  store?: string | { kind?: 'sqlite' | 'postgres'; path?: string; url?: string };
  pipelines?: string;
  storage?: { compact_after?: number; retention?: { keep_versions?: number; keep_for?: string; grace?: string } };
}

/** `storage:`: compaction and retention, each field defaulted. */
function storageSettings(src: YamlSource, raw: ProjectFile, problems: Problem[]): StorageSettings {
  const r = raw.storage?.retention ?? {};
  const duration = (field: 'keep_for' | 'grace', fallback: number): number => {
    const text = r[field];
    if (text === undefined) return fallback;
    const ms = parseDuration(text);
    if (ms === undefined) problems.push(src.problem(['storage', 'retention', field], `"${text}" is not a duration (use 30m, 12h, 7d)`));
    return ms ?? fallback;
  };
  return {
    compactAfter: raw.storage?.compact_after ?? DEFAULT_STORAGE.compactAfter,
    retention: { keepVersions: r.keep_versions ?? DEFAULT_STORAGE.retention.keepVersions, keepForMs: duration('keep_for', DEFAULT_STORAGE.retention.keepForMs), graceMs: duration('grace', DEFAULT_STORAGE.retention.graceMs) },
  };
}

/** `warehouse:` (or its older name `engine:`): DuckDB files by default, or a PostgreSQL URL. */
function warehouseSettings(src: YamlSource, raw: ProjectFile, problems: Problem[]): WarehouseSettings {
  if (raw.warehouse !== undefined && raw.engine !== undefined) problems.push(src.problem('engine', 'give warehouse: or its older name engine:, not both'));
  const field = raw.warehouse !== undefined ? 'warehouse' : 'engine';
  const w = raw.warehouse ?? raw.engine ?? {};
  if (typeof w === 'string') return { kind: 'postgres', url: w };
  if (w.kind === 'postgres' || (w.kind === undefined && w.url !== undefined)) {
    if (!w.url) problems.push(src.problem(field, `a postgres warehouse needs url: postgres://user@host:port/database`));
    for (const k of ['path', 'memory_limit', 'threads'] as const) if (w[k] !== undefined) problems.push(src.problem([field, k], `${k} is a DuckDB setting; a postgres warehouse takes url only`));
    return { kind: 'postgres', url: w.url ?? '' };
  }
  if (w.url !== undefined) problems.push(src.problem([field, 'url'], 'url goes with kind: postgres'));
  return { kind: 'duckdb', pathTemplate: w.path ?? '.sluice/warehouse-{env}.duckdb', ...(w.memory_limit ? { memoryLimit: w.memory_limit } : {}), ...(w.threads ? { threads: w.threads } : {}) };
}

/** `store:`: a SQLite file by default, or a PostgreSQL URL shared by a team. */
function storeSettings(src: YamlSource, raw: ProjectFile, problems: Problem[]): StoreSettings {
  const s = raw.store ?? {};
  if (typeof s === 'string') return { kind: 'postgres', url: s };
  if (s.kind === 'postgres' || (s.kind === undefined && s.url !== undefined)) {
    if (!s.url) problems.push(src.problem('store', 'a postgres store needs url: postgres://user@host:port/database'));
    if (s.path !== undefined) problems.push(src.problem(['store', 'path'], 'path is a SQLite setting; a postgres store takes url only'));
    return { kind: 'postgres', url: s.url ?? '' };
  }
  if (s.url !== undefined) problems.push(src.problem(['store', 'url'], 'url goes with kind: postgres'));
  return { kind: 'sqlite', path: s.path ?? '.sluice/sluice.db' };
}

interface PartitionFile {
  column: string;
  by?: 'hour' | 'day' | 'month' | 'value';
  time_zone?: string;
  values?: (string | number)[];
}

interface PipelineFile {
  name: string;
  sources?: Record<string, { format?: 'csv' | 'parquet' | 'json'; path?: string; table?: string; partition_column?: string; hive?: boolean; partitioned?: boolean; columns?: Record<string, string> }>;
  steps: Record<string, { default_version?: string; slice_key?: string; key_local?: boolean; checks?: unknown[]; versions: Record<string, { sql: string; settings?: Record<string, unknown> }> }>;
  datasets?: Record<string, { step: string; partition_column?: string; partition?: PartitionFile; allow_empty?: boolean; primary_key?: string[]; event_time?: string; checks?: unknown[]; contract?: string; profile?: boolean }>;
}

function readYaml(root: string, rel: string, problems: Problem[]): YamlSource | undefined {
  const read = readProjectFile(join(root, rel), rel, PROJECT_LIMITS.yamlBytes);
  if (!read.ok) {
    problems.push(read.problem);
    return undefined;
  }
  const parsed = parseYaml(rel, read.text);
  if (!parsed.ok) {
    problems.push(...parsed.problems);
    return undefined;
  }
  return parsed.source;
}

function schemaProblems(src: YamlSource, errors: readonly ErrorObject[]): Problem[] {
  // A bad key name comes as its own error (naming the key) and again as the propertyNames error around it: keep the first.
  return errors.filter((e) => e.keyword !== 'propertyNames').map((e) => {
    const path = e.instancePath.split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    if (e.propertyName !== undefined) path.push(e.propertyName);
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      const extra = String((e.params as { additionalProperty?: string }).additionalProperty);
      path.push(extra);
      message = 'unknown field';
    } else if (e.keyword === 'enum') {
      message = `must be one of ${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')}`;
    } else if (e.keyword === 'required') {
      message = `missing required field "${(e.params as { missingProperty?: string }).missingProperty}"`;
    } else if (e.keyword === 'pattern' && String((e.params as { pattern?: string }).pattern).startsWith('^postgres')) {
      message = 'must be a PostgreSQL URL (postgres://user@host:port/database)';
    } else if (e.keyword === 'type') {
      message = `must be ${((e.params as { type?: string | string[] }).type ?? 'another type').toString().replace(',', ' or ')}`;
    } else if (e.propertyName !== undefined || e.keyword === 'pattern') {
      message = `${e.propertyName !== undefined ? `"${e.propertyName}": ` : ''}names must start with a letter or _ and hold only letters, digits and _ (ASCII)`;
    }
    return src.problem(path, message);
  });
}

/** The first count of a pipeline file beyond PROJECT_LIMITS, if any. */
function countLimits(raw: PipelineFile): { field: string; message: string } | undefined {
  const steps = Object.keys(raw.steps).length;
  if (steps > PROJECT_LIMITS.steps) return { field: 'steps', message: `declares ${steps} steps; a pipeline is limited to ${PROJECT_LIMITS.steps}` };
  for (const [name, s] of Object.entries(raw.steps)) {
    const n = Object.keys(s.versions).length;
    if (n > PROJECT_LIMITS.versionsPerStep) return { field: `steps.${name}.versions`, message: `declares ${n} versions; a step is limited to ${PROJECT_LIMITS.versionsPerStep}` };
  }
  for (const [name, s] of Object.entries(raw.steps)) {
    const n = s.checks?.length ?? 0;
    if (n > PROJECT_LIMITS.checksPerDataset) return { field: `steps.${name}.checks`, message: `declares ${n} checks; a step is limited to ${PROJECT_LIMITS.checksPerDataset}` };
  }
  for (const [name, d] of Object.entries(raw.datasets ?? {})) {
    const n = d.checks?.length ?? 0;
    if (n > PROJECT_LIMITS.checksPerDataset) return { field: `datasets.${name}.checks`, message: `declares ${n} checks; a dataset is limited to ${PROJECT_LIMITS.checksPerDataset}` };
  }
  return undefined;
}

/**
 * A dataset's partitioning: `partition:` in full, `partition_column:` for daily partitions (the
 * older form), or neither for an unpartitioned dataset.
 */
function parsePartition(d: NonNullable<PipelineFile['datasets']>[string], at: string, src: YamlSource, problems: Problem[]): { column?: string; partitioning: Partitioning } {
  if (d.partition && d.partition_column !== undefined) {
    problems.push(src.problem(`${at}.partition_column`, 'give either partition_column (daily partitions) or partition: { column, by, ... }, not both'));
  }
  if (!d.partition) return d.partition_column ? { column: d.partition_column, partitioning: DAILY } : { partitioning: { kind: 'whole' } };
  const p = d.partition;
  const by = p.by ?? (p.values ? 'value' : 'day');
  if (by === 'value') {
    if (!p.values) {
      problems.push(src.problem(`${at}.partition`, 'by: value partitions need values: [a, b, ...], the declared partitions'));
      return { column: p.column, partitioning: { kind: 'values', values: [] } };
    }
    if (p.time_zone !== undefined) problems.push(src.problem(`${at}.partition.time_zone`, 'time_zone goes with time partitions (by: hour, day or month)'));
    const values = p.values.map(String);
    values.forEach((v, i) => {
      const bad = partitionValueProblem(v);
      if (bad) problems.push(src.problem(`${at}.partition.values.${i}`, `${JSON.stringify(v)} ${bad}`));
      else if (values.indexOf(v) !== i) problems.push(src.problem(`${at}.partition.values.${i}`, `${JSON.stringify(v)} is declared twice`));
    });
    return { column: p.column, partitioning: { kind: 'values', values } };
  }
  if (p.values) problems.push(src.problem(`${at}.partition.values`, `values go with by: value; by: ${by} partitions are times`));
  const timeZone = p.time_zone ?? 'UTC';
  if (!isTimeZone(timeZone)) problems.push(src.problem(`${at}.partition.time_zone`, `unknown time zone ${JSON.stringify(timeZone)} (an IANA name such as Europe/Berlin or America/New_York)`));
  return { column: p.column, partitioning: { kind: 'time', grain: by, timeZone } };
}

/** Why a categorical partition value cannot be one (it must survive a command line, an audit target and a file name). */
function partitionValueProblem(v: string): string | undefined {
  if (v === '' || v.trim() !== v) return 'is empty or starts or ends with a space';
  if (v === WHOLE) return `is the name of the whole table (${WHOLE})`;
  if (v.length > 200) return 'is longer than 200 characters';
  if (/[\u0000-\u001f\u007f]/u.test(v)) return 'holds a control character';
  return undefined;
}

/** A pipeline as its file says, before its SQL is analysed: steps without inputs, in file order. */
interface PipelineDraft extends Omit<Pipeline, 'steps'> {
  readonly src: YamlSource;
  readonly steps: ReadonlyMap<string, Omit<Step, 'inputs'>>;
}

function loadPipeline(root: string, rel: string, problems: Problem[]): PipelineDraft | undefined {
  const src = readYaml(root, rel, problems);
  if (!src) return undefined;
  const validatePipelineFile = validator(pipelineSchema);
  if (!validatePipelineFile(src.value)) {
    problems.push(...schemaProblems(src, validatePipelineFile.errors ?? []));
    return undefined;
  }
  const raw = src.value as PipelineFile;
  const before = problems.length;
  const over = countLimits(raw);
  if (over) {
    problems.push(src.problem(over.field, over.message));
    return undefined;
  }

  const sources = new Map<string, Source>();
  for (const [name, s] of Object.entries(raw.sources ?? {})) {
    const at = `sources.${name}`;
    if (name.toLowerCase() === PARTITION_RELATION) {
      problems.push(src.problem(at, `${PARTITION_RELATION} is the name step SQL reads the run's partition by; give the source another name`));
      continue;
    }
    if ((s.path === undefined) === (s.table === undefined)) {
      problems.push(src.problem(at, 'a source has either `path` (files) or `table` (a warehouse table)'));
      continue;
    }
    const partitioned = s.partitioned ?? true;
    if (partitioned && !s.partition_column) {
      problems.push(src.problem(at, 'missing `partition_column` (or set `partitioned: false` for a source read whole every run)'));
      continue;
    }
    const partitionColumn = partitioned ? s.partition_column : undefined;
    if (s.path !== undefined) {
      const format = s.format ?? inferFormat(s.path);
      if (!format) {
        problems.push(src.problem(`${at}.format`, `cannot tell the format of "${s.path}"; set format: csv, parquet or json`));
        continue;
      }
      sources.set(name, { kind: 'files', name, format, path: s.path, partitionColumn, hive: s.hive ?? false, columns: s.columns });
    } else if (s.table !== undefined) {
      sources.set(name, { kind: 'table', name, table: s.table, partitionColumn, columns: s.columns });
    }
  }

  const stepsByName = new Map<string, Omit<Step, 'inputs'>>();
  for (const [name, s] of Object.entries(raw.steps)) {
    const at = `steps.${name}`;
    if (name.toLowerCase() === PARTITION_RELATION) problems.push(src.problem(at, `${PARTITION_RELATION} is the name step SQL reads the run's partition by; give the step another name`));
    if (sources.has(name)) problems.push(src.problem(at, `"${name}" is both a source and a step`));
    const versions = new Map<string, StepVersion>();
    for (const [vname, v] of Object.entries(s.versions)) {
      const sqlPath = join(root, v.sql);
      const read = readProjectFile(sqlPath, v.sql, PROJECT_LIMITS.sqlBytes);
      if (!read.ok) {
        problems.push(src.problem(`${at}.versions.${vname}.sql`, `SQL file ${v.sql} ${read.problem.message}`));
        continue;
      }
      const sql = read.text.replace(/\r\n/g, '\n');
      if (sql.trim() === '') {
        problems.push(src.problem(`${at}.versions.${vname}.sql`, `SQL file ${v.sql} is empty`));
        continue;
      }
      const settings = v.settings ?? {};
      versions.set(vname, { name: vname, sqlFile: relative(root, sqlPath), sql, settings, hash: versionHash(sql, settings) });
    }
    const defaultVersion = s.default_version ?? Object.keys(s.versions)[0] ?? '';
    if (!(defaultVersion in s.versions)) {
      problems.push(src.problem(`${at}.default_version`, `unknown version "${defaultVersion}" (versions: ${Object.keys(s.versions).join(', ')})`));
    }
    const checks = parseChecks(s.checks, { source: src, path: `${at}.checks` });
    if (!checks.ok) problems.push(...checks.problems);
    stepsByName.set(name, { name, defaultVersion, sliceKey: s.slice_key, keyLocal: s.key_local ?? false, versions, checks: checks.ok ? checks.checks : [] });
  }

  const datasets = new Map<string, Dataset>();
  for (const [name, d] of Object.entries(raw.datasets ?? {})) {
    const at = `datasets.${name}`;
    if (!stepsByName.has(d.step)) {
      problems.push(src.problem(`${at}.step`, `unknown step "${d.step}" (steps: ${[...stepsByName.keys()].join(', ')})`));
      continue;
    }
    if (sources.has(name)) problems.push(src.problem(at, `dataset "${name}" has the name of a source; give the published table its own name`));
    if (stepsByName.has(name) && name !== d.step) problems.push(src.problem(at, `dataset "${name}" has the name of another step`));
    const checks = parseChecks(d.checks, { source: src, path: `${at}.checks` });
    if (!checks.ok) problems.push(...checks.problems);
    const partition = parsePartition(d, at, src, problems);
    datasets.set(name, {
      name,
      step: d.step,
      ...(partition.column ? { partitionColumn: partition.column } : {}),
      partitioning: partition.partitioning,
      allowEmpty: d.allow_empty ?? false,
      primaryKey: d.primary_key ?? [],
      eventTime: d.event_time,
      // The step's own checks hold for every dataset it publishes, after the dataset's.
      checks: [...(checks.ok ? checks.checks : []), ...(stepsByName.get(d.step)?.checks ?? [])],
      contract: d.contract,
      profile: d.profile ?? true,
    });
  }
  if (Object.keys(raw.datasets ?? {}).length === 0) problems.push(src.problem('datasets', 'a pipeline publishes at least one dataset'));
  // A run is one partition of the pipeline: every dataset it publishes is cut the same way.
  const [first, ...others] = [...datasets.values()];
  const partitioning = first?.partitioning ?? DAILY;
  for (const d of others) {
    if (!samePartitioning(d.partitioning, partitioning)) {
      problems.push(src.problem(`datasets.${d.name}.${raw.datasets?.[d.name]?.partition ? 'partition' : 'partition_column'}`, `dataset ${d.name} is partitioned ${describePartitioning(d.partitioning)} but ${first?.name} ${describePartitioning(partitioning)}; one run publishes one partition of each dataset of its pipeline, so they are cut alike (put datasets cut another way in a pipeline of their own, reading these as table: sources)`));
    }
  }
  if (problems.length > before) return undefined;
  return { name: raw.name, file: rel, src, sources, steps: stepsByName, datasets, partitioning };
}

/**
 * A step's inputs are the sources and steps of its pipeline that its SQL reads, found by the
 * engine's parser (CTE names resolved away); every version must be one SELECT that reads nothing
 * else and calls nothing that reaches outside its inputs. Steps are then put in dependency order.
 */
async function resolveSteps(drafts: readonly PipelineDraft[], analyzer: SqlAnalyzer, problems: Problem[]): Promise<Pipeline[]> {
  const versions = drafts.flatMap((p) => [...p.steps.values()].flatMap((s) => [...s.versions.values()].map((v) => ({ pipeline: p, step: s, version: v }))));
  const results = await analyzer.analyze(versions.map((v) => v.version.sql));
  const inputs = new Map<string, Set<string>>();
  // The names a step may read, per pipeline (lower case -> as declared); built once, not per version.
  const knownByPipeline = new Map<string, Map<string, string>>();
  const knownOf = (pipeline: PipelineDraft): Map<string, string> => {
    let known = knownByPipeline.get(pipeline.name);
    if (!known) {
      known = new Map();
      for (const n of [...pipeline.sources.keys(), ...pipeline.steps.keys()]) known.set(n.toLowerCase(), n);
      knownByPipeline.set(pipeline.name, known);
    }
    return known;
  };
  for (const [i, { pipeline, step, version }] of versions.entries()) {
    const r = results[i];
    const key = `${pipeline.name}\0${step.name}`;
    const set = inputs.get(key) ?? new Set<string>();
    inputs.set(key, set);
    const at = (offset: number | undefined, message: string): Problem => ({
      file: version.sqlFile,
      ...(offset !== undefined ? lineOf(version.sql, offset) : {}),
      step: step.name,
      version: version.name,
      message,
    });
    if (!r) continue;
    if (!r.ok) {
      problems.push(at(r.offset, `the SQL ${r.message}`));
      continue;
    }
    const known = knownOf(pipeline);
    for (const rel of r.analysis.relations) {
      // The run's partition, bound by the runner: not an input (it changes no step's hash or order).
      if (rel.name.toLowerCase() === PARTITION_RELATION && !rel.schema && !rel.catalog) continue;
      const name = known.get(rel.name.toLowerCase());
      if (name && !rel.schema && !rel.catalog) {
        if (name !== step.name) set.add(name);
        else problems.push(at(rel.offset, `step ${step.name} reads itself`));
        continue;
      }
      const written = [rel.catalog, rel.schema, rel.name].filter(Boolean).join('.');
      problems.push(at(rel.offset, `reads ${written}, which is neither a source nor a step of pipeline ${pipeline.name}; declare it under sources: (a table in the warehouse: { table: ${written}, partitioned: false })`));
    }
    for (const f of [...r.analysis.tableFunctions, ...r.analysis.functions]) {
      if (f.outside) problems.push(at(f.offset, `calls ${f.name}(), which ${f.outside}; a step reads only its declared sources and earlier steps`));
    }
  }
  return drafts.map((p) => {
    const steps = new Map([...p.steps.values()].map((s): [string, Step] => [s.name, { ...s, inputs: [...(inputs.get(`${p.name}\0${s.name}`) ?? [])] }]));
    const { src, ...rest } = p;
    return { ...rest, steps: orderSteps(steps, src, problems) };
  });
}

function inferFormat(path: string): 'csv' | 'parquet' | 'json' | undefined {
  if (/\.csv(\.gz)?$/i.test(path)) return 'csv';
  if (/\.parquet$/i.test(path)) return 'parquet';
  if (/\.(json|ndjson|jsonl)(\.gz)?$/i.test(path)) return 'json';
  return undefined;
}

export function versionHash(sql: string, settings: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(sql).update('\0').update(stableJson(settings)).digest('hex');
}

/** Topological order of steps by their step inputs; a cycle is reported with its path. */
function orderSteps(steps: ReadonlyMap<string, Step>, src: YamlSource, problems: Problem[]): Step[] {
  // Iterative depth-first search: linear in steps and edges, and no recursion for long chains.
  const order: Step[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  for (const start of steps.keys()) {
    if (state.has(start)) continue;
    const stack: { name: string; next: number }[] = [{ name: start, next: 0 }];
    state.set(start, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { name: string; next: number };
      const step = steps.get(top.name);
      const inputs = (step?.inputs ?? []).filter((i) => steps.has(i));
      if (top.next < inputs.length) {
        const input = inputs[top.next++] as string;
        const st = state.get(input);
        if (st === 'visiting') {
          const names = stack.map((f) => f.name);
          problems.push(src.problem(`steps.${input}`, `dependency cycle: ${[...names.slice(names.indexOf(input)), input].join(' -> ')}`));
        } else if (st === undefined) {
          state.set(input, 'visiting');
          stack.push({ name: input, next: 0 });
        }
        continue;
      }
      state.set(top.name, 'done');
      if (step) order.push(step);
      stack.pop();
    }
  }
  return order;
}
