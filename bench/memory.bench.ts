// Peak resident memory of `sluice run` when the input is larger than the engine's memory limit
// (sluice.yaml `engine.memory_limit`, passed to DuckDB's memory_limit; the demo ships 2GB). Each
// run is a fresh process; its own peak RSS is taken by getrusage at its exit (bench/rss-on-exit.mjs).
// Beside each Sluice run, the same SQL run directly through DuckDB in a fresh process with the same
// memory_limit (bench/direct-pipeline.mjs plain), so what DuckDB itself needs is not charged to Sluice.
// Sluice runs as compiled JavaScript from a private build (bench/sluice-cli.ts; --quick: from source).
// Two versions of the demo's clean_orders step:
//   - as shipped: dedupe with QUALIFY row_number() OVER (PARTITION BY order_id ...) = 1;
//   - spillable: the same rows for this data (its duplicates are whole-row copies) with
//     SELECT DISTINCT * over the source instead of the window, which DuckDB can spill.
// "Input in memory" is the partition's source rows as a DuckDB table (pragma_database_size of an
// in-memory copy); the Parquet files are much smaller.
//   npx tsx bench/memory.bench.ts [--rows N] [--repeats R]
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBEngine } from '../src/engine/duckdb/duckdb-engine.ts';
import { arg, markdownTable, median, runNodeAllowingFailure } from './bench-util.ts';
import { DEMO_PARTITION, demoMemoryLimit, makeDemoProject } from './demo-project.ts';
import { sluiceCli } from './sluice-cli.ts';

export type StepSql = 'as shipped' | 'spillable';

export interface MemoryCase {
  readonly sql: StepSql;
  readonly memoryLimit: string;
}

export interface MemoryRow {
  readonly sql: StepSql;
  readonly memoryLimit: string;
  readonly limitMiB: number;
  readonly side: 'sluice run' | 'direct DuckDB';
  readonly runs: number;
  /** 'ok', or the first line of the error of the first failed run. */
  readonly outcome: string;
  readonly seconds: number;
  /** Highest peak RSS over the runs, MiB. */
  readonly peakRssMiB: number;
}

export interface MemoryBenchResult {
  readonly rows: number;
  readonly inputMiB: number;
  readonly parquetMiB: number;
  readonly demoLimit: string;
  /** Peak RSS of `sluice runs` (node, modules, the store; no DuckDB work). */
  readonly baselineMiB: number;
  readonly sluiceHow: string;
  readonly results: readonly MemoryRow[];
}

/** DuckDB's reading of a memory_limit string, in MiB (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024). */
export function limitMiB(limit: string): number {
  const m = /^\s*([\d.]+)\s*([kmgt]i?b?)?\s*$/i.exec(limit);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  const u = (m[2] ?? 'b').toLowerCase();
  const pow = { k: 1, m: 2, g: 3, t: 4 }[u[0] as 'k' | 'm' | 'g' | 't'] ?? 0;
  const base = u.includes('i') ? 1024 : 1000;
  return (v * base ** pow) / 1024 ** 2;
}

