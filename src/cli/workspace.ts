import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { userInfo } from 'node:os';
import { loadProjectOrThrow } from '../config/load-project.ts';
import type { Project } from '../config/project-model.ts';
import { DuckDBWarehouse } from '../engine/duckdb/duckdb-warehouse.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { SluiceMetrics } from '../telemetry/metrics.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { requireEnvironment, type RunnerDeps } from '../runner/run-pipeline.ts';
import { RolloutController } from '../runner/rollout-controller.ts';

/** The composition root: the one place that names the embedded adapters. */
export interface Workspace extends RunnerDeps, AsyncDisposable {
  readonly environment: string;
  readonly warehouse: DuckDBWarehouse;
  readonly store: SqliteStore;
  /** The warehouse of any environment (opened on first use, closed with the workspace). */
  warehouseFor(environment: string): Promise<DuckDBWarehouse>;
  /** The rollout controller over this workspace's store and warehouses. */
  readonly rollouts: RolloutController;
}

export async function openWorkspace(projectDir: string, env: string | undefined, clock: Clock = systemClock, options: { log?: (line: string) => void } = {}): Promise<Workspace> {
  const project = loadProjectOrThrow(projectDir);
  const environment = env ?? project.defaultEnvironment;
  requireEnvironment(project, environment);
  const store = new SqliteStore(resolveIn(project, project.store.path));
  const whPath = warehousePath(project, environment);
  mkdirSync(dirname(whPath), { recursive: true });
  let warehouse: DuckDBWarehouse;
  try {
    warehouse = await DuckDBWarehouse.open(whPath, { memoryLimit: project.engine.memoryLimit, threads: project.engine.threads, tempDirectory: join(dirname(whPath), 'spill') });
  } catch (e) {
    store.close();
    throw e;
  }
  store.reapAbandonedRuns(isProcessAlive, clock.now());
  const others = new Map<string, DuckDBWarehouse>();
  const warehouseFor = async (env: string): Promise<DuckDBWarehouse> => {
    if (env === environment) return warehouse;
    requireEnvironment(project, env);
    let w = others.get(env);
    if (!w) {
      const path = warehousePath(project, env);
      mkdirSync(dirname(path), { recursive: true });
      w = await DuckDBWarehouse.open(path, { memoryLimit: project.engine.memoryLimit, threads: project.engine.threads, tempDirectory: join(dirname(path), 'spill') });
      others.set(env, w);
    }
    return w;
  };
  const metrics = new SluiceMetrics();
  const log = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  return {
    project,
    environment,
    warehouse,
    store,
    clock,
    metrics,
    warehouseFor,
    rollouts: new RolloutController({ project, store, clock, warehouseFor, metrics, log }),
    async [Symbol.asyncDispose]() {
      await warehouse.close();
      for (const w of others.values()) await w.close();
      store.close();
    },
  };
}

export function warehousePath(project: Project, env: string): string {
  return resolveIn(project, project.engine.pathTemplate.replaceAll('{env}', env));
}

function resolveIn(project: Project, p: string): string {
  return isAbsolute(p) ? p : join(project.root, p);
}

export function currentActor(): string {
  const fromEnv = process.env['SLUICE_ACTOR'];
  if (fromEnv && fromEnv.trim() !== '') return fromEnv.trim();
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
