import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dataFolderOf, toOutputVersion, WarehouseCatalog } from '../engine/duckdb/warehouse-catalog.ts';
import type { WarehouseCatalogReader } from './adapters.ts';

/**
 * Reads a DuckDB warehouse's catalog (SQLite, beside the DuckDB file) without opening the DuckDB
 * file: no DuckDB binding is loaded, and another process may hold that file (DuckDB locks it).
 * Nothing is created: 'absent' when the environment has no warehouse yet, 'legacy' when only a
 * full open can read it (a warehouse from before the catalog, or whose first open stopped before
 * its migration finished: the full open migrates it).
 */
export function readDuckDBCatalog(duckdbFile: string): WarehouseCatalogReader | 'absent' | 'legacy' {
  const catalogFile = join(dataFolderOf(duckdbFile), 'catalog.db');
  if (!existsSync(catalogFile)) return existsSync(duckdbFile) ? 'legacy' : 'absent';
  const catalog = WarehouseCatalog.open(catalogFile, { readOnly: true });
  if (catalog.meta('legacy_migrated') === undefined) {
    catalog.close();
    return 'legacy';
  }
  return {
    outputVersion: async (id) => {
      const v = catalog.version(id);
      return v ? toOutputVersion(v) : undefined;
    },
    outputVersions: async (filter) => catalog.versions(filter).map(toOutputVersion),
    currentPublications: async (dataset) => catalog.currentPublications(dataset),
    publicationHistory: async (dataset, partition) => catalog.publicationHistory(dataset, partition),
    close: async () => catalog.close(),
  };
}
