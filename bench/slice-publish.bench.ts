// Row-level slicing in DuckDB: publishing a 10 % canary slice of a step's output against publishing
// the baseline alone. One partition of N rows (default 10 million) is computed twice (baseline and
// candidate output versions); then, side by side:
//   - publish the baseline output version (what a run without a rollout does);
//   - build the sliced composite (baseline rows outside the slice UNION ALL candidate rows inside it,
//     cut with the same bucket SQL the runner uses) as a new output version, and publish that.
// Also: bucket throughput in DuckDB (keys/s through sliceSql).
//   npx tsx bench/slice-publish.bench.ts [--rows N] [--runs R] [--percent P]
import { duckdbDialect } from '../src/engine/duckdb/duckdb-dialect.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBWarehouse } from '../src/engine/duckdb/duckdb-warehouse.ts';
import type { OutputVersion } from '../src/engine/warehouse.ts';
import { sliceSql } from '../src/flags/bucket-sql.ts';
import { arg, peakRssMiB, printTable } from './bench-util.ts';

export interface SliceBenchOptions {
  readonly rows: number;
  /** Measured repetitions of each side (the median is reported). Default 3. */
  readonly runs?: number;
  /** Slice size. Default 10. */
  readonly percent?: number;
  readonly memoryLimit?: string;
}

export interface SliceBenchRow {
  readonly measure: string;
  readonly rows: number;
  readonly seconds: number;
  /** Against publishing the baseline alone. */
  readonly ratio?: number;
  readonly keysPerSecond?: number;
}

const PARTITION = '2026-11-01';
const SALT = 'clean_orders';
const KEY = 'order_id';

