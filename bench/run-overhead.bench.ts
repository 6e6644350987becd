// Sluice's overhead: `sluice run` of the demo pipeline (one partition of N source rows in Parquet)
// against the same SQL run directly through DuckDB, each a fresh process, interleaved (the order
// rotates every repetition), medians of per-repetition ratios. Competitors:
//   - direct, plain table: a hand-written idempotent job (DELETE + INSERT of the partition in a
//     table per dataset, one transaction) — bench/direct-pipeline.mjs plain (plain JavaScript on
//     @duckdb/node-api: no loader, no Sluice code);
//   - direct, Sluice's format: each dataset's partition into a new DuckDB file of its own (ATTACH,
//     CREATE TABLE AS, CHECKPOINT) — bench/direct-pipeline.mjs files — so a cheaper storage format
//     is not mistaken for less overhead;
//   - sluice run of the demo as shipped: cleaned_orders' 4 checks and its contract (10 columns,
//     2 checks), the partition check, the profile of each published output;
//   - sluice run, the mechanism alone: the same project with no checks and no contract declared.
//     Sluice has no switch to turn the after-publish profile off (nothing in src/config), so this
//     side still profiles; the table also shows it with the stored profile time subtracted.
// Every side runs with the engine settings of the project's sluice.yaml (memory_limit 2GB). Sluice
// runs as compiled JavaScript from a private build (bench/sluice-cli.ts; --quick: the sources
// through tsx). Besides wall time, each process's CPU time (all threads) is reported: on a shared
// machine it is far less disturbed by other load.
// Where the time goes comes from the runs themselves: the run record (started/finished), each
// step's duration and each stored profile's seconds (Sluice), and the direct job's own marks.
//   npx tsx bench/run-overhead.bench.ts [--rows N] [--repeats R] [--from-source]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { arg, flag, markdownTable, median, medianRatio, rotate, runNode, type ChildRun } from './bench-util.ts';
import { sluiceCli } from './sluice-cli.ts';
import { DEMO_PARTITION, demoMemoryLimit, makeDemoProject } from './demo-project.ts';

type Side = 'directPlain' | 'directFiles' | 'sluiceFull' | 'sluiceBare';
const SIDES: readonly Side[] = ['directPlain', 'directFiles', 'sluiceFull', 'sluiceBare'];

/** Seconds of one fresh-process run, split. */
export interface OverheadPhases {
  /** Process start to the work beginning: node and modules (Sluice: + loading and binding the project, opening store and warehouse, recovery). */
  readonly startup: number;
  /** The steps' SQL (Sluice: each step's CREATE TABLE AS into its version file, fingerprint, checkpoint, flush). */
  readonly steps: number;
  /** Sluice only: the rest of the run record's span (flags, source binding, checks, contract, partition check, publish, audit, run record). */
  readonly runRest: number;
  /** Sluice only: the after-publish profile of every output (stored seconds). */
  readonly profile: number;
  /** After the work: closing (Sluice: compaction policy, closing store and warehouse) and exiting. */
  readonly exit: number;
}

export interface OverheadResult {
  readonly rows: number;
  readonly repeats: number;
  readonly warmup: number;
  readonly memoryLimit: string;
  readonly seconds: Record<Side, number>;
  readonly cpuSeconds: Record<Side, number>;
  readonly peakRssMiB: Record<Side, number>;
  /** How the sluice command ran (compiled or from source). */
  readonly sluiceHow: string;
  readonly phases: Record<Side, OverheadPhases>;
  /** Medians of per-repetition ratios. */
  readonly ratios: {
    readonly fullVsPlain: number;
    readonly bareVsPlain: number;
    readonly bareNoProfileVsPlain: number;
    readonly fullVsFiles: number;
    readonly bareVsFiles: number;
    readonly bareNoProfileVsFiles: number;
    readonly filesVsPlain: number;
  };
  /** The same ratios of CPU seconds. */
  readonly cpuRatios: OverheadResult['ratios'];
  /** Sluice-bare seconds minus its stored profile seconds (median). */
  readonly bareNoProfileSeconds: number;
}

interface Measured {
  readonly run: ChildRun;
  readonly phases: OverheadPhases;
}

