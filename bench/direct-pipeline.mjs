// The baselines of bench/run-overhead (and bench/memory): the demo pipeline's SQL run directly
// through DuckDB in a fresh process, the way a hand-written idempotent job would: plain JavaScript
// on @duckdb/node-api (no TypeScript loader, no Sluice code), with the engine settings of the
// project's sluice.yaml (memory_limit, threads). Two storage formats:
//   plain  read the partition, replace it in a plain table per dataset (DELETE + INSERT), commit;
//   files  the format Sluice writes: each dataset's partition into a new DuckDB file of its own
//          (ATTACH, CREATE TABLE AS, CHECKPOINT, DETACH), the downstream step reading the upstream
//          file; the previous run's files are deleted afterwards (Sluice keeps them; deleting is cheap).
//   node bench/direct-pipeline.mjs ROOT PARTITION [plain|files]
// Prints {"begun": ms, "computed": ms} (wall clock) for the bench's breakdown.
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** After the imports: what comes before is process startup. */
const begun = Date.now();
const [root, partition, mode = 'plain'] = process.argv.slice(2);
if (!root || !partition || (mode !== 'plain' && mode !== 'files')) throw new Error('usage: direct-pipeline ROOT PARTITION [plain|files]');
const settings = readFileSync(join(root, 'sluice.yaml'), 'utf8');
const memoryLimit = /^\s*memory_limit:\s*(\S+)/m.exec(settings)?.[1];
const threads = /^\s*threads:\s*(\d+)/m.exec(settings)?.[1];
const sluiceDir = join(root, '.sluice');
mkdirSync(sluiceDir, { recursive: true });
const config = { temp_directory: join(sluiceDir, 'direct-spill') };
if (memoryLimit) config.memory_limit = memoryLimit;
if (threads) config.threads = threads;
const instance = await DuckDBInstance.create(join(sluiceDir, `direct-${mode}.duckdb`), config);
const conn = await instance.connect();
const exec = (sql) => conn.run(sql);
const sql = (p) => readFileSync(join(root, p), 'utf8').trim().replace(/;$/, '');
const lit = (s) => `'${s.replaceAll("'", "''")}'`;
await exec(`
  CREATE OR REPLACE TEMP VIEW raw_orders AS SELECT * FROM read_parquet(${lit(join(root, 'data/orders'))} || '/order_date=${partition}/*.parquet', hive_partitioning = true);
  CREATE OR REPLACE TEMP VIEW customers AS SELECT * FROM read_parquet(${lit(join(root, 'data/customers.parquet'))});
  CREATE OR REPLACE TEMP VIEW fx_rates AS SELECT * FROM read_parquet(${lit(join(root, 'data/fx_rates.parquet'))});
`);
if (mode === 'plain') {
  await exec(`CREATE TABLE IF NOT EXISTS cleaned_orders AS SELECT * FROM (${sql('steps/clean_orders/v1.sql')}) LIMIT 0`);
  await exec('BEGIN TRANSACTION');
  try {
    await exec(`DELETE FROM cleaned_orders WHERE order_date = '${partition}'`);
    await exec(`INSERT INTO cleaned_orders ${sql('steps/clean_orders/v1.sql')}`);
    await exec(`CREATE OR REPLACE TEMP VIEW clean_orders AS SELECT * FROM main.cleaned_orders WHERE order_date = '${partition}'`);
    await exec(`CREATE TABLE IF NOT EXISTS daily_revenue AS SELECT * FROM (${sql('steps/daily_revenue/v1.sql')}) LIMIT 0`);
    await exec(`DELETE FROM daily_revenue WHERE order_date = '${partition}'`);
    await exec(`INSERT INTO daily_revenue ${sql('steps/daily_revenue/v1.sql')}`);
    await exec('COMMIT');
  } catch (e) {
    await exec('ROLLBACK').catch(() => undefined);
    throw e;
  }
} else {
  const dir = join(sluiceDir, 'direct-files');
  mkdirSync(dir, { recursive: true });
  const previous = readdirSync(dir).filter((f) => f.endsWith('.duckdb'));
  const tag = `${partition}-${Date.now()}-${process.pid}`;
  const write = async (dataset, select) => {
    const file = join(dir, `${dataset}-${tag}.duckdb`);
    await exec(`ATTACH ${lit(file)} AS out_${dataset}`);
    await exec(`CREATE TABLE out_${dataset}.data AS ${select}`);
    await exec(`CHECKPOINT out_${dataset}`);
    await exec(`DETACH out_${dataset}`);
    return file;
  };
  const cleaned = await write('cleaned_orders', sql('steps/clean_orders/v1.sql'));
  await exec(`ATTACH ${lit(cleaned)} AS in_cleaned (READ_ONLY); CREATE OR REPLACE TEMP VIEW clean_orders AS SELECT * FROM in_cleaned.data`);
  await write('daily_revenue', sql('steps/daily_revenue/v1.sql'));
  await exec('DETACH in_cleaned');
  for (const f of previous) for (const x of [f, `${f}.wal`]) if (existsSync(join(dir, x))) rmSync(join(dir, x));
}
const computed = Date.now();
conn.closeSync();
instance.closeSync();
// For the bench's breakdown: when the work began (after startup) and when the SQL was done.
process.stdout.write(`${JSON.stringify({ begun, computed })}\n`);
