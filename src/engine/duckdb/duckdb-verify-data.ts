import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { quoteIdent } from '../sql.ts';
import { partitionPredicate } from '../partition-predicate.ts';
import type { DataVerdict } from '../warehouse.ts';
import { fingerprintOf, fingerprintSql } from './data-files.ts';
import type { DuckDBWarehouse } from './duckdb-warehouse.ts';

/**
 * Every published partition (of the datasets or partitions asked) read where it is served from,
 * its row count and fingerprint compared with those recorded for its output version. A partition
 * served by a segment that disagrees is repaired by serving it from the version's own file again
 * (when that file agrees); a version file that disagrees with its own record cannot be repaired.
 */
export async function verifyData(w: DuckDBWarehouse, o: { datasets?: readonly string[]; partitions?: ReadonlyMap<string, readonly string[]>; repair?: boolean }): Promise<DataVerdict[]> {
  const out: DataVerdict[] = [];
  const repairedDatasets = new Set<string>();
  for (const d of w.catalog.datasets()) {
    if (o.datasets && !o.datasets.includes(d.name)) continue;
    if (o.partitions && !o.partitions.has(d.name)) continue;
    const wanted = o.partitions?.get(d.name);
    const relation = w.relation(d.name);
    if (!relation) continue;
    const type = d.columns.find((c) => c.name === d.partitionColumn)?.type;
    const inPartition = (p: string): string => partitionPredicate(d.partitionColumn, type, p);
    const segmentsById = new Map(w.catalog.segments(d.name).map((s) => [s.id, s]));
    for (const [partition, served] of relation.servedBy) {
      if (wanted && !wanted.includes(partition)) continue;
      const v = w.catalog.version(served.versionId, { includeDeleted: true });
      if (!v) continue;
      const expected = { rows: v.rowCount, fingerprint: v.fingerprint };
      const own = async (): Promise<{ rows: number; fingerprint: string } | undefined> => {
        if (!existsSync(join(w.folder, v.file))) return undefined;
        return fingerprintOf((await w.query(fingerprintSql(`${quoteIdent(v.alias)}.data`, v.columns)))[0]);
      };
      if (served.segment) {
        const segment = segmentsById.get(served.segment);
        const found = segment ? fingerprintOf((await w.query(fingerprintSql(`${quoteIdent(segment.alias)}.data`, d.columns, inPartition(partition))))[0]) : { rows: 0, fingerprint: '0:0:0' };
        if (found.fingerprint === expected.fingerprint) {
          out.push({ dataset: d.name, partition, versionId: v.id, ok: true, expected, found, servedBy: `segment ${served.segment}`, repaired: false });
          continue;
        }
        const fromFile = await own();
        const canRepair = fromFile?.fingerprint === expected.fingerprint;
        if (o.repair && canRepair && segment) {
          w.catalog.transaction(() => w.catalog.dropSegmentPartition(segment.id, partition));
          repairedDatasets.add(d.name);
        }
        out.push({ dataset: d.name, partition, versionId: v.id, ok: false, expected, found, servedBy: `segment ${served.segment}`, repaired: Boolean(o.repair && canRepair), problem: canRepair ? `the segment's rows of ${partition} are not version ${v.id}'s${o.repair ? '; now served from the version again' : ' (repair: serve it from the version again)'}` : `the segment's rows of ${partition} are not version ${v.id}'s, and the version's own data is ${fromFile ? 'damaged too' : 'missing'}` });
        continue;
      }
      const found = (await own()) ?? { rows: 0, fingerprint: 'missing' };
      const ok = found.fingerprint === expected.fingerprint;
      out.push({ dataset: d.name, partition, versionId: v.id, ok, expected, found, servedBy: 'its version file', repaired: false, ...(ok ? {} : { problem: found.fingerprint === 'missing' ? `the data file of version ${v.id} is missing` : `the data file of version ${v.id} does not hold what was written (damaged or replaced)` }) });
    }
  }
  if (repairedDatasets.size > 0) await w.refreshViews([...repairedDatasets]);
  return out;
}
