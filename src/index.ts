// The public API of the sluice package.
export { openWorkspace, currentActor, type Workspace } from './app/open-workspace.ts';
export { runPipeline, type RunRequest, type RunResult } from './runner/run-pipeline.ts';
export { backfill, backfillPartitions, dailyPartitions } from './runner/backfill.ts';
export { WHOLE, partitionsBetween, resolvePartition, type Partitioning } from './config/partitioning.ts';
export { loadProject, loadProjectOrThrow } from './app/load-project.ts';
export type { Project, Pipeline, Step, Dataset, Source } from './config/project-model.ts';
export { DuckDBWarehouse } from './engine/duckdb/duckdb-warehouse.ts';
export { SqliteStore } from './store/sqlite/sqlite-store.ts';
export { verifyAuditChain } from './governance/audit-chain.ts';
export { SluiceError } from './util/errors.ts';
export { ManualClock, systemClock, type Clock } from './util/clock.ts';
