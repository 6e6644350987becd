import { SluiceError, messageOf } from '../util/errors.ts';
import { userInfo } from 'node:os';
import { loadProjectOrThrow } from './load-project.ts';
import type { Project } from '../config/project-model.ts';
import type { Warehouse } from '../engine/warehouse.ts';
import { FlagStates } from '../runner/flag-states.ts';
import { AuditTrail, type AuditAnchor } from '../governance/audit-trail.ts';
import type { ControllerConfig } from '../rollout/reduce.ts';
import { RolloutEffects } from '../runner/rollouts/rollout-effects.ts';
import { RolloutService, type DispatchOutcome } from '../runner/rollouts/rollout-service.ts';
import { recover, type Recovery } from '../runner/recover.ts';
import { runWithRollouts } from '../runner/rollouts/run-with-rollouts.ts';
import type { RunnerDeps, RunRequest, RunResult } from '../runner/run-pipeline.ts';
import { requireEnvironment } from '../config/require-environment.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import { SluiceMetrics } from '../telemetry/metrics.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { existsSync } from 'node:fs';
import { duckdbPath, effectiveSettings, openStore, openWarehouse } from './adapters.ts';
import { fileAuditAnchor } from './audit-anchor.ts';

/** A project opened in one environment, with its store, warehouses and services wired together. */
export interface Workspace extends RunnerDeps, AsyncDisposable {
  readonly environment: string;
  /** The warehouse of any environment (opened on first use, closed with the workspace). */
  warehouseFor(environment: string): Promise<Warehouse>;
  readonly flags: FlagStates;
  readonly rollouts: RolloutService;
  /** Runs a pipeline for one partition; every rollout that moves one of its steps sees the batch. */
  run(req: RunRequest): Promise<{ result: RunResult; rollouts: DispatchOutcome[] }>;
  /**
   * Finishes or undoes work left half done by a process that stopped (runs, rollbacks, republishes);
   * commands that write or read rollout state call it first, metadata reads do not.
   */
  recover(): Promise<Recovery[]>;
}

export interface WorkspaceOptions {
  readonly clock?: Clock;
  /** Where notices of the controller and observers go (default: stderr). */
  readonly log?: (line: string) => void;
  readonly controller?: ControllerConfig;
  /** Finish or undo work a stopped process left half done before handing the workspace out (commands that write, or read rollout state). */
  readonly recover?: boolean;
  /** Bind the whole project (steps, checks, plans) before handing it out: commands that compute or start rollouts. */
  readonly check?: boolean;
  /** Where the audit trail's key and checkpoint are (default: the per-user files of this store). */
  readonly auditAnchor?: AuditAnchor;
  /** Before closing, let each opened warehouse do the upkeep its policy asks for (compaction): commands that publish. */
  readonly maintain?: boolean;
}

/**
 * The composition root: loads the project, picks the store and warehouse adapters by kind
 * (sluice.yaml, or SLUICE_STORE_URL / SLUICE_WAREHOUSE_URL), and hands them to the runner, the
 * flag states, the audit trail and the rollout service. The CLI, the demo and the API open
 * workspaces here; nothing else wires adapters.
 */
export async function openWorkspace(projectDir: string, env?: string, options: WorkspaceOptions = {}): Promise<Workspace> {
  const project = await loadProjectOrThrow(projectDir, { ...(options.check ? { bind: true } : {}) });
  return openProjectWorkspace(project, env ?? project.defaultEnvironment, options);
}

export async function openProjectWorkspace(project: Project, environment: string, options: WorkspaceOptions = {}): Promise<Workspace> {
  requireEnvironment(project, environment);
  const settings = effectiveSettings(project);
  const store = await openStore(project, settings.store);
  let ws: Workspace;
  try {
    ws = await wireWorkspace(project, environment, store, (env) => openWarehouse(project, settings.warehouse, env), options);
  } catch (e) {
    await store.close();
    throw e;
  }
  if (options.recover) {
    try {
      await ws.recover();
    } catch (e) {
      await ws[Symbol.asyncDispose]();
      throw e;
    }
  }
  return ws;
}

/**
 * Wires the services of a workspace over an opened store and a way to open each environment's
 * warehouse (cached, closed with the workspace). Rehearsals wire copies the same way.
 */
export async function wireWorkspace(project: Project, environment: string, store: MetadataStore, open: (environment: string) => Promise<Warehouse>, options: WorkspaceOptions = {}): Promise<Workspace> {
  requireEnvironment(project, environment);
  const clock = options.clock ?? systemClock;
  const log = options.log ?? ((line: string): void => void process.stderr.write(`${line}\n`));
  const warehouses = new Map<string, Promise<Warehouse>>();
  const warehouseFor = (env: string): Promise<Warehouse> => {
    requireEnvironment(project, env);
    let w = warehouses.get(env);
    if (!w) {
      w = open(env);
      warehouses.set(env, w);
    }
    return w;
  };
  const closeAll = async (): Promise<void> => {
    for (const w of warehouses.values()) {
      const opened = await w.catch(() => undefined);
      if (!opened) continue;
      // Upkeep never fails the command whose work is already done; the next command tries again.
      if (options.maintain) await opened.maintain().catch((e: unknown) => log(`warehouse upkeep (compaction) failed, left for the next command: ${messageOf(e)}`));
      await opened.close();
    }
    await store.close();
  };
  let warehouse: Warehouse;
  try {
    warehouse = await warehouseFor(environment);
  } catch (e) {
    await closeAll();
    throw e;
  }
  const metrics = new SluiceMetrics();
  // A store written by hand-made projects (no `sluice init`) gets its key with the first entry: say where.
  const anchor = options.auditAnchor ?? fileAuditAnchor(store.description, process.env, { onKeyCreated: (file) => log(`created the audit key ${file} (outside the project and the store: keep it, back it up, never commit it)`) });
  const audit = new AuditTrail(store, anchor);
  const flags = new FlagStates({ declared: project.flags, store, audit, clock });
  const effects = new RolloutEffects({ project, store, audit, flags, clock, metrics, warehouseFor, log });
  const rollouts = new RolloutService({ project, store, audit, clock, effects, log, ...(options.controller ? { config: options.controller } : {}) });
  const deps = { project, warehouse, store, audit, clock, metrics, log };
  return {
    ...deps,
    environment,
    warehouseFor,
    flags,
    rollouts,
    run: (req) => runWithRollouts(deps, rollouts, req),
    recover: () => recover({ ...deps, warehouseFor, rollouts }),
    [Symbol.asyncDispose]: closeAll,
  };
}

/** The real warehouse of an environment when it exists (a rehearsal never creates one). */
export function existingWarehouse(ws: Workspace): (env: string) => Promise<Warehouse | undefined> {
  const settings = effectiveSettings(ws.project).warehouse;
  return async (env) => {
    if (env === ws.environment) return ws.warehouseFor(env);
    if (settings.kind === 'duckdb') return existsSync(duckdbPath(ws.project, settings, env)) ? ws.warehouseFor(env) : undefined;
    // A server's database of another environment may be this one's (one URL without {env}): then it has none of its own.
    return ws.warehouseFor(env).catch((e: unknown) => {
      if (e instanceof SluiceError && e.code === 'CONFLICT') return undefined;
      throw e;
    });
  };
}

/** Who acts: `SLUICE_ACTOR`, else the OS user. Recorded in runs, flag changes and the audit trail. */
export function currentActor(): string {
  const fromEnv = process.env['SLUICE_ACTOR'];
  if (fromEnv && fromEnv.trim() !== '') return fromEnv.trim();
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export type { MetadataStore };