export async function runOverheadBench(o: { rows: number; repeats: number; warmup?: number; compiled?: boolean; log?: (l: string) => void }): Promise<OverheadResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-run-'));
  let cleanup = (): void => undefined;
  try {
    log(`overhead: generating ${o.rows.toLocaleString('en-US')} orders`);
    const full = await makeDemoProject(join(dir, 'full'), { rows: o.rows });
    const bare = await makeDemoProject(join(dir, 'bare'), { rows: o.rows, checks: false, dataFrom: full });
    const cli = sluiceCli({ compiled: o.compiled ?? true, log });
    cleanup = cli.cleanup;
    const direct = join(import.meta.dirname, 'direct-pipeline.mjs');

    const sluice = (root: string): Measured => {
      const run = runNode([cli.bin, '--project', root, '--json', 'run', 'orders', '--partition', DEMO_PARTITION], { env: cli.env });
      const j = JSON.parse(run.stdout) as { run: { id: number; startedAt: string; finishedAt: string }; steps: { durationMs: number }[] };
      const started = Date.parse(j.run.startedAt);
      const finished = Date.parse(j.run.finishedAt);
      const steps = j.steps.reduce((s, x) => s + x.durationMs, 0) / 1000;
      const db = new Database(join(root, '.sluice', 'sluice.db'), { readonly: true });
      let profile = 0;
      try {
        for (const r of db.prepare('SELECT profile FROM profiles WHERE run_id = ?').all(j.run.id) as { profile: string }[]) profile += Number((JSON.parse(r.profile) as { seconds?: number }).seconds ?? 0);
      } finally {
        db.close();
      }
      const runSpan = (finished - started) / 1000;
      return { run, phases: { startup: (started - run.startedAt) / 1000, steps, runRest: runSpan - steps, profile, exit: (run.endedAt - finished) / 1000 - profile } };
    };
    const directRun = (mode: 'plain' | 'files'): Measured => {
      const run = runNode([direct, full, DEMO_PARTITION, mode]);
      const marks = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { begun: number; computed: number };
      return { run, phases: { startup: (marks.begun - run.startedAt) / 1000, steps: (marks.computed - marks.begun) / 1000, runRest: 0, profile: 0, exit: (run.endedAt - marks.computed) / 1000 } };
    };
    const once = (side: Side): Measured => (side === 'directPlain' ? directRun('plain') : side === 'directFiles' ? directRun('files') : sluice(side === 'sluiceFull' ? full : bare));

    // Warm-up: the page cache holds the Parquet files, each side's tables and datasets exist.
    for (let i = 0; i < (o.warmup ?? 1); i++) for (const side of SIDES) once(side);
    const got: Record<Side, Measured[]> = { directPlain: [], directFiles: [], sluiceFull: [], sluiceBare: [] };
    for (let i = 0; i < o.repeats; i++) {
      log(`overhead: repetition ${i + 1}/${o.repeats}`);
      for (const side of rotate(SIDES, i)) got[side].push(once(side));
    }
    const secs = (s: Side): number[] => got[s].map((m) => m.run.seconds);
    const cpus = (s: Side): number[] => got[s].map((m) => m.run.cpuSeconds);
    const bareNoProfile = got.sluiceBare.map((m) => m.run.seconds - m.phases.profile);
    // The profile's CPU share is not measured apart; take its wall seconds (it runs on DuckDB's threads) as the estimate.
    const bareNoProfileCpu = got.sluiceBare.map((m) => m.run.cpuSeconds - m.phases.profile);
    const med = <T>(f: (s: Side) => T): Record<Side, T> => Object.fromEntries(SIDES.map((s) => [s, f(s)])) as Record<Side, T>;
    const phase = (s: Side, k: keyof OverheadPhases): number => median(got[s].map((m) => m.phases[k]));
    const ratios = (v: (s: Side) => number[], bareNo: number[]): OverheadResult['ratios'] => ({
      fullVsPlain: medianRatio(v('sluiceFull'), v('directPlain')),
      bareVsPlain: medianRatio(v('sluiceBare'), v('directPlain')),
      bareNoProfileVsPlain: medianRatio(bareNo, v('directPlain')),
      fullVsFiles: medianRatio(v('sluiceFull'), v('directFiles')),
      bareVsFiles: medianRatio(v('sluiceBare'), v('directFiles')),
      bareNoProfileVsFiles: medianRatio(bareNo, v('directFiles')),
      filesVsPlain: medianRatio(v('directFiles'), v('directPlain')),
    });
    return {
      rows: o.rows,
      repeats: o.repeats,
      warmup: o.warmup ?? 1,
      memoryLimit: demoMemoryLimit(full),
      seconds: med((s) => median(secs(s))),
      cpuSeconds: med((s) => median(cpus(s))),
      peakRssMiB: med((s) => median(got[s].map((m) => m.run.peakRssMiB))),
      sluiceHow: cli.how,
      phases: med((s) => ({ startup: phase(s, 'startup'), steps: phase(s, 'steps'), runRest: phase(s, 'runRest'), profile: phase(s, 'profile'), exit: phase(s, 'exit') })),
      ratios: ratios(secs, bareNoProfile),
      cpuRatios: ratios(cpus, bareNoProfileCpu),
      bareNoProfileSeconds: median(bareNoProfile),
    };
  } finally {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');
const x2 = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '');
const mark = (x: number, aim: number): string => (Number.isFinite(x) ? (x <= aim ? 'met' : '**missed**') : '');