function spillableSql(text: string): string {
  const out = text.replace(/^QUALIFY .*\n?/m, '').replace('FROM raw_orders o', 'FROM (SELECT DISTINCT * FROM raw_orders) o');
  if (out === text || /QUALIFY/.test(out)) throw new Error('unexpected clean_orders/v1.sql in the demo');
  return `-- bench/memory: the dedupe as SELECT DISTINCT (whole-row duplicates), which DuckDB can spill\n${out}`;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

export async function runMemoryBench(o: { rows: number; cases: readonly MemoryCase[]; repeats: number; compiled?: boolean; log?: (l: string) => void }): Promise<MemoryBenchResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-memory-'));
  const cli = sluiceCli({ compiled: o.compiled ?? true, log });
  try {
    log(`memory: generating ${o.rows.toLocaleString('en-US')} orders`);
    const data = await makeDemoProject(join(dir, 'data-project'), { rows: o.rows });
    const demoLimit = demoMemoryLimit(data);
    const gen = await DuckDBEngine.open(':memory:');
    let inputMiB = Number.NaN;
    try {
      await gen.exec(`CREATE TABLE t AS SELECT * FROM read_parquet('${join(data, 'data/orders')}/*/*.parquet', hive_partitioning = true)`);
      const [r] = await gen.query('SELECT memory_usage FROM pragma_database_size()');
      inputMiB = parseSize(String(r?.['memory_usage'] ?? ''));
    } finally {
      await gen.close();
    }
    const direct = join(import.meta.dirname, 'direct-pipeline.mjs');
    const baseline = runNodeAllowingFailure([cli.bin, '--project', data, 'runs'], { env: cli.env }).peakRssMiB;
    const results: MemoryRow[] = [];
    let k = 0;
    for (const c of o.cases) {
      const root = await makeDemoProject(join(dir, `case-${++k}`), { rows: o.rows, dataFrom: data, memoryLimit: c.memoryLimit });
      if (c.sql === 'spillable') {
        const f = join(root, 'steps/clean_orders/v1.sql');
        writeFileSync(f, spillableSql(readFileSync(f, 'utf8')));
      }
      log(`memory: clean_orders ${c.sql}, memory_limit ${c.memoryLimit}`);
      const sides = {
        'sluice run': () => runNodeAllowingFailure([cli.bin, '--project', root, 'run', 'orders', '--partition', DEMO_PARTITION], { env: cli.env }),
        'direct DuckDB': () => runNodeAllowingFailure([direct, root, DEMO_PARTITION, 'plain']),
      } as const;
      const got: Record<keyof typeof sides, ReturnType<typeof runNodeAllowingFailure>[]> = { 'sluice run': [], 'direct DuckDB': [] };
      for (let i = 0; i < o.repeats; i++) {
        const order = (i % 2 === 0 ? ['sluice run', 'direct DuckDB'] : ['direct DuckDB', 'sluice run']) as (keyof typeof sides)[];
        for (const side of order) got[side].push(sides[side]());
        // A case both sides fail is not worth repeating.
        if (got['sluice run'].every((r) => r.status !== 0) && got['direct DuckDB'].every((r) => r.status !== 0)) break;
      }
      for (const side of Object.keys(sides) as (keyof typeof sides)[]) {
        const runs = got[side];
        const failed = runs.find((r) => r.status !== 0);
        const ok = runs.filter((r) => r.status === 0);
        results.push({
          sql: c.sql,
          memoryLimit: c.memoryLimit,
          limitMiB: limitMiB(c.memoryLimit),
          side,
          runs: runs.length,
          outcome: failed ? `failed (exit ${failed.status}): ${firstError(failed.stderr)}` : okOutcome(ok),
          seconds: median((ok.length ? ok : runs).map((r) => r.seconds)),
          peakRssMiB: Math.max(...runs.map((r) => r.peakRssMiB)),
        });
      }
    }
    return { rows: o.rows, inputMiB, parquetMiB: dirBytes(join(data, 'data/orders')) / 1024 ** 2, demoLimit, baselineMiB: baseline, sluiceHow: cli.how, results };
  } finally {
    cli.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseSize(s: string): number {
  const m = /([\d.]+)\s*(bytes|[KMGT]iB)/.exec(s);
  if (!m) return Number.NaN;
  const pow = { bytes: 0, KiB: 1, MiB: 2, GiB: 3, TiB: 4 }[m[2] as 'bytes'] ?? 0;
  return (Number(m[1]) * 1024 ** pow) / 1024 ** 2;
}

/** 'ok', plus the first warning a run printed (a profile that ran out of memory leaves the publish standing). */
function okOutcome(runs: readonly { stderr: string }[]): string {
  const warning = runs.flatMap((r) => r.stderr.split('\n')).find((l) => /^warning:/.test(l));
  if (!warning) return 'ok';
  const oom = warning.indexOf('Out of Memory Error:');
  return `ok, but ${warning.replace(/^warning: /, '').replace(/; the publish stands.*$/, '').slice(0, 90)}${oom >= 0 ? ` (${warning.slice(oom, oom + 80)})` : ''}`;
}

function firstError(stderr: string): string {
  const lines = stderr.split('\n');
  const line = lines.find((l) => /Out of Memory Error:/.test(l)) ?? lines.find((l) => /Error: /.test(l)) ?? lines.find((l) => l.trim()) ?? '';
  const oom = line.indexOf('Out of Memory Error:');
  return (oom >= 0 ? line.slice(oom) : line.replace(/^\s*(\w*Error|error): /, '')).slice(0, 140);
}

const n = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');

export function formatMemoryBench(r: MemoryBenchResult): string {
  return [
    `One partition of ${r.rows.toLocaleString('en-US')} source orders: ${n(r.inputMiB)} MiB as a DuckDB table (${n(r.parquetMiB)} MiB of Parquet). The demo ships memory_limit ${r.demoLimit}; each case sets it in sluice.yaml (DuckDB reads MB/GB as powers of 1000). Every run a fresh process (sluice as ${r.sluiceHow}; the direct job plain JavaScript on @duckdb/node-api); peak RSS is the highest over its runs. A Sluice process that does no DuckDB work (\`sluice runs\`: node, modules, store) peaks at ${n(r.baselineMiB)} MiB.\n`,
    markdownTable(
      r.results.map((x) => ({
        'clean_orders SQL': x.sql,
        memory_limit: `${x.memoryLimit} (${n(x.limitMiB)} MiB)`,
        'input / limit': `${(r.inputMiB / x.limitMiB).toFixed(2)}x`,
        side: x.side,
        runs: x.runs,
        outcome: x.outcome,
        seconds: Number.isFinite(x.seconds) ? x.seconds.toFixed(1) : '-',
        'peak RSS MiB': n(x.peakRssMiB),
        'peak RSS − limit MiB': n(x.peakRssMiB - x.limitMiB),
        'peak RSS − limit − node baseline MiB': n(x.peakRssMiB - x.limitMiB - r.baselineMiB),
        'peak RSS / limit': Number.isFinite(x.peakRssMiB) ? `${(x.peakRssMiB / x.limitMiB).toFixed(2)}x` : '',
      })),
    ),
  ].join('\n');
}

/** The cases at full size and at --quick size. */
export function memoryCases(quick: boolean): MemoryCase[] {
  return quick
    ? [
        { sql: 'spillable', memoryLimit: '64MB' }
      ]
    : [
        { sql: 'as shipped', memoryLimit: '2GB' },
        { sql: 'as shipped', memoryLimit: '512MB' },
        { sql: 'spillable', memoryLimit: '512MB' },
        { sql: 'spillable', memoryLimit: '256MB' },
      ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const r = await runMemoryBench({ rows: arg('rows', quick ? 1_000_000 : 10_000_000), cases: memoryCases(quick), repeats: arg('repeats', quick ? 1 : 2), compiled: !quick });
  process.stdout.write(`\n${formatMemoryBench(r)}\n`);
}
