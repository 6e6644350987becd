import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { formatTable } from '../src/util/format-table.ts';

// Sluice keeps a per-user folder (audit keys and checkpoints per store, SLUICE_HOME); every project a
// bench makes is a new store, so benches keep that folder in a temporary one, removed at exit.
if (!process.env['SLUICE_HOME']) {
  const home = mkdtempSync(join(tmpdir(), 'sluice-bench-home-'));
  process.env['SLUICE_HOME'] = home;
  process.on('exit', () => rmSync(home, { recursive: true, force: true }));
}

/** Median seconds of `runs` runs of fn (after `warmup` unmeasured ones). */
export async function timeMedian(fn: () => Promise<unknown>, runs = 3, warmup = 0): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

export function printTable(title: string, rows: Record<string, unknown>[]): void {
  process.stdout.write(`\n${title}\n${formatTable(rows)}\n`);
}

export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number(process.env[`BENCH_${name.toUpperCase().replaceAll('-', '_')}`] ?? fallback);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

export function peakRssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** True when `--name` is on the command line. */
export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** A GitHub-flavoured Markdown table (numbers right-aligned). */
export function markdownTable(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(none)\n';
  const cols = Object.keys(rows[0] ?? {});
  const cell = (v: unknown): string => (v === null || v === undefined ? '' : String(v)).replaceAll('|', '\\|');
  const numeric = cols.map((c) => rows.every((r) => /^[-+]?[\d.,]+( ?[%x×s])?$|^$/.test(cell(r[c]))));
  const head = `| ${cols.join(' | ')} |`;
  const sep = `|${numeric.map((n) => (n ? ' ---: ' : ' --- ')).join('|')}|`;
  return [head, sep, ...rows.map((r) => `| ${cols.map((c) => cell(r[c])).join(' | ')} |`)].join('\n') + '\n';
}

export interface ChildRun {
  readonly seconds: number;
  /** CPU time of the child, all its threads (user + system): far less disturbed by other load than wall time. */
  readonly cpuSeconds: number;
  /** Wall-clock milliseconds (Date.now()) when the child was started and when it had exited. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly stdout: string;
  /** Peak resident set size of the child process (getrusage at its exit), MiB. */
  readonly peakRssMiB: number;
}

/**
 * Runs `node <args>` as a fresh process and measures it: wall time, CPU time and the child's own peak RSS
 * (bench/rss-on-exit.mjs is preloaded). Throws with its stderr when it exits non-zero.
 */
export function runNode(args: readonly string[], o: { env?: Record<string, string>; cwd?: string } = {}): ChildRun {
  const r = runNodeAllowingFailure(args, o);
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status}: ${r.stderr.slice(-4000)}`);
  return r;
}

/** runNode, returning a non-zero exit instead of throwing. */
export function runNodeAllowingFailure(args: readonly string[], o: { env?: Record<string, string>; cwd?: string } = {}): ChildRun & { readonly status: number | string; readonly stderr: string } {
  const rssFile = join(tmpdir(), `sluice-bench-rss-${process.pid}-${++childRuns}`);
  const startedAt = Date.now();
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(import.meta.dirname, 'rss-on-exit.mjs')).href, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ...o.env, BENCH_RSS_FILE: rssFile },
    ...(o.cwd ? { cwd: o.cwd } : {}),
  });
  const seconds = (performance.now() - t) / 1000;
  const endedAt = Date.now();
  let usage = { maxRssKiB: Number.NaN, userUs: Number.NaN, systemUs: Number.NaN };
  try {
    usage = JSON.parse(readFileSync(rssFile, 'utf8')) as typeof usage;
    rmSync(rssFile, { force: true });
  } catch {
    // no file: the child died before its exit handler ran
  }
  return { seconds, cpuSeconds: (usage.userUs + usage.systemUs) / 1e6, startedAt, endedAt, stdout: r.stdout, peakRssMiB: usage.maxRssKiB / 1024, status: r.status ?? String(r.signal), stderr: r.stderr ?? '' };
}
let childRuns = 0;

/** Median of per-repetition ratios a[i] / b[i]. */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / (b[i] ?? Number.NaN)));
}

/** `[a, b, c]` rotated by i (the order sides run in repetition i, so none always runs first). */
export function rotate<T>(xs: readonly T[], i: number): T[] {
  const k = ((i % xs.length) + xs.length) % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}
