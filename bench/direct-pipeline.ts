// The baseline for bench/run-overhead: the demo pipeline's SQL run directly through DuckDB, the way a
// hand-written idempotent job would: read the partition, replace it in each target table, commit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBEngine } from '../src/engine/duckdb/duckdb-engine.ts';

const [root, partition] = process.argv.slice(2);
if (!root || !partition) throw new Error('usage: direct-pipeline ROOT PARTITION');
const db = await DuckDBEngine.open(join(root, '.sluice', 'direct.duckdb'), { memoryLimit: '2GB' });
const sql = (p: string): string => readFileSync(join(root, p), 'utf8').trim().replace(/;$/, '');
await db.exec(`
  CREATE OR REPLACE TEMP VIEW raw_orders AS SELECT * FROM read_parquet('${join(root, 'data/orders')}/order_date=${partition}/*.parquet', hive_partitioning = true);
  CREATE OR REPLACE TEMP VIEW customers AS SELECT * FROM read_parquet('${join(root, 'data/customers.parquet')}');
  CREATE OR REPLACE TEMP VIEW fx_rates AS SELECT * FROM read_parquet('${join(root, 'data/fx_rates.parquet')}');
  CREATE TABLE IF NOT EXISTS cleaned_orders AS SELECT * FROM (${sql('steps/clean_orders/v1.sql')}) LIMIT 0;
`);
await db.transaction(async () => {
  await db.exec(`DELETE FROM cleaned_orders WHERE order_date = '${partition}'`);
  await db.exec(`INSERT INTO cleaned_orders ${sql('steps/clean_orders/v1.sql')}`);
  await db.exec(`CREATE OR REPLACE TEMP VIEW clean_orders AS SELECT * FROM main.cleaned_orders WHERE order_date = '${partition}'`);
  await db.exec(`CREATE TABLE IF NOT EXISTS daily_revenue AS SELECT * FROM (${sql('steps/daily_revenue/v1.sql')}) LIMIT 0`);
  await db.exec(`DELETE FROM daily_revenue WHERE order_date = '${partition}'`);
  await db.exec(`INSERT INTO daily_revenue ${sql('steps/daily_revenue/v1.sql')}`);
});
await db.close();