export function formatOverheadBench(r: OverheadResult): string {
  const n = r.rows.toLocaleString('en-US');
  const c = r.cpuRatios;
  const row = (what: string, side: Side | null, wall: number, vsPlain: number, vsFiles: number, cpuVsPlain: number, cpuVsFiles: number, aim: number | null): Record<string, string | number> => ({
    what,
    seconds: f3(wall),
    'vs direct plain': x2(vsPlain),
    'vs direct files': x2(vsFiles),
    'CPU s': side ? f3(r.cpuSeconds[side]) : '',
    'CPU vs direct plain': x2(cpuVsPlain),
    'CPU vs direct files': x2(cpuVsFiles),
    aim: aim === null ? '' : `wall ${mark(vsPlain, aim)}, CPU ${mark(cpuVsPlain, aim)}`,
    'peak RSS MiB': side ? Math.round(r.peakRssMiB[side]) : '',
  });
  const rows = [
    row('direct DuckDB, same SQL into a plain table per dataset (DELETE + INSERT of the partition)', 'directPlain', r.seconds.directPlain, 1, 1 / r.ratios.filesVsPlain, 1, 1 / c.filesVsPlain, null),
    row("direct DuckDB, same SQL into a new DuckDB file per dataset partition (ATTACH + CTAS + CHECKPOINT: Sluice's format)", 'directFiles', r.seconds.directFiles, r.ratios.filesVsPlain, 1, c.filesVsPlain, 1, null),
    row('(a) sluice run, demo as shipped: checks, contract, profile', 'sluiceFull', r.seconds.sluiceFull, r.ratios.fullVsPlain, r.ratios.fullVsFiles, c.fullVsPlain, c.fullVsFiles, 1.2),
    row('(b) sluice run, mechanism alone: no checks, no contract (profile on: there is no switch)', 'sluiceBare', r.seconds.sluiceBare, r.ratios.bareVsPlain, r.ratios.bareVsFiles, c.bareVsPlain, c.bareVsFiles, 1.05),
    row('(b) the same minus its stored profile seconds (estimate of profiling off)', null, r.bareNoProfileSeconds, r.ratios.bareNoProfileVsPlain, r.ratios.bareNoProfileVsFiles, c.bareNoProfileVsPlain, c.bareNoProfileVsFiles, 1.05),
  ];
  const p = r.phases;
  const ph = (k: keyof OverheadPhases, label: string, sluiceOnly = false): Record<string, string> => ({
    part: label,
    'direct plain': sluiceOnly ? '' : f3(p.directPlain[k]),
    'direct files': sluiceOnly ? '' : f3(p.directFiles[k]),
    'sluice (a)': f3(p.sluiceFull[k]),
    'sluice (b)': f3(p.sluiceBare[k]),
  });
  return [
    `\`sluice run\` of the demo pipeline, one partition of ${n} source orders (Parquet), each side a fresh process, engine memory_limit ${r.memoryLimit} for all, sluice as ${r.sluiceHow}; median of ${r.repeats} interleaved repetitions${r.warmup > 0 ? ` after ${r.warmup} warm-up round${r.warmup > 1 ? 's' : ''}` : ', no warm-up'}; ratios are medians of per-repetition ratios.\n`,
    markdownTable(rows),
    `\nAims (vs direct plain): (a) ≤ 1.20x, (b) ≤ 1.05x. CPU: user + system seconds of the process, all threads; the profile's CPU is estimated by its wall seconds.\n`,
    '\nWhere the time goes (median seconds, from the run records, step durations, stored profiles and the direct job\'s marks):\n',
    markdownTable([
      ph('startup', 'process start to work: node, modules (Sluice: + load and bind project, open store and warehouse, recovery)'),
      ph('steps', 'the steps\' SQL (Sluice: CTAS into the version file + fingerprint + checkpoint + fsync)'),
      ph('runRest', 'Sluice: flags, sources, checks + contract + partition check, publish, audit, run record', true),
      ph('profile', 'Sluice: profile of each published output (after the run record)', true),
      ph('exit', 'close and exit (Sluice: compaction policy, close store and warehouse)'),
    ]),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runOverheadBench({ rows: arg('rows', 10_000_000), repeats: arg('repeats', 5), compiled: !flag('from-source') });
  process.stdout.write(`\n${formatOverheadBench(r)}\n`);
}
