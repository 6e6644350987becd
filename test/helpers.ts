import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scaffoldProject } from '../src/demo/scaffold.ts';
import { openWorkspace, type Workspace } from '../src/app/open-workspace.ts';
import { ManualClock } from '../src/util/clock.ts';
import type { SqlEngine } from '../src/engine/sql-engine.ts';

export function tempDir(prefix = 'sluice-test-'): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A scaffolded orders project with a few small partitions (2026-11-01 onwards). */
export async function smallProject(dir: string, o: { days?: number; ordersPerDay?: number } = {}): Promise<string> {
  const root = join(dir, 'shop');
  await scaffoldProject({ dir: root, days: o.days ?? 3, ordersPerDay: o.ordersPerDay ?? 300 });
  return root;
}

export async function workspace(root: string, env = 'dev'): Promise<Workspace> {
  return openWorkspace(root, env, { clock: new ManualClock('2026-11-20T10:00:00Z') });
}

export async function count(db: SqlEngine, sql: string): Promise<number> {
  const [r] = await db.query(`SELECT count(*)::BIGINT AS n FROM (${sql}) q`);
  return Number(r?.['n']);
}

/** True when two queries return the same multiset of rows. */
export async function sameRows(db: SqlEngine, a: string, b: string): Promise<boolean> {
  const left = await count(db, `(${a}) EXCEPT ALL (${b})`);
  const right = await count(db, `(${b}) EXCEPT ALL (${a})`);
  return left === 0 && right === 0;
}
