import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DuckDBWarehouse } from '../../../engine/duckdb/duckdb-warehouse.ts';
import type { RehearsalCopy, RehearsalDeps } from '../../../runner/rehearse-rollback.ts';
import { SqliteStore } from '../../../store/sqlite/sqlite-store.ts';
import { SluiceError } from '../../../util/errors.ts';
import { warehousePath, type Workspace } from '../../workspace.ts';

/** The real warehouse of an environment when its file exists (a rehearsal never creates one). */
export function existingWarehouse(ws: Workspace): (env: string) => Promise<DuckDBWarehouse | undefined> {
  return async (env) => (env === ws.environment || existsSync(warehousePath(ws.project, env)) ? ws.warehouseFor(env) : undefined);
}

/**
 * Consistent copies on the embedded engines. DuckDB: CHECKPOINT through the open connection (so the
 * file holds every committed change and the WAL is empty), then a file copy while this process
 * holds the database (DuckDB lets no other process open it meanwhile). SQLite: the online backup
 * API, a consistent snapshot even while other processes write in WAL mode.
 */
export function embeddedRehearsalCopy(ws: Workspace): RehearsalDeps['copy'] {
  const real = existingWarehouse(ws);
  return async (dir, environments): Promise<RehearsalCopy> => {
    let bytes = 0;
    // Open (and so lock) the warehouses first: while this process holds them no other process can
    // run in those environments, so the store snapshot taken next agrees with the data copied after.
    const sources = new Map<string, DuckDBWarehouse>();
    for (const env of environments) {
      const w = await real(env);
      if (w) sources.set(env, w); // else never written: the copy starts empty too
    }
    const storePath = join(dir, 'sluice.db');
    const source = new Database(ws.store.path, { readonly: true, fileMustExist: true });
    try {
      await source.backup(storePath);
    } finally {
      source.close();
    }
    bytes += statSync(storePath).size;
    const template = join(dir, 'warehouse-{env}.duckdb');
    for (const [env, w] of sources) {
      await w.exec('CHECKPOINT');
      const to = template.replaceAll('{env}', env);
      copyFileSync(w.path, to);
      bytes += statSync(to).size;
      if (existsSync(`${w.path}.wal`)) {
        copyFileSync(`${w.path}.wal`, `${to}.wal`);
        bytes += statSync(`${to}.wal`).size;
      }
    }
    const project = { ...ws.project, store: { path: storePath }, engine: { ...ws.project.engine, pathTemplate: template } };
    const store = new SqliteStore(storePath);
    const opened = new Map<string, DuckDBWarehouse>();
    return {
      project,
      store,
      bytes,
      async warehouseFor(env: string): Promise<DuckDBWarehouse> {
        if (!environments.includes(env)) throw new SluiceError('INTERNAL', `rehearsal: environment ${env} was not copied (copied: ${environments.join(', ')})`);
        let w = opened.get(env);
        if (!w) {
          w = await DuckDBWarehouse.open(template.replaceAll('{env}', env), { memoryLimit: project.engine.memoryLimit, threads: project.engine.threads, tempDirectory: join(dir, 'spill') });
          opened.set(env, w);
        }
        return w;
      },
      async [Symbol.asyncDispose](): Promise<void> {
        for (const w of opened.values()) await w.close();
        store.close();
      },
    };
  };
}
