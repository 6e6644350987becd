import { loadProjectSettings, type ProjectSettings } from '../config/load-project.ts';
import { requireEnvironment } from '../config/require-environment.ts';
import type { Project } from '../config/project-model.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import { configError } from '../util/errors.ts';
import { effectiveSettings, openCatalogForReading, openStoreForReading, type WarehouseCatalogReader } from './adapters.ts';

/** The part of a project metadata reads use: sluice.yaml's settings (a whole project has them too). */
export type MetadataProject = Pick<Project, 'root' | 'environments' | 'defaultEnvironment' | 'store' | 'warehouse'>;

/**
 * What commands that only read metadata open (runs, run-show, publications, audit log, flags):
 * the store and, on demand, an environment's warehouse catalog. Neither a warehouse's engine nor
 * the SQL analyzer is loaded, so they start fast and work while another process holds the
 * warehouse file; and nothing is created: a project or environment without a store or warehouse
 * yet reads as empty.
 */
export interface MetadataReads<P extends MetadataProject> extends AsyncDisposable {
  readonly project: P;
  readonly environment: string;
  readonly store: MetadataStore;
  /** The catalog of an environment's warehouse (opened once, closed with this); undefined when nothing was ever written there. */
  catalogFor(environment: string): Promise<WarehouseCatalogReader | undefined>;
}

/** sluice.yaml alone, checked: enough for reads of the store (runs, audit log). */
export function projectSettingsOrThrow(dir: string): ProjectSettings {
  const s = loadProjectSettings(dir);
  if (!s.ok) throw configError(s.problems);
  return s.settings;
}

export async function openMetadataReads<P extends MetadataProject>(project: P, env: string | undefined): Promise<MetadataReads<P>> {
  const environment = env ?? project.defaultEnvironment;
  requireEnvironment(project, environment);
  const settings = effectiveSettings(project);
  const store = await openStoreForReading(project, settings.store);
  const catalogs = new Map<string, Promise<WarehouseCatalogReader | undefined>>();
  return {
    project,
    environment,
    store,
    catalogFor(e) {
      requireEnvironment(project, e);
      let c = catalogs.get(e);
      if (!c) {
        c = openCatalogForReading(project, settings.warehouse, e);
        catalogs.set(e, c);
      }
      return c;
    },
    async [Symbol.asyncDispose]() {
      for (const c of catalogs.values()) await (await c.catch(() => undefined))?.close();
      await store.close();
    },
  };
}

