import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Project, StoreSettings, WarehouseSettings } from '../config/project-model.ts';
import type { SqlAnalyzer } from '../engine/sql-analysis.ts';
import type { SqlEngine } from '../engine/sql-engine.ts';
import type { Warehouse } from '../engine/warehouse.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import { parsePostgresLocation } from '../store/postgres/postgres-location.ts';
import { SluiceError } from '../util/errors.ts';

/**
 * The adapter registry: the one place (with the adapters themselves) that names DuckDB, SQLite or
 * PostgreSQL. Adapters are picked by the `kind` of `sluice.yaml`'s settings (or the environment
 * variables that override them) and imported only when opened, so a command that needs no engine
 * never loads one.
 */

/** `SLUICE_STORE_URL` and `SLUICE_WAREHOUSE_URL` win over sluice.yaml (a PostgreSQL URL each). */
export function effectiveSettings(project: Pick<Project, 'store' | 'warehouse'>, env: NodeJS.ProcessEnv = process.env): { store: StoreSettings; warehouse: WarehouseSettings } {
  const url = (name: string): string | undefined => {
    const v = env[name]?.trim();
    if (!v) return undefined;
    // Shown without what stands before an @: it may be a password.
    if (!/^postgres(ql)?:\/\//.test(v)) throw new SluiceError('CONFIG_INVALID', `${name} must be a PostgreSQL URL (postgres://user@host:port/database), got "${v.replace(/\/\/[^/]*@/, '//***@')}"`, { field: name });
    return v;
  };
  const storeUrl = url('SLUICE_STORE_URL');
  const warehouseUrl = url('SLUICE_WAREHOUSE_URL');
  return {
    store: storeUrl ? { kind: 'postgres', url: storeUrl } : project.store,
    warehouse: warehouseUrl ? { kind: 'postgres', url: warehouseUrl } : project.warehouse,
  };
}

/** The setting a PostgreSQL store's URL came from, for its errors: the environment variable wins over sluice.yaml. */
function storeUrlSetting(env: NodeJS.ProcessEnv = process.env): string {
  return env['SLUICE_STORE_URL']?.trim() ? 'SLUICE_STORE_URL' : 'store.url';
}

export function resolveInProject(project: Pick<Project, 'root'>, p: string): string {
  return isAbsolute(p) ? p : join(project.root, p);
}

/** How a store names itself (`MetadataStore.description`), known before it is opened: it keys the store's audit anchors. */
export function describeStore(project: Pick<Project, 'root'>, settings: StoreSettings): string {
  switch (settings.kind) {
    case 'sqlite':
      return `sqlite ${resolveInProject(project, settings.path)}`;
    case 'postgres':
      return parsePostgresLocation(settings.url, storeUrlSetting()).description;
  }
}

export async function openStore(project: Pick<Project, 'root'>, settings: StoreSettings): Promise<MetadataStore> {
  switch (settings.kind) {
    case 'sqlite': {
      const { SqliteStore } = await import('../store/sqlite/sqlite-store.ts');
      return SqliteStore.open(resolveInProject(project, settings.path));
    }
    case 'postgres': {
      const { PostgresStore } = await import('../store/postgres/postgres-store.ts');
      return PostgresStore.open(settings.url, { setting: storeUrlSetting() });
    }
  }
}

/**
 * The store for a command that only reads: the project's own when it exists, else an empty one in
 * memory, so reading a project that never ran creates nothing and shows nothing.
 */
export async function openStoreForReading(project: Pick<Project, 'root'>, settings: StoreSettings): Promise<MetadataStore> {
  switch (settings.kind) {
    case 'sqlite': {
      const { SqliteStore } = await import('../store/sqlite/sqlite-store.ts');
      return SqliteStore.open(storeExists(project, settings) ? resolveInProject(project, settings.path) : ':memory:');
    }
    case 'postgres':
      // A shared server's store is opened as it is (created or upgraded like any open): reads see what every writer committed.
      return openStore(project, settings);
  }
}

/** Whether the project's store was ever created: a project that never ran has none (and nothing to recover). */
export function storeExists(project: Pick<Project, 'root'>, settings: StoreSettings): boolean {
  switch (settings.kind) {
    case 'sqlite':
      return existsSync(resolveInProject(project, settings.path));
    case 'postgres':
      // A server's store is shared: whether anyone wrote to it is known only by asking it, so it is opened.
      return true;
  }
}

/** What a command that reads only metadata needs of a warehouse: its output versions and publications. */
export type WarehouseCatalogReader = Pick<Warehouse, 'outputVersion' | 'outputVersions' | 'currentPublications' | 'publicationHistory' | 'close'>;

/**
 * An environment's warehouse catalog, read without starting the warehouse's engine where the
 * adapter can (DuckDB: its SQLite catalog, not the locked DuckDB file); undefined when the
 * environment has no warehouse yet (nothing is created).
 */
export async function openCatalogForReading(project: Pick<Project, 'root'> & Partial<Pick<Project, 'storage'>>, settings: WarehouseSettings, environment: string): Promise<WarehouseCatalogReader | undefined> {
  switch (settings.kind) {
    case 'duckdb': {
      const { readDuckDBCatalog } = await import('./duckdb-catalog-reader.ts');
      const catalog = readDuckDBCatalog(duckdbPath(project, settings, environment));
      if (catalog === 'absent') return undefined;
      // A warehouse that must be migrated first is opened whole, which migrates it.
      return catalog === 'legacy' ? openWarehouse(project, settings, environment) : catalog;
    }
    case 'postgres':
      // The catalog is tables of the server's database: reading it means connecting to it.
      return openWarehouse(project, settings, environment);
  }
}

/** The DuckDB file of an environment. */
export function duckdbPath(project: Pick<Project, 'root'>, settings: Extract<WarehouseSettings, { kind: 'duckdb' }>, environment: string): string {
  return resolveInProject(project, settings.pathTemplate.replaceAll('{env}', environment));
}

/** Whether an environment's warehouse was ever created (DuckDB: its file), without creating it. */
export function warehouseExists(project: Pick<Project, 'root'>, settings: WarehouseSettings, environment: string): boolean {
  switch (settings.kind) {
    case 'duckdb':
      return existsSync(duckdbPath(project, settings, environment));
    case 'postgres':
      // A server's warehouse is shared: whether anyone wrote to it is known only by asking it.
      return true;
  }
}

export async function openWarehouse(project: Pick<Project, 'root'> & Partial<Pick<Project, 'storage'>>, settings: WarehouseSettings, environment: string): Promise<Warehouse> {
  switch (settings.kind) {
    case 'duckdb': {
      const { DuckDBWarehouse } = await import('../engine/duckdb/duckdb-warehouse.ts');
      const path = duckdbPath(project, settings, environment);
      mkdirSync(dirname(path), { recursive: true });
      return DuckDBWarehouse.open(path, { memoryLimit: settings.memoryLimit, threads: settings.threads, tempDirectory: join(dirname(path), 'spill'), ...(project.storage ? { compactAfter: project.storage.compactAfter } : {}) });
    }
    case 'postgres': {
      const { PostgresWarehouse } = await import('../engine/postgres/postgres-warehouse.ts');
      return PostgresWarehouse.open(settings.url, { setting: process.env['SLUICE_WAREHOUSE_URL']?.trim() ? 'SLUICE_WAREHOUSE_URL' : 'warehouse.url', environment });
    }
  }
}

/**
 * An engine for work on files that belongs to no environment (synthetic data, the reference
 * suites): an in-memory DuckDB, which reads and writes CSV and Parquet itself.
 */
export async function openScratchEngine(): Promise<SqlEngine & AsyncDisposable> {
  const { DuckDBEngine } = await import('../engine/duckdb/duckdb-engine.ts');
  return DuckDBEngine.open(':memory:');
}

/** The SQL analyzer of a warehouse's engine: its own parser, for step dependencies and the one-SELECT rule. */
export async function openAnalyzer(settings: WarehouseSettings): Promise<SqlAnalyzer> {
  switch (settings.kind) {
    // Step dependencies and the one-SELECT rule are read with DuckDB's parser on PostgreSQL too (issue 13).
    case 'duckdb':
    case 'postgres': {
      const { DuckDBSqlAnalyzer } = await import('../engine/duckdb/duckdb-sql-analyzer.ts');
      return DuckDBSqlAnalyzer.open();
    }
  }
}
