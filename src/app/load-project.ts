import { loadProject as loadWithAnalyzer, loadProjectOrThrow as loadOrThrowWithAnalyzer, type LoadResult } from '../config/load-project.ts';
import type { Project } from '../config/project-model.ts';
import type { SqlAnalyzer } from '../engine/sql-analysis.ts';
import { standardDialect } from '../engine/sql-dialect.ts';
import { SluiceError } from '../util/errors.ts';
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

/**
 * Loads the project for commands that read only metadata (run-show, publications, flags): every
 * file is read and checked as for any command, but step SQL is not analysed, so the engine and its
 * parser (the DuckDB binding alone takes ~0.2 s to load) are never loaded. The price: every step's
 * `inputs` is empty and steps keep their file order. Nothing that follows dependencies (runs,
 * lineage, rollbacks, downstream notes) may use a project loaded here.
 */
export function loadProjectForMetadata(dir: string): Promise<Project> {
  return loadOrThrowWithAnalyzer(dir, { analyzerFor: async () => sqlLeftUnanalysed });
}

function analyzerFor(): Parameters<typeof loadWithAnalyzer>[1]['analyzerFor'] {
  return (warehouse) => openAnalyzer(effectiveSettings({ warehouse, store: { kind: 'sqlite', path: '' } }).warehouse);
}

/** Accepts every step's SQL as a SELECT that reads nothing: what loadProjectForMetadata gives the loader instead of a parser. */
const sqlLeftUnanalysed: SqlAnalyzer = {
  dialect: standardDialect,
  analyze: async (sqls) => sqls.map(() => ({ ok: true, analysis: { relations: [], tableFunctions: [], functions: [] } })),
  openBindScope: () => Promise.reject(new SluiceError('INTERNAL', 'a project loaded for metadata reads cannot bind SQL: load it with loadProject')),
  close: async () => undefined,
  [Symbol.asyncDispose]: async () => undefined,
};
