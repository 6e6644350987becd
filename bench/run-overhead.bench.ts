// Sluice's overhead: `sluice run` of the demo pipeline against the same SQL run directly through
// DuckDB in one process (a hand-written idempotent job: replace the partition in each target table).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { DuckDBEngine } from '../src/engine/duckdb/duckdb-engine.ts';
import { generateOrders } from '../src/demo/generate-orders.ts';
import { scaffoldProject } from '../src/demo/scaffold.ts';
import { arg, printTable } from './bench-util.ts';

export interface OverheadRow { readonly what: string; readonly seconds: number; readonly ratio: number }

export async function runOverheadBench(o: { rows: number; repeats: number }): Promise<OverheadRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-run-'));
  try {
    const root = join(dir, 'shop');
    await scaffoldProject({ dir: root, days: 1, ordersPerDay: 100 });
    // Replace the sample data by one partition of `rows` orders in Parquet.
    rmSync(join(root, 'data'), { recursive: true, force: true });
    const gen = await DuckDBEngine.open(':memory:');
    await generateOrders(gen, { root, startDate: '2026-11-01', days: 1, ordersPerDay: o.rows, format: 'parquet' });
    await gen.close();
    const yaml = join(root, 'pipelines/orders.yaml');
    const text = readFileSync(yaml, 'utf8').replace('format: csv', 'format: parquet').replace('data/orders/*/*.csv', 'data/orders/*/*.parquet').replaceAll('.csv', '.parquet');
    (await import('node:fs')).writeFileSync(yaml, text);

    const bin = join(import.meta.dirname, '..', 'bin', 'sluice.js');
    const sluiceOnce = (): number => {
      const t = performance.now();
      const r = spawnSync(process.execPath, [bin, '--project', root, 'run', 'orders', '--partition', '2026-11-01'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`sluice run failed: ${r.stderr}`);
      return (performance.now() - t) / 1000;
    };
    const directOnce = (): number => {
      const t = performance.now();
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'direct-pipeline.ts'), root, '2026-11-01'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`direct run failed: ${r.stderr}`);
      return (performance.now() - t) / 1000;
    };
    const s: number[] = [];
    const d: number[] = [];
    sluiceOnce();
    directOnce();
    for (let i = 0; i < o.repeats; i++) {
      d.push(directOnce());
      s.push(sluiceOnce());
    }
    const med = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
    const direct = med(d);
    const sluice = med(s);
    return [
      { what: `direct DuckDB (same SQL, replace partition), ${o.rows} rows`, seconds: direct, ratio: 1 },
      { what: `sluice run (versions + atomic publish + metadata)`, seconds: sluice, ratio: sluice / direct },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runOverheadBench({ rows: arg('rows', 10_000_000), repeats: arg('repeats', 3) });
  printTable('run overhead (each a fresh process, median)', rows.map((r) => ({ ...r, seconds: r.seconds.toFixed(2), ratio: r.ratio.toFixed(2) })));
}
