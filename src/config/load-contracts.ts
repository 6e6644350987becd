import { existsSync, readdirSync, statSync } from 'node:fs';
import { PROJECT_LIMITS, readProjectFile } from '../util/project-file.ts';
import { join, relative, resolve } from 'node:path';
import { type Contract, parseContract } from '../quality/contract.ts';
import { standardDialect } from '../engine/sql-dialect.ts';
import { validateChecks } from '../quality/validate-checks.ts';
import { configError, type Problem } from '../util/errors.ts';
import type { Dataset, Pipeline, Project } from './project-model.ts';
import { parseYaml, type YamlSource } from '../util/yaml-source.ts';

/**
 * Data contracts, versioned per dataset. A dataset names its contract in the pipeline file
 * (`contract: contracts/cleaned_orders`), and the name is one of:
 *
 * - a folder of versions, one file each, named after the version: `contracts/cleaned_orders/v1.yaml`,
 *   `v2.yaml`, ... (`dataset:` and `version:` may be left out there; when given they must agree with
 *   the dataset and the file name);
 * - a YAML file (the `.yaml` may be left out of the reference) holding one contract, or a list of
 *   contracts, one per version.
 *
 * The highest version is the current one: a run's output must honour it before it is published.
 * Earlier versions stay in place so `sluice contract diff` can check a change against all of them.
 */
export interface ContractSet {
  readonly dataset: string;
  /** The reference as the pipeline file writes it. */
  readonly ref: string;
  /** Every version, oldest first. */
  readonly versions: readonly Contract[];
  /** The file (relative to the project root) each version was read from. */
  readonly files: ReadonlyMap<number, string>;
  /** The highest version. */
  readonly current: Contract;
}

export interface LoadContractsResult {
  /** Dataset name -> its contract versions, for every dataset whose contract loaded cleanly. */
  readonly contracts: ReadonlyMap<string, ContractSet>;
  /** Every problem, as `file:line field: message`; empty when all contracts are fine. */
  readonly problems: readonly Problem[];
  /** The same problems by the dataset whose contract has them. */
  readonly problemsByDataset: ReadonlyMap<string, readonly Problem[]>;
}

export type ContractRefResult = { readonly ok: true; readonly set: ContractSet } | { readonly ok: false; readonly problems: readonly Problem[] };

const VERSION_FILE = /^v(\d+)\.ya?ml$/;

/**
 * Loads the contract of every dataset that names one, collecting every problem: a missing file or
 * folder (reported at the pipeline's `datasets.X.contract` line), malformed YAML, unknown or
 * missing fields, duplicate versions, a contract of another dataset, a primary key that disagrees
 * with the dataset's, and checks on columns the contract does not declare.
 *
 * `loadProject` can call this after the pipelines are loaded and add the problems to its own.
 */
export function loadContracts(root: string, pipelines: ReadonlyMap<string, Pipeline>): LoadContractsResult {
  const contracts = new Map<string, ContractSet>();
  const problems: Problem[] = [];
  const problemsByDataset = new Map<string, readonly Problem[]>();
  for (const pipeline of pipelines.values()) {
    let pipelineSource: YamlSource | undefined;
    const at = (field: string, message: string): Problem => {
      if (!pipelineSource) {
        const read = readProjectFile(join(root, pipeline.file), pipeline.file, PROJECT_LIMITS.yamlBytes);
        const parsed = read.ok ? parseYaml(pipeline.file, read.text) : undefined;
        if (parsed?.ok) pipelineSource = parsed.source;
      }
      return pipelineSource ? pipelineSource.problem(field, message) : { file: pipeline.file, field, message };
    };
    for (const dataset of pipeline.datasets.values()) {
      if (!dataset.contract) continue;
      const r = loadContractRef(root, dataset.contract, { dataset, at: (message) => at(`datasets.${dataset.name}.contract`, message) });
      if (r.ok) contracts.set(dataset.name, r.set);
      else {
        problems.push(...r.problems);
        problemsByDataset.set(dataset.name, r.problems);
      }
    }
  }
  return { contracts, problems, problemsByDataset };
}

const cache = new WeakMap<Project, LoadContractsResult>();

/** The project's contracts, loaded once per loaded project. */
export function projectContracts(project: Project): LoadContractsResult {
  let r = cache.get(project);
  if (!r) {
    r = loadContracts(project.root, project.pipelines);
    cache.set(project, r);
  }
  return r;
}

/**
 * The contract versions of one dataset, or undefined when it declares none. Throws CONFIG_INVALID
 * listing every problem (file:line field) when its contract does not load.
 */
export function datasetContract(project: Project, dataset: Dataset): ContractSet | undefined {
  if (!dataset.contract) return undefined;
  const r = projectContracts(project);
  const set = r.contracts.get(dataset.name);
  if (set) return set;
  throw configError(r.problemsByDataset.get(dataset.name) ?? r.problems);
}

/**
 * Loads one contract reference (a folder of vN.yaml files, or a file with one contract or a list),
 * relative to `root`. With `dataset`, each version must be that dataset's (and may omit `dataset:`).
 */
