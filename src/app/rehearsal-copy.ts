import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Warehouse } from '../engine/warehouse.ts';
import type { RehearsalCopy, RehearsalDeps } from '../runner/rehearse-rollback.ts';
import { SluiceError } from '../util/errors.ts';
import { effectiveSettings, openStore, openWarehouse } from './adapters.ts';
import { existingWarehouse, wireWorkspace, type Workspace } from './open-workspace.ts';
import { copyAuditAnchor, fileAuditAnchor } from './audit-anchor.ts';

/** A store that can write a consistent copy of itself to a file (the embedded SQLite store). */
function backupOf(store: unknown): ((to: string) => Promise<void>) | undefined {
  const b = (store as { backup?: unknown }).backup;
  return typeof b === 'function' ? (to: string) => (b as (to: string) => Promise<void>).call(store, to) : undefined;
}

/**
 * Consistent copies on the embedded engines, opened and wired as a workspace. DuckDB: CHECKPOINT
 * through the open connection (so the file holds every committed change), then a file copy while
 * this process holds the database (no other process can open it meanwhile). SQLite: the online
 * backup API, a consistent snapshot even while other processes write.
 */
export function rehearsalCopy(ws: Workspace, options: { readonly decorate?: (w: Warehouse) => Warehouse } = {}): RehearsalDeps['copy'] {
  const real = existingWarehouse(ws);
  return async (dir, environments, log): Promise<RehearsalCopy> => {
    const settings = effectiveSettings(ws.project);
    const backup = backupOf(ws.store);
    if (settings.warehouse.kind !== 'duckdb' || settings.store.kind !== 'sqlite' || !backup) {
      throw new SluiceError('USAGE', 'rollout rehearse copies the embedded DuckDB and SQLite files; it is not built for this store or warehouse yet');
    }
    let bytes = 0;
    // Open (and so lock) the warehouses first: while this process holds them no other process can
    // run in those environments, so the store snapshot taken next agrees with the data copied after.
    const sources = new Map<string, Warehouse>();
    for (const env of environments) {
      const w = await real(env);
      if (w) sources.set(env, w); // else never written: the copy starts empty too
    }
    const storePath = join(dir, 'sluice.db');
    await backup(storePath);
    bytes += statSync(storePath).size;
    const template = join(dir, 'warehouse-{env}.duckdb');
    for (const [env, w] of sources) {
      // The embedded warehouse copies itself (its files are immutable: hard links); others cannot yet.
      const copyable = w as Warehouse & { copyTo?: (path: string) => Promise<number> };
      if (typeof copyable.copyTo !== 'function') throw new SluiceError('USAGE', 'rollout rehearse copies the embedded DuckDB warehouse; it is not built for this warehouse yet');
      bytes += await copyable.copyTo(template.replaceAll('{env}', env));
    }
    const project = { ...ws.project, store: { kind: 'sqlite', path: storePath } as const, warehouse: { ...settings.warehouse, pathTemplate: template } };
    const store = await openStore(project, project.store);
    // An environment that was not copied opens empty, inside the temp folder like the rest.
    const decorate = options.decorate ?? ((w: Warehouse) => w);
    const copy = await wireWorkspace(project, ws.environment, store, async (env) => decorate(await openWarehouse(project, project.warehouse, env)), { clock: ws.clock, log, auditAnchor: copyAuditAnchor(fileAuditAnchor(ws.store.description)) });
    return { project, store, bytes, rollouts: copy.rollouts, warehouseFor: copy.warehouseFor, [Symbol.asyncDispose]: () => copy[Symbol.asyncDispose]() };
  };
}
