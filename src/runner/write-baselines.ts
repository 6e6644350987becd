import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import type { Project } from '../config/project-model.ts';
import type { Stores } from '../store/metadata-store.ts';
import type { DeploymentPlan } from './deployment-plan.ts';
import type { FlagStates } from './flag-states.ts';

export interface BaselineWrite {
  readonly flag: string;
  readonly step: string;
  readonly file: string;
  readonly field: string;
  readonly from: string;
  readonly to: string;
  /** Environments pinned at the old baseline first, so that changing the file changes nothing deployed. */
  readonly pinned: readonly string[];
}

export interface WriteResult {
  readonly written: readonly BaselineWrite[];
  readonly refused: readonly { readonly flag: string; readonly reason: string }[];
}

/** Where a flag's baseline is written: its flags/*.yaml file, or the step's default_version for an implicit version flag. */
function baselineLocation(project: Project, flag: string, step: string): { file: string; path: (string | number)[]; doc: Document } | undefined {
  const dir = join(project.root, 'flags');
  for (const f of existsSync(dir) ? readdirSync(dir).filter((x) => /\.ya?ml$/.test(x)).sort() : []) {
    const file = join('flags', f);
    const doc = parseDocument(readFileSync(join(project.root, file), 'utf8'));
    const root = doc.contents;
    if (isMap(root) && String((root.toJSON() as { name?: unknown }).name) === flag) return { file, path: ['default_variant'], doc };
    const list = isMap(root) ? root.get('flags') : undefined;
    if (isSeq(list)) {
      const i = list.items.findIndex((x) => isMap(x) && String((x.toJSON() as { name?: unknown }).name) === flag);
      if (i >= 0) return { file, path: ['flags', i, 'default_variant'], doc };
    }
  }
  const [pipeline, stepName] = step.split('.');
  const p = pipeline ? project.pipelines.get(pipeline) : undefined;
  if (!p || !stepName) return undefined;
  return { file: p.file, path: ['steps', stepName, 'default_version'], doc: parseDocument(readFileSync(join(project.root, p.file), 'utf8')) };
}

/**
 * `sluice plan --write`: commits baselines that rollouts promoted to the project files, in place
 * and keeping comments. A step's new baseline is the one the environments that were promoted agree on; every
 * environment that still runs the old baseline from the files is first pinned there (a flag
 * revision, audited), so the file change alters nothing deployed. Environments that disagree are
 * refused, naming them.
 */
export async function writeBaselines(deps: { project: Project; flags: FlagStates; store: Pick<Stores, 'flagRevisions'> }, plan: DeploymentPlan, actor: string): Promise<WriteResult> {
  const written: BaselineWrite[] = [];
  const refused: { flag: string; reason: string }[] = [];
  // Only baselines a rollout promoted go into the files; one a person pinned stays a difference.
  const baselines = plan.items.filter((i) => i.kind === 'baseline' && i.counts && i.byRollout);
  for (const flag of [...new Set(baselines.map((i) => i.subject))]) {
    const mine = baselines.filter((i) => i.subject === flag);
    const targets = [...new Set(mine.map((i) => i.deployed))];
    const from = mine[0]?.files ?? '';
    const step = mine[0]?.step ?? '';
    if (targets.length !== 1) {
      refused.push({ flag, reason: `environments run different baselines (${mine.map((i) => `${i.environment}: ${i.deployed}`).join(', ')}); promote one everywhere first` });
      continue;
    }
    const to = targets[0] as string;
    const where = baselineLocation(deps.project, flag, step);
    if (!where) {
      refused.push({ flag, reason: 'no file defines its baseline' });
      continue;
    }
    const pinned: string[] = [];
    for (const env of deps.project.environments) {
      if (mine.some((i) => i.environment === env)) continue;
      // Pinned only where the files decide today: an environment with a stored state keeps it.
      if ((await deps.store.flagRevisions.list(env, flag)).length > 0) continue;
      await deps.flags.set(env, flag, { defaultVariant: from }, actor, `pinned at ${from} before the project files name ${to} (sluice plan --write)`, 'flag.pin');
      pinned.push(env);
    }
    where.doc.setIn(where.path, to);
    writeFileSync(join(deps.project.root, where.file), where.doc.toString());
    written.push({ flag, step, file: where.file, field: where.path.join('.'), from, to, pinned });
  }
  return { written, refused };
}
