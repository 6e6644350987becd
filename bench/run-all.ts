// Every benchmark in one go: `npm run bench` (full sizes, as the issues name them) or
// `npm run bench -- --quick` (small sizes, a smoke run). Prints every table and writes a Markdown
// summary to bench/RESULTS.md (or --out FILE). Each bench measures its competitors side by side,
// interleaved, and reports medians and ratios: on a shared 2-core machine absolute seconds are noisy.
//   npx tsx bench/run-all.ts [--quick] [--only a,b] [--skip a,b] [--out FILE]
// Bench names: startup, overhead, validate, reads (alias layout), quality, flags, slice, rollback, shadow, memory, postgres.
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { DuckDBEngine } from '../src/engine/duckdb/duckdb-engine.ts';
import { flag, markdownTable, peakRssMiB } from './bench-util.ts';

interface Bench {
  readonly name: string;
  readonly title: string;
  /** Sizes in words, for the summary. */
  readonly sizes: (quick: boolean) => string;
  /** Returns the section's Markdown. */
  readonly run: (quick: boolean) => Promise<string>;
}

const here = import.meta.dirname;
const f3 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(3));
const x2 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '' : `${x.toFixed(2)}x`);
const n = (x: number): string => x.toLocaleString('en-US');
const progress = (line: string): void => void process.stderr.write(`  ${line}\n`);

