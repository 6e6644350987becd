import { loadProject as loadWithAnalyzer, loadProjectOrThrow as loadOrThrowWithAnalyzer, type LoadResult } from '../config/load-project.ts';
import type { Project } from '../config/project-model.ts';
import { effectiveSettings, openAnalyzer } from './adapters.ts';

/**
 * Loads a whole project, its step SQL analysed by the parser of the engine its warehouse runs on
 * (sluice.yaml's, or SLUICE_WAREHOUSE_URL's): every command that runs or checks steps loads here.
 */
export function loadProject(dir: string): Promise<LoadResult> {
  return loadWithAnalyzer(dir, { analyzerFor: analyzerFor() });
}

export function loadProjectOrThrow(dir: string): Promise<Project> {
  return loadOrThrowWithAnalyzer(dir, { analyzerFor: analyzerFor() });
}

function analyzerFor(): Parameters<typeof loadWithAnalyzer>[1]['analyzerFor'] {
  return (warehouse) => openAnalyzer(effectiveSettings({ warehouse, store: { kind: 'sqlite', path: '' } }).warehouse);
}
