import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { openScratchEngine } from '../app/adapters.ts';
import { SluiceError } from '../util/errors.ts';
import { generateOrders } from './generate-orders.ts';
import { projectFiles } from './project-template.ts';

export interface ScaffoldOptions {
  readonly dir: string;
  readonly name?: string;
  readonly startDate?: string;
  readonly days?: number;
  readonly ordersPerDay?: number;
  readonly seed?: number;
}

/** Writes a working project with sample data into an empty (or new) folder. */
export async function scaffoldProject(o: ScaffoldOptions): Promise<{ root: string; files: string[] }> {
  const root = resolve(o.dir);
  if (existsSync(root) && readdirSync(root).length > 0) {
    throw new SluiceError('USAGE', `${root} is not empty; choose a new folder`, { file: root });
  }
  const files = projectFiles({ name: o.name ?? basename(root) });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  await using db = await openScratchEngine();
  await generateOrders(db, { root, startDate: o.startDate ?? '2026-11-01', days: o.days ?? 14, ordersPerDay: o.ordersPerDay ?? 2000, seed: o.seed });
  return { root, files: Object.keys(files) };
}
