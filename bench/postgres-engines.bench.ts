// The demo pipeline and a rollback on PostgreSQL and on the embedded engines side by side, and
// worker throughput with 1, 2 and 3 workers on one PostgreSQL store and warehouse (issue 13).
// Everything runs through the real bin as fresh processes, on the demo project (scaffolded with
// the same seed for both engines); PostgreSQL is a throwaway cluster on 127.0.0.1
// (test/support/postgres-server.ts: fsync on, the Debian defaults otherwise).
//  - backfill: `sluice backfill orders` over D daily partitions, each engine on its own project;
//  - rollback: a rollout of clean_orders v2 held at canary 50 % over the same D partitions, then
//    `sluice rollout rollback`: every partition republished from its baseline, downstream re-run;
//  - workers: Q partitions queued (`backfill --queue`), then W workers `sluice worker --drain` at
//    once; the time until the last exits, and items per second.
//   npx tsx bench/postgres-engines.bench.ts [--days D] [--orders N] [--queue Q]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { scaffoldProject } from '../src/demo/scaffold.ts';
import { startPostgres } from '../test/support/postgres-server.ts';
import { arg, markdownTable, runNode } from './bench-util.ts';
import { sluiceCli } from './sluice-cli.ts';

export interface EnginesResult {
  readonly how: string;
  readonly rows: readonly Record<string, string | number>[];
  readonly workers: readonly Record<string, string | number>[];
}

const HELD_CANARY = `name: held-canary
step: orders.clean_orders
baseline: v1
candidate: v2
gates:
  soak: { kind: soak, min_batches: 100000 }
environments:
  - name: dev
    stages:
      - { mode: canary, percent: 50, gates: [soak] }
      - { mode: full, gates: [soak] }
`;

export async function runEnginesBench(o: { days: number; ordersPerDay: number; queue: number; compiled: boolean; log?: (l: string) => void }): Promise<EnginesResult> {
  const log = o.log ?? (() => undefined);
  const cli = sluiceCli({ compiled: o.compiled, log });
  const pg = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-engines-'));
  try {
    const to = `2026-11-${String(o.days).padStart(2, '0')}`;
    const rows: Record<string, string | number>[] = [];
    const seconds: Record<string, Record<string, number>> = {};
    for (const engine of ['duckdb', 'postgres'] as const) {
      const root = join(dir, engine);
      await scaffoldProject({ dir: root, name: 'shop', startDate: '2026-11-01', days: o.days, ordersPerDay: o.ordersPerDay });
      writeFileSync(join(root, 'rollouts', 'held-canary.yaml'), HELD_CANARY);
      // Each engine in a database of its own: the store and the warehouse share it, in their own schemas.
      const env = { ...cli.env, SLUICE_HOME: join(dir, `home-${engine}`), ...(engine === 'postgres' ? { SLUICE_STORE_URL: pg.url, SLUICE_WAREHOUSE_URL: pg.url } : {}) };
      const sluice = (args: string[]) => runNode([cli.bin, '--project', root, ...args], { env });
      log(`${engine}: backfill ${o.days} partitions`);
      const backfill = sluice(['backfill', 'orders', '--from', '2026-11-01', '--to', to]);
      sluice(['rollout', 'start', 'held-canary', '--reason', 'bench']);
      log(`${engine}: ${o.days} canary batches, then the rollback`);
      const canary = sluice(['backfill', 'orders', '--from', '2026-11-01', '--to', to]);
      const rollback = sluice(['rollout', 'rollback', 'held-canary', '--reason', 'bench']);
      seconds[engine] = { backfill: backfill.seconds, canary: canary.seconds, rollback: rollback.seconds };
    }
    const d = seconds['duckdb'] ?? {};
    const p = seconds['postgres'] ?? {};
    for (const [what, key] of [[`backfill of ${o.days} partitions (v1 only)`, 'backfill'], [`${o.days} canary batches at 50 % (v1 + v2 + blend)`, 'canary'], [`rollback of ${o.days} partitions (republish + re-run daily_revenue)`, 'rollback']] as const) {
      rows.push({ what, 'DuckDB + SQLite s': (d[key] ?? NaN).toFixed(2), 'PostgreSQL s': (p[key] ?? NaN).toFixed(2), 'PostgreSQL / DuckDB': `${((p[key] ?? NaN) / (d[key] ?? NaN)).toFixed(2)}x` });
    }

    // Workers: the same Q partitions queued again for each count, on the PostgreSQL project.
    const root = join(dir, 'postgres');
    const env = { ...process.env, ...cli.env, SLUICE_HOME: join(dir, 'home-postgres'), SLUICE_STORE_URL: pg.url, SLUICE_WAREHOUSE_URL: pg.url, SLUICE_ACTOR: 'bench' };
    const workers: Record<string, string | number>[] = [];
    const queueTo = `2026-11-${String(Math.min(o.queue, o.days)).padStart(2, '0')}`;
    let one = NaN;
    for (const count of [1, 2, 3]) {
      runNode([cli.bin, '--project', root, 'backfill', 'orders', '--from', '2026-11-01', '--to', queueTo, '--queue'], { env });
      log(`${count} worker(s) draining ${Math.min(o.queue, o.days)} items`);
      const t = performance.now();
      const children = Array.from({ length: count }, () => spawn(process.execPath, [cli.bin, '--project', root, 'worker', '--drain', '--poll', '100ms'], { env, stdio: 'ignore' }));
      await Promise.all(children.map((c) => once(c, 'exit')));
      const s = (performance.now() - t) / 1000;
      if (count === 1) one = s;
      workers.push({ workers: count, items: Math.min(o.queue, o.days), seconds: s.toFixed(2), 'items/s': (Math.min(o.queue, o.days) / s).toFixed(2), 'speed-up vs 1': `${(one / s).toFixed(2)}x` });
    }
    return { how: `${cli.how}; PostgreSQL ${pg.url.replace(/\/\/[^@]*@/, '//')} (throwaway, 127.0.0.1)`, rows, workers };
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
    cli.cleanup();
  }
}

export function formatEnginesBench(r: EnginesResult): string {
  return [`Sluice runs ${r.how}.`, '', markdownTable(r.rows), '', 'Workers on one PostgreSQL store and warehouse, 2 cores:', '', markdownTable(r.workers)].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runEnginesBench({ days: arg('days', 14), ordersPerDay: arg('orders', 20_000), queue: arg('queue', 12), compiled: true, log: (l) => process.stderr.write(`  ${l}\n`) });
  process.stdout.write(`${formatEnginesBench(r)}\n`);
}
