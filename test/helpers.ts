import { spawnSync } from 'node:child_process';
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

/** What a command run through the real bin printed and how it exited. */
export type BinOutput = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

export const BIN = join(import.meta.dirname, '..', 'bin', 'sluice.js');

export interface BinOptions {
  /** Passed as `--project ROOT` before the arguments. */
  readonly root?: string;
  /** SLUICE_ACTOR (default alice). */
  readonly actor?: string;
  /** More environment; SLUICE_CRASH_AT is cleared unless given here. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/** Runs the real `sluice` bin as a user would, in a process of its own. */
export function runBin(args: readonly string[], o: BinOptions = {}): BinOutput {
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_ACTOR: o.actor ?? 'alice', ...o.env };
  if (!o.env || !('SLUICE_CRASH_AT' in o.env)) delete env['SLUICE_CRASH_AT'];
  const r = spawnSync(process.execPath, [BIN, ...(o.root !== undefined ? ['--project', o.root] : []), ...args], { encoding: 'utf8', env, cwd: o.cwd, timeout: o.timeoutMs ?? 180_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `sluice --project ROOT ARGS...`. */
export function sluiceBin(root: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): BinOutput {
  return runBin(args, { root, env });
}

/** Asserts a bin run exited 0 and returns it; the message shows what it printed. */
export function binOk(r: BinOutput, what: string): BinOutput {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Runs a command with `--json` and parses what it printed. */
export function binJson<T>(root: string, args: readonly string[]): T {
  return JSON.parse(binOk(sluiceBin(root, ['--json', ...args]), args.join(' ')).stdout) as T;
}
