import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlEngine } from '../engine/sql-engine.ts';
import { quoteLiteral } from '../engine/sql.ts';

export interface OrdersDataOptions {
  /** Folder of the project; data goes under data/. */
  readonly root: string;
  readonly startDate: string;
  readonly days: number;
  readonly ordersPerDay: number;
  readonly customers?: number;
  readonly seed?: number;
  readonly format?: 'csv' | 'parquet';
}

const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'SEK'];
const FX: Record<string, number> = { USD: 1, EUR: 1.08, GBP: 1.27, JPY: 0.0067, CHF: 1.13, SEK: 0.095 };
const COUNTRIES = ['US', 'DE', 'FR', 'GB', 'JP', 'CH', 'SE', 'NL'];

/**
 * Writes a realistic, seeded orders data set: customers, FX rates, and orders in hive-style daily
 * folders (data/orders/order_date=YYYY-MM-DD/). About 6 % of orders are refunds and about 1 % are
 * dirty: duplicated rows, lower-case or padded currency codes, missing customers, negative amounts.
 * Generated inside DuckDB from hashes of the row number, so it is fast and the same for a seed.
 */
export async function generateOrders(db: SqlEngine, o: OrdersDataOptions): Promise<{ orders: number }> {
  const seed = o.seed ?? 42;
  const customers = o.customers ?? Math.max(50, Math.min(100_000, Math.round(o.ordersPerDay / 4)));
  const format = o.format ?? 'csv';
  const dataDir = join(o.root, 'data');
  mkdirSync(join(dataDir, 'orders'), { recursive: true });
  const h = (i: string, k: number): string => `hash(${i}, ${seed}, ${k})`;
  const pick = (list: readonly string[], expr: string): string => `[${list.map(quoteLiteral).join(', ')}][1 + (${expr} % ${list.length})::INTEGER]`;
  const fmt = format === 'csv' ? 'FORMAT csv, HEADER true' : 'FORMAT parquet';
  const ext = format;

  await db.exec(`COPY (
      SELECT c AS customer_id, 'Customer ' || c AS name, ${pick(COUNTRIES, h('c', 1))} AS country,
             DATE ${quoteLiteral(o.startDate)} - INTERVAL (${h('c', 2)} % 900) DAY AS signed_up
      FROM range(1, ${customers + 1}) t(c)
    ) TO ${quoteLiteral(join(dataDir, `customers.${ext}`))} (${fmt})`);
  await db.exec(`COPY (
      SELECT * FROM (VALUES ${Object.entries(FX).map(([c, r]) => `(${quoteLiteral(c)}, ${r})`).join(', ')}) v(currency, usd_rate)
    ) TO ${quoteLiteral(join(dataDir, `fx_rates.${ext}`))} (${fmt})`);

  const total = o.days * o.ordersPerDay;
  // Dirty rows: i % 97 == 3 duplicated, % 89 == 5 lower-case currency, % 211 == 7 no customer, % 307 == 11 negative.
  await db.exec(`COPY (
      WITH base AS (
        SELECT i AS order_id,
               DATE ${quoteLiteral(o.startDate)} + (i // ${o.ordersPerDay})::INTEGER AS order_date,
               ${h('i', 3)} AS r
        FROM range(${total}) t(i)
      ), orders AS (
        SELECT order_id,
               CASE WHEN order_id % 211 = 7 THEN NULL ELSE 1 + (${h('order_id', 4)} % ${customers})::BIGINT END AS customer_id,
               order_date::TIMESTAMP + INTERVAL (r % 86400) SECOND AS ordered_at,
               CASE WHEN order_id % 89 = 5 THEN ' ' || lower(${pick(CURRENCIES, h('order_id', 5))}) ELSE ${pick(CURRENCIES, h('order_id', 5))} END AS currency,
               round((CASE WHEN order_id % 307 = 11 THEN -1 ELSE 1 END) * (5 + (${h('order_id', 6)} % 50000) / 100.0 + (${h('order_id', 7)} % 7) * 13.37), 2) AS amount,
               CASE WHEN ${h('order_id', 8)} % 100 < 6 THEN 'refunded' WHEN ${h('order_id', 8)} % 100 < 8 THEN 'cancelled' ELSE 'paid' END AS status,
               ${pick(['web', 'app', 'store', 'partner'], h('order_id', 9))} AS channel,
               order_date
        FROM base
      )
      SELECT * FROM orders
      UNION ALL
      SELECT * FROM orders WHERE order_id % 97 = 3
    ) TO ${quoteLiteral(join(dataDir, 'orders'))} (${fmt}, PARTITION_BY (order_date), OVERWRITE_OR_IGNORE true)`);
  return { orders: total };
}

export function demoPartitions(startDate: string, days: number): string[] {
  const start = Date.parse(`${startDate}T00:00:00Z`);
  return Array.from({ length: days }, (_, d) => new Date(start + d * 86_400_000).toISOString().slice(0, 10));
}
