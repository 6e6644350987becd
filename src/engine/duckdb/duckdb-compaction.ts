import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { crashPoint } from '../../util/crash-point.ts';
import { SluiceError } from '../../util/errors.ts';
import { quoteIdent, quoteLiteral } from '../sql.ts';
import { outsidePartitions, partitionPredicate } from '../partition-predicate.ts';
import type { CompactionReport } from '../warehouse.ts';
import { fingerprintOf, fingerprintSql, writeDataFile } from './data-files.ts';
import { datasetRelation } from './dataset-relation.ts';
import type { DuckDBEngine } from './duckdb-engine.ts';
import { aliasOf, type DuckDBWarehouse } from './duckdb-warehouse.ts';
import type { SegmentPartition, StoredSegment } from './warehouse-catalog.ts';

export interface CompactionPolicy {
  /** Compact once a dataset has more partitions served from their version files than this. */
  readonly compactAfter: number;
}

/**
 * Compaction rewrites what a dataset shows into a new segment file sorted by its partition column
 * (so a one-partition read skips the rest by zone maps), off the publish path: the published
 * partitions served from their own version files (overlays), together with the live segments no
 * bigger than what is being merged (size tiers: the number of segments stays logarithmic in the
 * dataset's size). The new segment is written and flushed first; one catalog transaction then
 * registers it and retires the segments it replaces, so a crash leaves the old view or the new.
 * The data never changes: each partition of the new segment is checked against the fingerprint of
 * the version it holds before the segment is registered.
 */
export async function compactDatasets(w: DuckDBWarehouse, db: DuckDBEngine, policy: CompactionPolicy, o: { datasets?: readonly string[]; force?: boolean }): Promise<CompactionReport[]> {
  const out: CompactionReport[] = [];
  for (const d of w.catalog.datasets()) {
    if (o.datasets && !o.datasets.includes(d.name)) continue;
    const pointers = w.catalog.pointers([d.name]).get(d.name) ?? new Map<string, string>();
    const segments = w.catalog.segments(d.name);
    const versions = w.catalog.versionsByIds([...pointers.values()]);
    const relation = datasetRelation(d, pointers, segments, versions);
    if (!relation) continue;
    const liveSegments = segments.filter((s) => [...relation.servedBy.values()].some((x) => x.segment === s.id));
    const overlayParts = [...relation.servedBy.entries()].filter(([, x]) => x.segment === undefined);
    const tooMany = overlayParts.length > policy.compactAfter || liveSegments.length > policy.compactAfter;
    if (!(o.force ? overlayParts.length > 0 || liveSegments.length > 1 || segments.length > liveSegments.length : tooMany)) continue;

    // What to merge: every overlay, then the live segments from the smallest up while each is no bigger than the merge so far.
    const servedRows = (s: StoredSegment): number => s.partitions.filter((p) => relation.servedBy.get(p.partition)?.segment === s.id).reduce((n, p) => n + p.rowCount, 0);
    let rows = overlayParts.reduce((n, [, x]) => n + (versions.get(x.versionId)?.rowCount ?? 0), 0);
    const merged: StoredSegment[] = [];
    for (const s of [...liveSegments].sort((a, b) => servedRows(a) - servedRows(b))) {
      if (!o.force && servedRows(s) > Math.max(rows, 1) && merged.length + overlayParts.length > 0) break;
      merged.push(s);
      rows += servedRows(s);
    }
    if (merged.length + overlayParts.length < (o.force ? 1 : 2)) continue;
    const started = performance.now();
    const type = d.columns.find((c) => c.name === d.partitionColumn)?.type;
    const branches: string[] = [];
    const partitions: SegmentPartition[] = [];
    for (const s of merged) {
      const served = s.partitions.filter((p) => relation.servedBy.get(p.partition)?.segment === s.id);
      const excluded = s.partitions.filter((p) => relation.servedBy.get(p.partition)?.segment !== s.id);
      branches.push(`SELECT * FROM ${quoteIdent(s.alias)}.data${excluded.length ? ` WHERE ${outsidePartitions(d.partitionColumn, type, excluded.map((p) => p.partition))}` : ''}`);
      partitions.push(...served);
    }
    for (const [partition, x] of overlayParts) {
      const v = versions.get(x.versionId);
      if (!v) continue;
      branches.push(`SELECT * FROM ${quoteIdent(v.alias)}.data`);
      partitions.push({ partition, versionId: v.id, rowCount: v.rowCount, fingerprint: v.fingerprint });
    }
    const id = `${d.name}.${new Date().toISOString().replace(/[-:.]/g, '')}.${randomUUID().slice(0, 8)}`;
    const alias = aliasOf('s', id);
    const file = join('segments', `${alias}.duckdb`);
    const sql = `SELECT * FROM (${branches.join(' UNION ALL BY NAME ')})${d.partitionColumn ? ` ORDER BY ${quoteIdent(d.partitionColumn)}` : ''}`;
    await w.attachments.ensureFor(sql);
    const conn = await db.connect();
    try {
      const written = await writeDataFile(conn, join(w.folder, file), sql, { crashPrefix: 'compaction' });
      // Every partition of the new file must be exactly the version it stands for.
      await conn.exec(`ATTACH ${quoteLiteral(join(w.folder, file))} AS ${quoteIdent(alias)} (READ_ONLY)`);
      try {
        for (const p of partitions) {
          const got = fingerprintOf((await conn.query(fingerprintSql(`${quoteIdent(alias)}.data`, d.columns, partitionPredicate(d.partitionColumn, type, p.partition))))[0]);
          if (got.fingerprint !== p.fingerprint) throw new SluiceError('CORRUPT', `compaction of ${d.name}: partition ${p.partition} in the new segment ${file} does not match version ${p.versionId} (${got.fingerprint} vs ${p.fingerprint}); the segment is not used`, { file: join(w.folder, file) });
        }
      } finally {
        await conn.exec(`DETACH ${quoteIdent(alias)}`);
      }
      const level = Math.max(0, ...merged.map((s) => s.level + 1));
      crashPoint('compaction.before-commit');
      const at = new Date().toISOString();
      w.catalog.transaction(() => {
        w.catalog.addSegment({ id, dataset: d.name, level, alias, file, rowCount: written.rowCount, bytes: written.bytes, createdAt: at, partitions });
        // Segments that serve nothing any more (all merged, or every partition republished since) retire.
        w.catalog.retireSegments([...merged.map((s) => s.id), ...segments.filter((s) => !liveSegments.includes(s)).map((s) => s.id)], at);
      });
      crashPoint('compaction.committed');
      out.push({ dataset: d.name, segment: id, partitions: partitions.length, rows: written.rowCount, bytes: written.bytes, seconds: (performance.now() - started) / 1000, merged: { segments: merged.length, overlays: overlayParts.length } });
    } finally {
      await conn.close();
    }
    await w.refreshViews([d.name]);
  }
  return out;
}