/** A cleaned_orders-shaped output: one row per order, ten columns. The candidate differs in two of them. */
function stepSql(rows: number, candidate: boolean): string {
  const channel = candidate ? "lower(['Web', 'App', 'Store'][1 + i % 3])" : "['Web', 'App', 'Store'][1 + i % 3]";
  const usd = candidate ? 'round_even((i % 50000) / 100.0 * 1.07, 2)' : 'round((i % 50000) / 100.0 * 1.07, 2)';
  return `SELECT i AS order_id, (i * 7919) % 200000 AS customer_id, ['US', 'DE', 'FR', 'NO', 'JP', 'BR'][1 + i % 6] AS country,
    TIMESTAMP '${PARTITION}' + to_seconds(i % 86400) AS ordered_at, DATE '${PARTITION}' AS order_date,
    ['USD', 'EUR', 'NOK'][1 + i % 3] AS currency, (i % 50000) / 100.0 AS amount, ${usd} AS amount_usd,
    CASE WHEN i % 20 = 0 THEN 'refunded' ELSE 'paid' END AS status, ${channel} AS channel
    FROM range(${rows}) t(i)`;
}

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export async function runSliceBench(o: SliceBenchOptions): Promise<SliceBenchRow[]> {
  const runs = o.runs ?? 3;
  const percent = o.percent ?? 10;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-slice-'));
  try {
    const w = await DuckDBWarehouse.open(join(dir, 'w.duckdb'), { memoryLimit: o.memoryLimit ?? '4GB', tempDirectory: join(dir, 'spill') });
    const s = await w.openSession();
    const meta = (id: string, stepVersion: string, runId: number): Omit<OutputVersion, 'table' | 'rowCount' | 'createdAt'> => ({ id, pipeline: 'orders', step: 'clean_orders', stepVersion, versionHash: stepVersion, partition: PARTITION, runId });
    const baseline = await s.createOutputVersion(meta('clean_orders.r1', 'v1', 1), stepSql(o.rows, false), new Date());
    const candidate = await s.createOutputVersion(meta('clean_orders.r2', 'v2', 2), stepSql(o.rows, true), new Date());
    const slice = sliceSql(duckdbDialect, SALT, KEY, percent);
    const composite = `SELECT * FROM ${baseline.table} WHERE NOT ${slice} UNION ALL BY NAME SELECT * FROM ${candidate.table} WHERE ${slice}`;
    const publish = (versionId: string): Promise<unknown> => w.publish([{ dataset: 'cleaned_orders', partitionColumn: 'order_date', partition: PARTITION, versionId }], { runId: null, actor: 'bench', reason: 'bench', at: new Date() });
    await publish(baseline.id); // creates the dataset table; not measured
    await w.exec('CHECKPOINT');

    const plain: number[] = [];
    const copy: number[] = [];
    const build: number[] = [];
    const publishSliced: number[] = [];
    let inside = 0;
    for (let i = 0; i < runs; i++) {
      // Alternate the two sides so neither always runs on a warmer cache.
      plain.push(await seconds(() => publish(baseline.id)));
      await w.exec('CHECKPOINT');
      // Reference: materialising the baseline again as a new version, with no slice predicate.
      copy.push(await seconds(() => s.createOutputVersion(meta(`clean_orders.c${i}`, 'v1', 100 + i), `SELECT * FROM ${baseline.table}`, new Date())));
      await w.exec('CHECKPOINT');
      let sliced: OutputVersion | undefined;
      build.push(await seconds(async () => (sliced = await s.createOutputVersion(meta(`clean_orders.s${i}`, 'v1+v2', 10 + i), composite, new Date()))));
      if (!sliced) throw new Error('no composite version');
      const id = sliced.id;
      publishSliced.push(await seconds(() => publish(id)));
      await w.exec('CHECKPOINT');
      if (i === 0) {
        const [r] = await w.query(`SELECT count(*)::BIGINT AS n FROM ${sliced.table} WHERE channel = lower(channel)`);
        inside = Number(r?.['n'] ?? 0);
      }
    }
    // Bucket throughput: every key through the slice predicate, counted where the data is.
    const bucketS: number[] = [];
    for (let i = 0; i < runs; i++) bucketS.push(await seconds(() => w.query(`SELECT count(*) FILTER (WHERE ${slice}) AS n FROM ${baseline.table}`)));
    await w.close();

    const p = median(plain);
    const b = median(build);
    const ps = median(publishSliced);
    const total = median(build.map((x, i) => x + (publishSliced[i] ?? Number.NaN)));
    const bk = median(bucketS);
    if (Math.abs(inside / o.rows - percent / 100) > 0.01) throw new Error(`the composite holds ${inside} candidate rows of ${o.rows}, not about ${percent} %`);
    return [
      { measure: 'publish baseline alone', rows: o.rows, seconds: p, ratio: 1 },
      { measure: 'reference: copy baseline as a new version (CTAS, no slice)', rows: o.rows, seconds: median(copy), ratio: median(copy) / p },
      { measure: `build ${percent} % sliced composite (CTAS)`, rows: o.rows, seconds: b, ratio: b / p },
      { measure: 'publish sliced composite', rows: o.rows, seconds: ps, ratio: ps / p },
      { measure: `${percent} % slice: build + publish`, rows: o.rows, seconds: total, ratio: total / p },
      { measure: 'bucket throughput (sliceSql over keys)', rows: o.rows, seconds: bk, keysPerSecond: o.rows / bk },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = arg('rows', 10_000_000);
  const runs = arg('runs', 3);
  const percent = arg('percent', 10);
  const r = await runSliceBench({ rows, runs, percent });
  printTable(`row-level slicing in DuckDB: one partition of ${rows.toLocaleString('en-US')} rows, median of ${runs}`, r.map((x) => ({
    measure: x.measure,
    seconds: x.seconds.toFixed(3),
    'ratio vs baseline publish': x.ratio === undefined ? '' : x.ratio.toFixed(2),
    'keys/s': x.keysPerSecond === undefined ? '' : Math.round(x.keysPerSecond).toLocaleString('en-US'),
  })));
  process.stdout.write(`peak RSS ${peakRssMiB()} MiB\n`);
}
