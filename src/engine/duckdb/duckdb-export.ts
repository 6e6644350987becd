import { existsSync, linkSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SluiceError } from '../../util/errors.ts';
import { quoteIdent, quoteLiteral } from '../sql.ts';
import { holdsValue } from '../partition-predicate.ts';
import { hiveEscape } from '../hive-path.ts';
import type { ExportReport } from '../warehouse.ts';
import { fsyncPath } from './data-files.ts';
import type { DuckDBEngine } from './duckdb-engine.ts';
import type { DuckDBWarehouse } from './duckdb-warehouse.ts';

interface Manifest {
  readonly dataset: string;
  readonly partitionColumn: string | null;
  readonly partitions: Record<string, { readonly version: string; readonly file: string; readonly rows: number }>;
}

/**
 * Writes a dataset's published partitions as Parquet for engines other than DuckDB (Spark, Trino,
 * Polars, pandas): `<dir>/<dataset>/current/<column>=<value>/data.parquet`, hive style. Each export
 * is a new snapshot folder: partitions whose version did not change since the last export are
 * hard links to the files already written (nothing is copied twice), the others are written and
 * flushed; then the `current` link is swapped to the new snapshot in one rename, so a reader that
 * opens `current` sees one consistent set of partitions, all-old or all-new.
 */
export async function exportDataset(w: DuckDBWarehouse, db: DuckDBEngine, dataset: string, dir: string): Promise<ExportReport> {
  const info = w.catalog.dataset(dataset);
  if (!info) throw new SluiceError('NOT_FOUND', `dataset ${dataset} has nothing published in this environment`);
  const root = resolve(dir, dataset);
  mkdirSync(root, { recursive: true });
  const current = join(root, 'current');
  const previousSnapshot = existsSync(current) ? resolve(root, readlinkSync(current)) : undefined;
  const previous: Manifest | undefined = previousSnapshot && existsSync(join(previousSnapshot, '_sluice_manifest.json')) ? (JSON.parse(readFileSync(join(previousSnapshot, '_sluice_manifest.json'), 'utf8')) as Manifest) : undefined;
  const snapshotName = `snapshot-${new Date().toISOString().replace(/[-:.]/g, '')}-${process.pid}`;
  const snapshot = join(root, snapshotName);
  mkdirSync(snapshot);
  const pointers = w.catalog.pointers([dataset]).get(dataset) ?? new Map<string, string>();
  const versions = w.catalog.versionsByIds([...pointers.values()]);
  const manifest: Manifest = { dataset, partitionColumn: info.partitionColumn, partitions: {} };
  let written = 0;
  let reused = 0;
  const conn = await db.connect();
  try {
    for (const [partition, versionId] of [...pointers].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const v = versions.get(versionId);
      if (!v) throw new SluiceError('CORRUPT', `${dataset} ${partition} points at version ${versionId}, which is not in the catalog`);
      // The partition column lives in the folder name (hive style), as Spark and pandas expect, when
      // every row holds the partition's value; a time range (a month of days) keeps its column and
      // names the folder by the partition. An unpartitioned dataset is one file.
      const type = info.columns.find((c) => c.name === info.partitionColumn)?.type;
      const inFolder = info.partitionColumn !== null && holdsValue(type, partition);
      const folder = info.partitionColumn === null ? '' : `${inFolder ? info.partitionColumn : 'sluice_partition'}=${hiveEscape(partition)}`;
      const rel = join(folder, 'data.parquet');
      const target = join(snapshot, rel);
      mkdirSync(join(snapshot, folder), { recursive: true });
      const before = previous?.partitions[partition];
      if (before && before.version === versionId && previousSnapshot && existsSync(join(previousSnapshot, before.file))) {
        linkSync(join(previousSnapshot, before.file), target);
        reused++;
      } else {
        await w.attachments.ensure([v.alias]);
        await conn.exec(`COPY (SELECT *${inFolder && info.partitionColumn ? ` EXCLUDE (${quoteIdent(info.partitionColumn)})` : ''} FROM ${quoteIdent(v.alias)}.data) TO ${quoteLiteral(target)} (FORMAT parquet, COMPRESSION zstd)`);
        fsyncPath(target);
        written++;
      }
      manifest.partitions[partition] = { version: versionId, file: rel, rows: v.rowCount };
    }
  } finally {
    await conn.close();
  }
  writeFileSync(join(snapshot, '_sluice_manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  fsyncPath(join(snapshot, '_sluice_manifest.json'));
  fsyncPath(snapshot);
  // The swap: a new link renamed over `current` in one step.
  const link = join(root, `.current-${process.pid}`);
  rmSync(link, { force: true });
  symlinkSync(snapshotName, link);
  renameSync(link, current);
  fsyncPath(root);
  return { dataset, current, snapshot, partitions: Object.keys(manifest.partitions).length, written, reused };
}
