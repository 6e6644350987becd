import { performance } from 'node:perf_hooks';
import { formatTable } from '../src/util/format-table.ts';

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
