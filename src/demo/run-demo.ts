import { openWorkspace } from '../cli/workspace.ts';
import { formatTable } from '../cli/format.ts';
import { backfill } from '../runner/backfill.ts';
import { verifyAuditChain } from '../governance/audit-chain.ts';
import { demoPartitions } from './generate-orders.ts';
import { scaffoldProject } from './scaffold.ts';

export interface DemoOptions {
  readonly dir: string;
  readonly days: number;
  readonly ordersPerDay: number;
  readonly actor: string;
  readonly log?: (line: string) => void;
}

export interface DemoResult {
  readonly root: string;
  readonly partitions: number;
  readonly failed: number;
  readonly datasets: Record<string, number>;
  readonly auditEntries: number;
}

const START = '2026-11-01';

/** `sluice demo`: a project with seeded orders data, backfilled on the embedded defaults. */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const log = o.log ?? (() => undefined);
  const { root } = await scaffoldProject({ dir: o.dir, name: 'shop', startDate: START, days: o.days, ordersPerDay: o.ordersPerDay });
  log(`Sluice demo: project created in ${root}`);
  log(`  ${o.days} daily partitions of seeded orders (${o.ordersPerDay}/day, ~1 % dirty rows, ~6 % refunds) in data/orders/`);
  await using ws = await openWorkspace(root, 'dev');
  const partitions = demoPartitions(START, o.days);
  log(`\nRunning pipeline "orders" (raw_orders -> clean_orders -> daily_revenue) on ${partitions.length} partitions in dev...`);
  const items = await backfill(ws, { pipeline: 'orders', partitions, environment: 'dev', actor: o.actor });
  log(formatTable(items.map((i) => ({ partition: i.partition, status: i.ok ? 'ok' : 'FAILED', run: i.runId ?? '', rows_written: i.rowsOut, seconds: i.seconds.toFixed(2) }))));
  const datasets: Record<string, number> = {};
  for (const ds of ['cleaned_orders', 'daily_revenue']) {
    const [r] = await ws.warehouse.query(`SELECT count(*)::BIGINT AS n FROM ${await ws.warehouse.datasetTable(ds)}`);
    datasets[ds] = Number(r?.['n'] ?? 0);
  }
  const top = await ws.warehouse.query(`SELECT order_date, country, orders, refunds, net_revenue_usd FROM ${await ws.warehouse.datasetTable("daily_revenue")} WHERE order_date = DATE '${partitions[partitions.length - 1]}' ORDER BY net_revenue_usd DESC LIMIT 5`);
  log(`\nPublished: cleaned_orders ${datasets['cleaned_orders']} rows, daily_revenue ${datasets['daily_revenue']} rows.`);
  log(`Top countries on ${partitions[partitions.length - 1]}:\n${formatTable(top)}`);
  const audit = verifyAuditChain(ws.store.auditLog(), ws.store.auditHead());
  log(`\nAudit trail: ${audit.entries} entries, ${audit.ok ? 'chain verified' : 'BROKEN'}.`);
  const sluice = `npx sluice --project ${root}`;
  log(`\nLook around (from the Sluice checkout):
  ${sluice} runs                 # every run, its status and who ran it
  ${sluice} run-show 1           # steps, rows, artifact hashes of run 1
  ${sluice} publications daily_revenue   # which output version each partition shows
  ${sluice} audit verify         # checks the hash-chained audit trail
The data: ${ws.warehouse.path} (tables cleaned_orders, daily_revenue)`);
  return { root, partitions: partitions.length, failed: items.filter((i) => !i.ok).length, datasets, auditEntries: audit.entries };
}
