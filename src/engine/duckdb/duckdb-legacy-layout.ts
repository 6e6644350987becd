import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { quoteIdent, quoteLiteral } from '../sql.ts';
import { writeDataFile } from './data-files.ts';
import type { DuckDBEngine } from './duckdb-engine.ts';
import { aliasOf, type DuckDBWarehouse } from './duckdb-warehouse.ts';

/**
 * Warehouses written before data files existed kept every output version as a table in schema
 * `sluice_versions` of the DuckDB file and copied published partitions into `main.<dataset>`.
 * On first open they are moved: each version table becomes its data file (skipped when the
 * catalog has it already, so a crash part-way is resumed), then one catalog transaction takes
 * over the publications and their log; the old tables are dropped only after that.
 */
export async function migrateLegacyLayout(w: DuckDBWarehouse, db: DuckDBEngine): Promise<void> {
  if (w.catalog.meta('legacy_migrated') !== undefined) return;
  const hasLegacy = (await db.query(`SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'sluice' AND table_name = 'output_versions'`))[0];
  if (!hasLegacy || Number(hasLegacy['n']) === 0) {
    w.catalog.transaction(() => w.catalog.setMeta('legacy_migrated', 'none'));
    return;
  }
  const versions = await db.query('SELECT * FROM sluice.output_versions ORDER BY created_at, id');
  const conn = await db.connect();
  try {
    for (const r of versions) {
      const id = String(r['id']);
      if (w.catalog.version(id, { includeDeleted: true })) continue;
      const alias = aliasOf('v', id);
      const file = join('versions', `${alias}.duckdb`);
      // A file left by a migration cut short, not yet in the catalog: written again.
      if (existsSync(join(w.folder, file))) rmSync(join(w.folder, file));
      const written = await writeDataFile(conn, join(w.folder, file), `SELECT * FROM ${String(r['table_name'])}`);
      w.catalog.addVersion({ id, pipeline: String(r['pipeline']), step: String(r['step']), stepVersion: String(r['step_version']), versionHash: String(r['version_hash']), partition: String(r['partition']), runId: Number(r['run_id']), rowCount: written.rowCount, createdAt: new Date(String(r['created_at'])).toISOString(), fingerprint: written.fingerprint, alias, file, bytes: written.bytes, columns: written.columns, deletedAt: null });
    }
  } finally {
    await conn.close();
  }
  const log = await db.query('SELECT * FROM sluice.publication_log ORDER BY seq');
  const current = await db.query('SELECT * FROM sluice.publications');
  const datasets = [...new Set(current.map((p) => String(p['dataset'])))];
  const partitionColumns = new Map<string, string>();
  for (const d of datasets) {
    // The partition column of a legacy dataset: the column of its table every publication's partition value matched; the demo's layout names it in the version's partition.
    const cols = await db.query(`SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ${quoteLiteral(d)}`);
    const sample = current.find((p) => String(p['dataset']) === d);
    let chosen = String(cols[0]?.['column_name'] ?? 'partition');
    for (const c of cols) {
      const name = String(c['column_name']);
      const [hit] = await db.query(`SELECT count(*) AS n FROM main.${quoteIdent(d)} WHERE CAST(${quoteIdent(name)} AS VARCHAR) = ${quoteLiteral(String(sample?.['partition'] ?? ''))}`).catch(() => [{ n: 0 }]);
      if (Number(hit?.['n'] ?? 0) > 0) {
        chosen = name;
        break;
      }
    }
    partitionColumns.set(d, chosen);
  }
  w.catalog.transaction(() => {
    for (const d of datasets) {
      const first = current.find((p) => String(p['dataset']) === d);
      const v = first ? w.catalog.version(String(first['version_id'])) : undefined;
      if (v) w.catalog.addDataset({ name: d, partitionColumn: partitionColumns.get(d) ?? 'partition', columns: v.columns });
    }
    w.catalog.publish(
      log.map((l) => ({
        dataset: String(l['dataset']),
        partition: String(l['partition']),
        versionId: String(l['version_id']),
        runId: l['run_id'] === null ? null : Number(l['run_id']),
        actor: String(l['actor']),
        reason: String(l['reason']),
        at: new Date(String(l['published_at'])).toISOString(),
        rollout: l['rollout'] === null || l['rollout'] === undefined ? null : String(l['rollout']),
        intent: l['intent'] === null || l['intent'] === undefined ? null : String(l['intent']),
        seq: Number(l['seq']),
      })),
    );
    w.catalog.setMeta('legacy_migrated', new Date().toISOString());
  });
  // Taken over: the old copies go (a DuckDB file does not shrink, but nothing reads them again).
  const tables = await db.query(`SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() AND (schema_name IN ('sluice', 'sluice_versions') OR (schema_name = 'main' AND table_name IN (${datasets.map(quoteLiteral).join(', ') || "''"})))`);
  for (const t of tables) await db.exec(`DROP TABLE IF EXISTS ${quoteIdent(String(t['schema_name']))}.${quoteIdent(String(t['table_name']))}`);
  await db.exec('DROP SCHEMA IF EXISTS sluice_versions CASCADE; DROP SCHEMA IF EXISTS sluice CASCADE; CHECKPOINT');
}
