import { loadProject as loadWithAnalyzer, loadProjectOrThrow as loadOrThrowWithAnalyzer, type LoadResult } from '../config/load-project.ts';
import type { Project } from '../config/project-model.ts';
import { effectiveSettings, openAnalyzer } from './adapters.ts';

export interface AppLoadOptions {
  /** Bind every step version, check and plan against the engine too (validate; run, backfill and rollout start before they write). */
  readonly bind?: boolean;
  /** And every rollout plan in rollouts/ (validate). */
  readonly plans?: boolean;
  /** And every file of every file source, as a run would check its partition's (validate). */
  readonly files?: boolean;
}

/**
 * Loads a whole project, its step SQL analysed by the parser of the engine its warehouse runs on
 * (sluice.yaml's, or SLUICE_WAREHOUSE_URL's): every command that runs or checks steps loads here.
 */
export function loadProject(dir: string, o: AppLoadOptions = {}): Promise<LoadResult> {
  return loadWithAnalyzer(dir, { analyzerFor: analyzerFor(), ...(o.bind ? { bind: true } : {}), ...(o.plans ? { plans: true } : {}), ...(o.files ? { files: true } : {}) });
}

export function loadProjectOrThrow(dir: string, o: AppLoadOptions = {}): Promise<Project> {
  return loadOrThrowWithAnalyzer(dir, { analyzerFor: analyzerFor(), ...(o.bind ? { bind: true } : {}) });
}

function analyzerFor(): Parameters<typeof loadWithAnalyzer>[1]['analyzerFor'] {
  return (warehouse) => openAnalyzer(effectiveSettings({ warehouse, store: { kind: 'sqlite', path: '' } }).warehouse);
}
