// The demo project the run benches use (overhead, shadow, memory): `sluice demo`'s files with one
// partition of N generated orders in Parquet instead of the sample CSVs, optionally without the
// checks and the contract of its datasets and with another engine memory_limit.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateOrders } from '../src/demo/generate-orders.ts';
import { scaffoldProject } from '../src/demo/scaffold.ts';
import { DuckDBEngine } from '../src/engine/duckdb/duckdb-engine.ts';

export const DEMO_PARTITION = '2026-11-01';

export interface DemoProjectOptions {
  /** Orders in the one partition (the generator adds about 1 % duplicates). */
  readonly rows: number;
  /** Keep the datasets' checks and cleaned_orders' contract (default true). */
  readonly checks?: boolean;
  /** sluice.yaml `engine.memory_limit` (the demo's is 2GB). */
  readonly memoryLimit?: string;
  /** Reuse the data/ folder of another project made here (a symlink) instead of generating it again. */
  readonly dataFrom?: string;
}

/** The demo's engine memory_limit, as sluice.yaml declares it. */
export function demoMemoryLimit(root: string): string {
  return /^[ \t]*memory_limit:[ \t]*(\S+)/m.exec(readFileSync(join(root, 'sluice.yaml'), 'utf8'))?.[1] ?? '(DuckDB default)';
}

export async function makeDemoProject(root: string, o: DemoProjectOptions): Promise<string> {
  mkdirSync(join(root, '..'), { recursive: true });
  await scaffoldProject({ dir: root, days: 1, ordersPerDay: 100 });
  rmSync(join(root, 'data'), { recursive: true, force: true });
  if (o.dataFrom) {
    if (!existsSync(join(o.dataFrom, 'data'))) throw new Error(`no data in ${o.dataFrom}`);
    symlinkSync(join(o.dataFrom, 'data'), join(root, 'data'));
  } else {
    const gen = await DuckDBEngine.open(':memory:');
    try {
      await generateOrders(gen, { root, startDate: DEMO_PARTITION, days: 1, ordersPerDay: o.rows, format: 'parquet' });
    } finally {
      await gen.close();
    }
  }
  const yaml = join(root, 'pipelines/orders.yaml');
  let text = readFileSync(yaml, 'utf8').replace('format: csv', 'format: parquet').replace('data/orders/*/*.csv', 'data/orders/*/*.parquet').replaceAll('.csv', '.parquet');
  if (o.checks === false) text = withoutChecks(text);
  writeFileSync(yaml, text);
  if (o.memoryLimit) {
    const s = join(root, 'sluice.yaml');
    const before = readFileSync(s, 'utf8');
    if (!/^[ \t]*memory_limit:/m.test(before)) throw new Error('sluice.yaml of the demo declares no memory_limit');
    const after = before.replace(/^([ \t]*memory_limit:[ \t]*)\S+/m, `$1${o.memoryLimit}`);
    writeFileSync(s, after);
  }
  return root;
}

/** The pipeline file with no `contract:` and no `checks:` under its datasets. */
function withoutChecks(text: string): string {
  const out: string[] = [];
  let skipIndent = -1;
  for (const line of text.split('\n')) {
    const indent = line.length - line.trimStart().length;
    if (skipIndent >= 0 && (line.trim() === '' || indent > skipIndent)) continue;
    skipIndent = -1;
    if (/^\s+contract:/.test(line)) continue;
    if (/^\s+checks:\s*$/.test(line)) {
      skipIndent = indent;
      continue;
    }
    out.push(line);
  }
  const result = out.join('\n');
  if (/^\s+(checks|contract):/m.test(result)) throw new Error('could not remove the checks of the demo pipeline');
  return result;
}