/** Runs a bench file as a child process and returns its stdout (for a module without an exported runner). */
function childProcess(file: string, args: readonly string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, file), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${file} exited with ${r.status}`);
  return '```\n' + r.stdout.trim() + '\n```\n';
}

const BENCHES: readonly Bench[] = [
  {
    name: 'startup',
    title: 'CLI start-up: `sluice --help`, `--version` and `runs` (demo project) vs `node -e 0`',
    sizes: (q) => `${q ? 5 : 15} interleaved repetitions of each command as a fresh process; the demo project as \`sluice demo\` makes it`,
    run: async (q) => {
      const { runCliStartupBench, formatCliStartupBench } = await import('./cli-startup.bench.ts');
      return formatCliStartupBench(await runCliStartupBench({ repeats: q ? 5 : 15, log: progress }));
    },
  },
  {
    name: 'overhead',
    title: 'Sluice overhead: `sluice run` of the demo pipeline vs the same SQL run directly through DuckDB',
    sizes: (q) => (q ? `${n(100_000)} source rows, 1 repetition, no warm-up` : `${n(10_000_000)} source rows, 5 repetitions after a warm-up`) + ', each run a fresh process',
    run: async (q) => {
      const { runOverheadBench, formatOverheadBench } = await import('./run-overhead.bench.ts');
      return formatOverheadBench(await runOverheadBench(q ? { rows: 100_000, repeats: 1, warmup: 0, compiled: false, log: progress } : { rows: 10_000_000, repeats: 5, warmup: 1, log: progress }));
    },
  },
  {
    name: 'validate',
    title: 'Validate at scale: loading and structural checks of an N-step pipeline; binding per step version',
    sizes: (q) => (q ? 'chains of 2,000 / 4,000 / 8,000 steps; binding over 500 steps' : 'chains of 8,000 / 16,000 / 32,000 / 100,000 steps; binding over 2,000 steps'),
    run: async (q) => {
      const { runValidateScaleBench } = await import('./validate-scale.bench.ts');
      const r = await runValidateScaleBench(q ? { sizes: [2000, 4000, 8000], bindSteps: 500 } : { sizes: [8000, 16000, 32000, 100000], bindSteps: 2000 });
      return (
        markdownTable(r.structural.map((x) => ({ steps: n(x.steps), seconds: f3(x.seconds), 'seconds per 1,000 steps': f3(x.perThousand) }))) +
        `\nAim: linear (seconds per 1,000 steps flat), 100,000 steps under 10 s. Binding: ${r.bindMsPerVersion.toFixed(2)} ms per step version (aim: a few ms).\n`
      );
    },
  },
  {
    name: 'reads',
    title: 'Reads: a published dataset vs a plain table, in process and from another process, before and after compaction',
    sizes: (q) => (q ? '30 partitions x 3 versions x 1,000 rows, 3 repetitions' : '1,000 partitions x 3 versions x 10,000 rows, 7 repetitions') + '; rollbacks of 10 partitions',
    run: async (q) => {
      const { runReadsBench, formatReadsBench } = await import('./reads.bench.ts');
      return formatReadsBench(await runReadsBench(q ? { partitions: 30, rowsPerPartition: 1_000, repeats: 3, log: progress } : { partitions: 1000, rowsPerPartition: 10_000, repeats: 7, log: progress }));
    },
  },
  {
    name: 'quality',
    title: 'Quality: fused checks and diff vs hand-written DuckDB queries',
    sizes: (q) => `${n(q ? 500_000 : 10_000_000)}-row table for checks, two ${n(q ? 250_000 : 5_000_000)}-row tables for the diff, 3 repetitions`,
    run: async (q) => {
      const { runQualityBench } = await import('./quality.bench.ts');
      const rows = await runQualityBench({ rows: q ? 500_000 : 10_000_000, repeats: 3, log: progress });
      return markdownTable(rows.map((r) => ({ measure: r.name, seconds: f3(r.seconds), 'vs hand-written': x2(r.ratio), note: r.note ?? '' })));
    },
  },
  {
    name: 'flags',
    title: 'Flag evaluation throughput, in process, vs unleash-client, GrowthBook, OpenFeature',
    sizes: (q) => `${n(q ? 100_000 : 1_000_000)} distinct keys, 30 % sticky rollout + one IN constraint`,
    run: async (q) => {
      const { runFlagsBench } = await import('./flags-eval.bench.ts');
      const rows = await runFlagsBench({ keys: q ? 100_000 : 1_000_000, print: false });
      return markdownTable(rows.map((r) => ({ contender: r.contender, 'evaluations/s': n(r.evaluationsPerSecond), 'vs fastest peer': x2(r.vsFastestPeer), 'enabled share': r.enabledShare.toFixed(3) })));
    },
  },
  {
    name: 'slice',
    title: 'Row-level slicing: publishing a 10 % canary slice vs publishing the baseline alone',
    sizes: (q) => `one partition of ${n(q ? 500_000 : 10_000_000)} rows, 3 repetitions`,
    run: async (q) => {
      const file = join(here, 'slice-publish.bench.ts');
      if (!existsSync(file)) return '(bench/slice-publish.bench.ts is not in this tree; skipped)\n';
      interface SliceRow { measure: string; rows: number; seconds: number; ratio?: number; keysPerSecond?: number }
      const mod = (await import(pathToFileURL(file).href)) as { runSliceBench?: (o: { rows: number; runs?: number; percent?: number }) => Promise<SliceRow[]> };
      const rows = q ? 500_000 : 10_000_000;
      if (typeof mod.runSliceBench !== 'function') return childProcess('slice-publish.bench.ts', ['--rows', String(rows)]);
      const r = await mod.runSliceBench({ rows, runs: 3, percent: 10 });
      return markdownTable(r.map((x) => ({ measure: x.measure, seconds: f3(x.seconds), 'vs baseline publish': x2(x.ratio), 'keys/s': x.keysPerSecond === undefined ? '' : n(Math.round(x.keysPerSecond)) })));
    },
  },
  {
    name: 'rollback',
    title: 'Rollback: republishing older versions, against rows per partition and partitions',
    sizes: (q) => (q ? 'partitions 1, 10, 30 x rows 1k, 10k, 5 repetitions' : 'partitions 1, 10, 100, 1,000 x rows 10k, 100k, 1M, 10M (≤ 10M rows a case), 11 repetitions') + '; 10 partitions in a small and a large dataset, before and after compaction',
    run: async (q) => {
      const { runRollbackBench, formatRollbackBench } = await import('./rollback.bench.ts');
      return formatRollbackBench(await runRollbackBench({ quick: q, repeats: q ? 5 : 11, log: progress })) + '\nAim: flat in rows; 10 partitions x 1M rows ≤ 0.1 s.\n';
    },
  },
  {
    name: 'shadow',
    title: 'Shadow batch vs plain batch (computing twice plus diff)',
    sizes: (q) => (q ? `one partition of ${n(100_000)} source rows, 1 repetition` : `one partition of ${n(10_000_000)} source rows, 3 repetitions`),
    run: async (q) => {
      const { runShadowBench, formatShadowBench } = await import('./shadow-cost.bench.ts');
      return formatShadowBench(await runShadowBench({ rows: q ? 100_000 : 10_000_000, repeats: q ? 1 : 3, log: progress }));
    },
  },
  {
    name: 'memory',
    title: 'Memory: peak RSS of `sluice run` when the input is larger than the engine memory limit',
    sizes: (q) => (q ? `${n(1_000_000)} source rows; memory_limit 64MB, spillable step only; 1 run a side` : `${n(10_000_000)} source rows; memory_limit 2GB (the demo's), 512MB, 256MB; 2 runs a side`),
    run: async (q) => {
      const { runMemoryBench, formatMemoryBench, memoryCases } = await import('./memory.bench.ts');
      return formatMemoryBench(await runMemoryBench({ rows: q ? 1_000_000 : 10_000_000, cases: memoryCases(q), repeats: q ? 1 : 2, compiled: !q, log: progress }));
    },
  },
  {
    name: 'postgres',
    title: 'PostgreSQL beside the embedded engines: the demo pipeline, canary batches and a rollback; worker throughput with 1, 2 and 3 workers',
    sizes: (q) => (q ? '4 daily partitions of 500 orders; 4 queued items' : `14 daily partitions of ${n(20_000)} orders; 12 queued items`) + '; a throwaway PostgreSQL cluster on 127.0.0.1',
    run: async (q) => {
      const { runEnginesBench, formatEnginesBench } = await import('./postgres-engines.bench.ts');
      return formatEnginesBench(await runEnginesBench(q ? { days: 4, ordersPerDay: 500, queue: 4, compiled: false, log: progress } : { days: 14, ordersPerDay: 20_000, queue: 12, compiled: true, log: progress }));
    },
  },
];

