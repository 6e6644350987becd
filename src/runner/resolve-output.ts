import { existsSync } from 'node:fs';
import { WHOLE } from '../config/partitioning.ts';
import { resolve } from 'node:path';
import { type ContractSet, datasetContract, loadContractRef } from '../config/load-contracts.ts';
import type { Dataset, Pipeline, Project, Source } from '../config/project-model.ts';
import type { OutputVersion, Warehouse } from '../engine/warehouse.ts';
import type { Contract } from '../quality/contract.ts';
import { SluiceError, configError } from '../util/errors.ts';

/** A dataset and the pipeline that publishes it; NOT_FOUND naming the known datasets otherwise. */
export function findDataset(project: Project, name: string): { dataset: Dataset; pipeline: Pipeline } {
  for (const pipeline of project.pipelines.values()) {
    const dataset = pipeline.datasets.get(name);
    if (dataset) return { dataset, pipeline };
  }
  const known = [...project.pipelines.values()].flatMap((p) => [...p.datasets.keys()]);
  throw new SluiceError('NOT_FOUND', `unknown dataset "${name}" (datasets: ${known.join(', ') || 'none'})`, { field: 'dataset' });
}

export function findSource(project: Project, name: string): { source: Source; pipeline: Pipeline } | undefined {
  for (const pipeline of project.pipelines.values()) {
    const source = pipeline.sources.get(name);
    if (source) return { source, pipeline };
  }
  return undefined;
}

/** The partition a command names, or the whole table of an unpartitioned dataset when it names none. */
export function datasetPartition(dataset: Dataset, partition: string | undefined): string {
  if (partition !== undefined) return partition;
  if (dataset.partitioning.kind === 'whole') return WHOLE;
  throw new SluiceError('USAGE', `--partition is required: ${dataset.name} is partitioned by ${dataset.partitionColumn}`, { field: '--partition' });
}

/**
 * An output version of a dataset's step for one partition, named by the user as
 * - an output version id (`clean_orders.r12`, as `sluice publications` shows),
 * - `published` (what the partition shows now), or
 * - a step version (`v2`): the newest output version of that step version for the partition.
 */
export async function resolveOutputVersion(warehouse: Warehouse, dataset: Dataset, partition: string, ref: string, field: string): Promise<{ version: OutputVersion; published: boolean }> {
  const current = (await warehouse.currentPublications(dataset.name)).find((p) => p.partition === partition);
  let version: OutputVersion | undefined;
  if (ref === 'published') {
    if (!current) throw new SluiceError('NOT_FOUND', `${dataset.name} has no published partition ${partition}`, { field });
    version = await warehouse.outputVersion(current.versionId);
  } else {
    version = await warehouse.outputVersion(ref);
    if (!version) {
      const candidates = (await warehouse.outputVersions({ step: dataset.step, partition })).filter((v) => v.stepVersion === ref);
      version = candidates[candidates.length - 1];
    }
    if (!version) {
      const known = (await warehouse.outputVersions({ step: dataset.step, partition })).map((v) => v.id);
      throw new SluiceError('NOT_FOUND', `no output version "${ref}" of step ${dataset.step} for partition ${partition} (known: ${known.join(', ') || 'none'})`, { field });
    }
  }
  if (!version) throw new SluiceError('NOT_FOUND', `output version ${current?.versionId} is gone`, { field });
  if (version.step !== dataset.step) throw new SluiceError('USAGE', `output version ${version.id} is of step ${version.step}, but ${dataset.name} publishes step ${dataset.step}`, { field });
  if (version.partition !== partition) throw new SluiceError('USAGE', `output version ${version.id} holds partition ${version.partition}, not ${partition}`, { field });
  return { version, published: current?.versionId === version.id };
}

/** The contract of a dataset, or undefined; CONFIG_INVALID (file:line field) when it does not load. */
export function contractOf(project: Project, dataset: Dataset): ContractSet | undefined {
  return datasetContract(project, dataset);
}

/** What one side of `contract diff` names: the versions it stands for, oldest first, and a label. */
export interface ContractSide {
  readonly label: string;
  readonly versions: readonly Contract[];
  /** The one version a `DATASET@vN` reference names (the old side also holds every version before it). */
  readonly named?: { readonly dataset: string; readonly version: number };
}

const DATASET_REF = /^([A-Za-z_][A-Za-z0-9_]*)(?:@v?(\d+))?$/;

/**
 * One side of `sluice contract diff`: a contract file or folder (relative to the current folder,
 * else to the project), `DATASET` (all of its versions) or `DATASET@vN` (version N and, for the
 * older side, every version before it, which the transitive modes compare against).
 */
export async function resolveContractSide(arg: string, side: 'old' | 'new', project: () => Promise<Project>): Promise<ContractSide> {
  const m = DATASET_REF.exec(arg);
  const asPath = [resolve(arg), ...[`${arg}.yaml`, `${arg}.yml`].map((p) => resolve(p))].find((p) => existsSync(p));
  if (asPath || !m) {
    const base = asPath ? process.cwd() : (await project()).root;
    const r = loadContractRef(base, arg);
    if (!r.ok) throw configError(r.problems);
    const versions = r.set.versions;
    return { label: arg, versions: side === 'new' ? versions.slice(-1) : versions };
  }
  const p = await project();
  const name = m[1] ?? '';
  const { dataset } = findDataset(p, name);
  const set = contractOf(p, dataset);
  if (!set) throw new SluiceError('NOT_FOUND', `dataset ${name} declares no contract (add contract: contracts/${name} to its pipeline)`, { field: 'contract' });
  if (m[2] === undefined) return { label: `${name}@v${set.current.version}`, versions: side === 'new' ? [set.current] : set.versions, ...(side === 'new' ? { named: { dataset: name, version: set.current.version } } : {}) };
  const n = Number(m[2]);
  const version = set.versions.find((v) => v.version === n);
  if (!version) throw new SluiceError('NOT_FOUND', `contract of ${name} has no version ${n} (versions: ${set.versions.map((v) => `v${v.version}`).join(', ')})`, { field: 'contract' });
  return { label: `${name}@v${n}`, versions: side === 'new' ? [version] : set.versions.filter((v) => v.version <= n), named: { dataset: name, version: n } };
}
