// CLI start-up: how long `sluice --help`, `sluice --version` and `sluice runs` (on the demo
// project) take as fresh processes, against `node -e 0` on the same machine in the same run. The
// sides are interleaved (the order rotates every repetition); each reports the median wall time,
// the median CPU time (user + system, all threads: far less disturbed by other load on a shared
// machine) and the median of per-repetition ratios to `node -e 0`. Every side, `node -e 0`
// included, runs with bench/rss-on-exit.mjs preloaded (a few ms, the same for all).
// Sluice runs as compiled JavaScript from a private build of this tree (bench/sluice-cli.ts), or
// the bin given with --bin (e.g. another checkout's bin/sluice.js, to compare before and after).
// Aim (issue 12): `sluice --help` and `sluice runs` start in at most 0.3 s.
//   npx tsx bench/cli-startup.bench.ts [--repeats N] [--bin FILE]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, markdownTable, median, medianRatio, rotate, runNode } from './bench-util.ts';
import { sluiceCli } from './sluice-cli.ts';

const AIM_SECONDS = 0.3;

interface Side {
  readonly name: string;
  /** Arguments to node. */
  readonly args: readonly string[];
  /** Held to the aim of issue 12. */
  readonly aimed: boolean;
}

export interface StartupRow {
  readonly command: string;
  readonly seconds: number;
  readonly cpuSeconds: number;
  /** Median of per-repetition ratios of wall time to `node -e 0`. */
  readonly vsNode: number;
  readonly aim: string;
}

export interface StartupResult {
  readonly repeats: number;
  readonly how: string;
  readonly rows: readonly StartupRow[];
}

export async function runCliStartupBench(o: { repeats: number; bin?: string; log?: (l: string) => void }): Promise<StartupResult> {
  const cli = o.bin ? { bin: o.bin, env: {}, how: `the bin ${o.bin}`, cleanup: () => undefined } : sluiceCli({ compiled: true, log: o.log });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-startup-'));
  try {
    const project = join(dir, 'shop');
    o.log?.('creating the demo project (sluice demo)');
    runNode([cli.bin, 'demo', '--dir', project], { env: cli.env });
    const sides: readonly Side[] = [
      { name: 'node -e 0', args: ['-e', '0'], aimed: false },
      { name: 'sluice --help', args: [cli.bin, '--help'], aimed: true },
      { name: 'sluice --version', args: [cli.bin, '--version'], aimed: false },
      { name: 'sluice runs (demo project)', args: [cli.bin, '--project', project, 'runs'], aimed: true },
    ];
    const wall = new Map<string, number[]>(sides.map((s) => [s.name, []]));
    const cpu = new Map<string, number[]>(sides.map((s) => [s.name, []]));
    // One unmeasured round first: the files are in the page cache for every measured one.
    for (const s of sides) runNode(s.args, { env: cli.env });
    for (let i = 0; i < o.repeats; i++) {
      for (const s of rotate(sides, i)) {
        const r = runNode(s.args, { env: cli.env });
        wall.get(s.name)?.push(r.seconds);
        cpu.get(s.name)?.push(r.cpuSeconds);
      }
    }
    const node = wall.get('node -e 0') ?? [];
    const rows = sides.map((s): StartupRow => {
      const seconds = median(wall.get(s.name) ?? []);
      return { command: s.name, seconds, cpuSeconds: median(cpu.get(s.name) ?? []), vsNode: medianRatio(wall.get(s.name) ?? [], node), aim: s.aimed ? (seconds <= AIM_SECONDS ? `≤ ${AIM_SECONDS} s: met` : `≤ ${AIM_SECONDS} s: **missed**`) : '' };
    });
    return { repeats: o.repeats, how: cli.how, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    cli.cleanup();
  }
}

export function formatCliStartupBench(r: StartupResult): string {
  const table = markdownTable(r.rows.map((x) => ({ command: x.command, 'wall s': x.seconds.toFixed(3), 'CPU s': x.cpuSeconds.toFixed(3), 'vs node -e 0': `${x.vsNode.toFixed(2)}x`, aim: x.aim })));
  return `Each command a fresh process; sluice as ${r.how}; median of ${r.repeats} interleaved repetitions after one unmeasured round; ratios are medians of per-repetition ratios.\n\n${table}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--bin');
  const bin = i >= 0 ? process.argv[i + 1] : undefined;
  const r = await runCliStartupBench({ repeats: arg('repeats', 15), ...(bin ? { bin } : {}), log: (l) => process.stderr.write(`  ${l}\n`) });
  process.stdout.write(`\n${formatCliStartupBench(r)}\n`);
}