function listArg(name: string): string[] | undefined {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

function stringArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function duckdbVersion(): Promise<string> {
  const db = await DuckDBEngine.open(':memory:');
  try {
    return String((await db.query('SELECT version() AS v'))[0]?.['v'] ?? '?');
  } finally {
    await db.close();
  }
}

export async function runAll(o: { quick: boolean; only?: readonly string[]; skip?: readonly string[]; out: string }): Promise<{ failed: string[] }> {
  const alias = (xs?: readonly string[]): string[] | undefined => xs?.map((b) => (b === 'layout' ? 'reads' : b));
  o = { ...o, only: alias(o.only), skip: alias(o.skip) };
  const unknown = [...(o.only ?? []), ...(o.skip ?? [])].filter((b) => !BENCHES.some((x) => x.name === b));
  if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')} (benches: ${BENCHES.map((b) => b.name).join(', ')})`);
  const selected = BENCHES.filter((b) => (!o.only || o.only.includes(b.name)) && !(o.skip ?? []).includes(b.name));
  const startLoad = loadavg().map((l) => l.toFixed(2)).join(' ');
  const header = [
    `# Sluice benchmarks${o.quick ? ' (quick sizes)' : ''}`,
    '',
    `Generated by \`npm run bench${o.quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: Node ${process.version}, DuckDB ${await duckdbVersion()}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average at start ${startLoad}.`,
    'Every bench runs its competitors side by side in one process run, interleaved, and reports medians; trust the ratios more than the seconds.',
    o.quick ? '\n**Quick sizes: a smoke run, not the sizes the issues name. Run `npm run bench` on an idle machine for those.**' : '',
    '',
  ];
  const sections: string[] = [];
  const failed: string[] = [];
  const write = (): void => writeFileSync(o.out, [...header, ...sections, `\nLoad average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}; peak RSS of the bench process ${peakRssMiB()} MiB.\n`].join('\n'));
  for (const b of selected) {
    process.stderr.write(`\n== ${b.name}: ${b.sizes(o.quick)}\n`);
    const t = performance.now();
    let body: string;
    try {
      body = await b.run(o.quick);
    } catch (e) {
      failed.push(b.name);
      body = `**failed:** ${e instanceof Error ? e.message : String(e)}\n`;
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    }
    const took = (performance.now() - t) / 1000;
    const section = `## ${b.title}\n\nSizes: ${b.sizes(o.quick)}. Took ${took.toFixed(0)} s.\n\n${body.trimEnd()}\n`;
    process.stdout.write(`\n${section}`);
    sections.push(section);
    write();
  }
  process.stderr.write(`\nwrote ${relative(process.cwd(), o.out) || o.out}\n`);
  return { failed };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { failed } = await runAll({ quick: flag('quick'), only: listArg('only'), skip: listArg('skip'), out: stringArg('out') ?? join(here, 'RESULTS.md') });
  // Some contenders (unleash-client) keep timers alive; end explicitly.
  process.exit(failed.length > 0 ? 1 : 0);
}
