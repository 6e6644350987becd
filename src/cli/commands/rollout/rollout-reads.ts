import { effectiveSettings, storeExists, warehouseExists } from '../../../app/adapters.ts';
import { loadProjectOrThrow } from '../../../app/load-project.ts';
import { openProjectWorkspace, type Workspace } from '../../../app/open-workspace.ts';
import type { Project } from '../../../config/project-model.ts';
import { requireEnvironment } from '../../../config/require-environment.ts';
import type { CliContext } from '../cli-context.ts';

/**
 * How `rollout status` and `rollout report` read, creating nothing. A project that never ran has
 * no store: no rollout started and nothing is left to recover, so they answer from the plan files
 * (`planned`). Otherwise they read what the store records (`recorded`), after recovery, through a
 * workspace. What they show does not depend on the environment (a rollout spans its plan's
 * environments, and recovery opens each warehouse it needs), so the workspace opens one whose
 * warehouse exists: asking about an environment that never ran creates no warehouse for it.
 */
export async function readRollouts<T>(cli: CliContext, read: { recorded(ws: Workspace): Promise<T>; planned(project: Project): T | Promise<T> }): Promise<T> {
  const project = await loadProjectOrThrow(cli.globals().project);
  const environment = cli.globals().env ?? project.defaultEnvironment;
  requireEnvironment(project, environment);
  const settings = effectiveSettings(project);
  if (!storeExists(project, settings.store)) return read.planned(project);
  const opened = [environment, ...project.environments].find((e) => warehouseExists(project, settings.warehouse, e)) ?? environment;
  await using ws = await openProjectWorkspace(project, opened, { recover: true });
  // Awaited here: the workspace is closed when this function returns.
  return await read.recorded(ws);
}
