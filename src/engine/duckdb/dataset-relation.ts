import { quoteIdent } from '../sql.ts';
import { outsidePartitions } from '../partition-predicate.ts';
import type { DatasetInfo, StoredSegment, StoredVersion } from './warehouse-catalog.ts';

/**
 * What a dataset shows, as one SELECT over immutable data files: each live compacted segment for
 * the partitions whose publication is still the version it holds (the others are filtered out),
 * and the version file of every other published partition (an overlay: a new run, or a rollback's
 * republish). Publishing or rolling back changes which branch serves a partition — never a row.
 */
export interface DatasetRelation {
  readonly sql: string;
  /** The data files it reads: alias -> file (relative to the warehouse folder). */
  readonly files: ReadonlyMap<string, string>;
  /** partition -> where it is served from: a segment id, or the version's own file. */
  readonly servedBy: ReadonlyMap<string, { readonly segment?: string; readonly versionId: string }>;
  readonly overlays: number;
  readonly segments: number;
}

export function datasetRelation(dataset: DatasetInfo, pointers: ReadonlyMap<string, string>, segments: readonly StoredSegment[], versions: ReadonlyMap<string, StoredVersion>): DatasetRelation | undefined {
  if (pointers.size === 0) return undefined;
  const servedBy = new Map<string, { segment?: string; versionId: string }>();
  // Newest segment first: a partition compacted twice is served by the later copy.
  const newestFirst = [...segments].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
  for (const s of newestFirst) {
    for (const p of s.partitions) {
      if (servedBy.has(p.partition)) continue;
      if (pointers.get(p.partition) === p.versionId) servedBy.set(p.partition, { segment: s.id, versionId: p.versionId });
    }
  }
  const files = new Map<string, string>();
  const branches: string[] = [];
  const type = dataset.columns.find((c) => c.name === dataset.partitionColumn)?.type;
  let segmentCount = 0;
  for (const s of [...segments].sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1))) {
    const served = s.partitions.filter((p) => servedBy.get(p.partition)?.segment === s.id);
    if (served.length === 0) continue;
    segmentCount++;
    files.set(s.alias, s.file);
    const excluded = s.partitions.filter((p) => servedBy.get(p.partition)?.segment !== s.id).map((p) => p.partition);
    branches.push(`SELECT * FROM ${quoteIdent(s.alias)}.data${excluded.length ? ` WHERE ${outsidePartitions(dataset.partitionColumn, type, excluded)}` : ''}`);
  }
  let overlays = 0;
  for (const [partition, versionId] of [...pointers.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (servedBy.has(partition)) continue;
    const v = versions.get(versionId);
    if (!v) continue;
    servedBy.set(partition, { versionId });
    files.set(v.alias, v.file);
    overlays++;
    branches.push(`SELECT * FROM ${quoteIdent(v.alias)}.data`);
  }
  if (branches.length === 0) return undefined;
  return { sql: branches.join('\nUNION ALL BY NAME\n'), files, servedBy, overlays, segments: segmentCount };
}