export function loadContractRef(
  root: string,
  ref: string,
  options: { readonly dataset?: Pick<Dataset, 'name' | 'primaryKey'>; readonly at?: (message: string) => Problem } = {},
): ContractRefResult {
  const problems: Problem[] = [];
  const notFound = (message: string): ContractRefResult => ({ ok: false, problems: [options.at ? options.at(message) : { file: ref, message }] });
  const abs = resolve(root, ref);
  const candidates = [abs, `${abs}.yaml`, `${abs}.yml`];
  const found = candidates.find((p) => existsSync(p));
  if (!found) return notFound(`contract ${ref} not found: expected a folder of versions (${ref}/v1.yaml, v2.yaml, ...) or a YAML file`);
  const entries: { contract: Contract; file: string }[] = [];
  if (statSync(found).isDirectory()) {
    const files = readdirSync(found).filter((f) => /\.ya?ml$/.test(f)).sort();
    for (const f of files) {
      const rel = relative(root, join(found, f));
      const m = VERSION_FILE.exec(f);
      if (!m) {
        problems.push({ file: rel, message: `contract versions are files named v1.yaml, v2.yaml, ...; rename ${f} or move it out of ${relative(root, found)}` });
        continue;
      }
      const fromName = Number(m[1]);
      const src = readSource(root, rel, problems);
      if (!src) continue;
      const raw = src.value;
      if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
        const o = raw as Record<string, unknown>;
        if (o['version'] !== undefined && o['version'] !== fromName) {
          problems.push(src.problem('version', `version ${String(o['version'])} does not match the file name ${f} (version ${fromName})`));
          continue;
        }
        parseInto(src, { ...o, version: fromName, dataset: o['dataset'] ?? options.dataset?.name }, '', entries, problems);
      } else parseInto(src, raw, '', entries, problems);
    }
    if (files.length === 0) return notFound(`contract folder ${ref} holds no versions (v1.yaml, v2.yaml, ...)`);
  } else {
    const rel = relative(root, found);
    const src = readSource(root, rel, problems);
    if (src) {
      const withDataset = (x: unknown): unknown =>
        typeof x === 'object' && x !== null && !Array.isArray(x) && options.dataset && (x as Record<string, unknown>)['dataset'] === undefined ? { ...x, dataset: options.dataset.name } : x;
      if (Array.isArray(src.value)) {
        if (src.value.length === 0) problems.push(src.problem('', 'the contract list is empty'));
        src.value.forEach((item: unknown, i: number) => parseInto(src, withDataset(item), String(i), entries, problems));
      } else parseInto(src, withDataset(src.value), '', entries, problems);
    }
  }
  if (problems.length > 0) return { ok: false, problems };

  const byVersion = new Map<number, { contract: Contract; file: string }>();
  for (const e of entries) {
    const other = byVersion.get(e.contract.version);
    if (other) problems.push({ file: e.file, field: 'version', message: `version ${e.contract.version} is declared twice (also in ${other.file})` });
    byVersion.set(e.contract.version, e);
  }
  const datasetName = options.dataset?.name ?? entries[0]?.contract.dataset;
  for (const e of entries) {
    if (datasetName && e.contract.dataset !== datasetName)
      problems.push({ file: e.file, field: 'dataset', message: `this contract is for dataset ${e.contract.dataset}, but ${options.dataset ? 'it is referenced by' : 'the others are for'} dataset ${datasetName}` });
  }
  const versions = [...byVersion.values()].sort((a, b) => a.contract.version - b.contract.version);
  const current = versions[versions.length - 1];
  if (!current) return notFound(`contract ${ref} holds no versions`);
  const pk = options.dataset?.primaryKey ?? [];
  if (pk.length > 0 && current.contract.primaryKey.length > 0 && pk.join(',') !== current.contract.primaryKey.join(','))
    problems.push({ file: current.file, field: 'primary_key', message: `primary key [${current.contract.primaryKey.join(', ')}] differs from the dataset's primary_key [${pk.join(', ')}]` });
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    set: {
      dataset: current.contract.dataset,
      ref,
      versions: versions.map((v) => v.contract),
      files: new Map(versions.map((v) => [v.contract.version, v.file])),
      current: current.contract,
    },
  };
}

function readSource(root: string, rel: string, problems: Problem[]): YamlSource | undefined {
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

/** Parses one contract at `path` of a file, then checks its checks against its own columns. */
function parseInto(src: YamlSource, raw: unknown, path: string, out: { contract: Contract; file: string }[], problems: Problem[]): void {
  const r = parseContract(raw, { source: src, path });
  if (!r.ok) {
    problems.push(...r.problems);
    return;
  }
  const columns = r.contract.columns.map((c) => ({ name: c.name, type: c.type, family: standardDialect.typeFamily(c.type) }));
  const checkProblems = validateChecks(r.contract.checks, columns, `the contract's columns`);
  if (checkProblems.length > 0) {
    problems.push(...checkProblems);
    return;
  }
  out.push({ contract: r.contract, file: src.file });
}
