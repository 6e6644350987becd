import { existingWarehouse, openWorkspace, type Workspace } from '../app/open-workspace.ts';
import { verifyAudit } from '../runner/verify-audit.ts';
import { formatTable } from '../util/format-table.ts';
import type { DispatchOutcome } from '../runner/rollouts/rollout-service.ts';
import type { RunResult } from '../runner/run-pipeline.ts';
import { messageOf } from '../util/errors.ts';
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
  readonly rollouts: Record<string, string>;
  readonly verifiedAfterRollback: number;
  /** Publications of the partitions v3 touched that ever pointed at a candidate or blended output of v3 (must be 0). */
  readonly candidatePublications: number;
  readonly auditEntries: number;
}

const START = '2026-11-01';
const PIPELINE = 'orders';

/**
 * `sluice demo`: a project with seeded orders, then the whole story on the project's engines (the
 * embedded ones, or PostgreSQL through SLUICE_STORE_URL / SLUICE_WAREHOUSE_URL) —
 * a baseline backfill, candidate v2 rolled out through shadow, 10 %, 50 % and 100 % and promoted,
 * and candidate v3 (which silently drops some refunds) caught at its canary and rolled back.
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const log = o.log ?? (() => undefined);
  const { root } = await scaffoldProject({ dir: o.dir, name: 'shop', startDate: START, days: o.days, ordersPerDay: o.ordersPerDay });
  log(`Sluice demo: project created in ${root}`);
  log(`  ${o.days} daily partitions of seeded orders (${o.ordersPerDay}/day, ~1 % dirty rows, ~6 % refunds) in data/orders/`);
  // The demo tells the story itself; the controller's own notices would repeat it.
  await using ws = await openWorkspace(root, 'dev', { log: () => undefined });
  const partitions = demoPartitions(START, o.days);
  const story = partitions.length >= 12;
  const baselineDays = story ? partitions.length - 10 : partitions.length;
  let failed = 0;
  const run = async (partition: string): Promise<{ result?: RunResult; rollouts: DispatchOutcome[] }> => {
    try {
      return await ws.run({ pipeline: PIPELINE, partition, environment: 'dev', actor: o.actor });
    } catch (e) {
      failed++;
      log(`  ${partition}  FAILED: ${messageOf(e)}`);
      return { rollouts: [] };
    }
  };

  log(`\n1. Baseline: clean_orders v1 on ${baselineDays} partitions (raw_orders -> clean_orders -> daily_revenue)`);
  const rows: Record<string, unknown>[] = [];
  for (const p of partitions.slice(0, baselineDays)) {
    const { result } = await run(p);
    if (result) rows.push({ partition: p, run: result.run.id, cleaned_orders: result.steps[0]?.rowsOut, daily_revenue: result.steps[1]?.rowsOut });
  }
  log(indent(formatTable(rows)));

  const rollouts: Record<string, string> = {};
  let verified = 0;
  let candidatePublications = 0;
  if (story) {
    log(`\n2. Rollout clean-orders-v2 (v1 -> v2): shadow, canary 10 %, 50 %, full; gates after every batch`);
    await ws.rollouts.start('clean-orders-v2', o.actor, 'normalised channel');
    for (const p of partitions.slice(baselineDays, baselineDays + 5)) logBatch(log, p, await run(p), 'clean-orders-v2');
    rollouts['clean-orders-v2'] = (await ws.rollouts.state('clean-orders-v2')).kind;

    log(`\n3. Rollout clean-orders-v3 (v2 -> v3), whose new filter silently drops some refunds`);
    await ws.rollouts.start('clean-orders-v3', o.actor, 'simpler filter');
    const touched: string[] = [];
    for (const p of partitions.slice(baselineDays + 5)) {
      const before = (await ws.rollouts.state('clean-orders-v3')).kind;
      logBatch(log, p, await run(p), 'clean-orders-v3');
      if (before !== 'rolled_back') touched.push(p);
    }
    rollouts['clean-orders-v3'] = (await ws.rollouts.state('clean-orders-v3')).kind;
    log('\n   The same_rows gate is judged before publish, so v3\'s rows never reached a consumer:');
    const v = await verifyBaseline(ws, touched, log);
    verified = v.ok;
    candidatePublications = v.candidatePublications;
  }

  const datasets: Record<string, number> = {};
  for (const ds of ['cleaned_orders', 'daily_revenue']) {
    const [r] = await ws.warehouse.query(`SELECT count(*) AS n FROM ${await ws.warehouse.datasetTable(ds)}`);
    datasets[ds] = Number(r?.['n'] ?? 0);
  }
  const report = await verifyAudit({ ...ws, existingWarehouse: existingWarehouse(ws) });
  const audit = { ok: report.ok, entries: report.chain.entries };
  log(`\nPublished: cleaned_orders ${datasets['cleaned_orders']} rows, daily_revenue ${datasets['daily_revenue']} rows in ${partitions.length} partitions.`);
  log(`Audit trail: ${audit.entries} entries, ${audit.ok ? `keyed chain verified against its checkpoint, and it records every one of ${report.checked.runs} runs, ${report.checked.flagRevisions} flag changes and ${report.checked.publications} publications` : 'BROKEN'}.`);
  log(`  audit key: ${report.keyLocation}; checkpoint: ${report.checkpointLocation} (outside the project: keep the key, never commit it)`);
  const sluice = `npx sluice --project ${root}`;
  log(`\nLook around (from the Sluice checkout):
  ${sluice} rollout status                     # both rollouts and where they ended
  ${sluice} rollout report clean-orders-v3     # timeline, gate verdicts with numbers, what was reverted
  ${sluice} publications cleaned_orders        # which output version each partition shows
  ${sluice} flags history clean_orders_version # every flag change, who and why
  ${sluice} runs                               # every run; run-show ID for steps, rows and hashes
  ${sluice} audit verify                       # checks the keyed audit chain and what it must record
  ${sluice} verify-data                        # every published partition against its output version
The data (datasets cleaned_orders, daily_revenue), from any other process while Sluice works:
  ${ws.warehouse.engine.kind === 'duckdb' ? `duckdb -init ${ws.warehouse.readerCatalog}` : `psql: ${ws.warehouse.readerCatalog}`}`);
  return { root, partitions: partitions.length, failed, datasets, rollouts, verifiedAfterRollback: verified, candidatePublications, auditEntries: audit.entries };
}

function logBatch(log: (s: string) => void, partition: string, r: { result?: RunResult; rollouts: DispatchOutcome[] }, name: string): void {
  const step = r.result?.steps.find((s) => s.step === 'clean_orders');
  const exposure = step?.exposure.kind === 'sliced' ? `${step.exposure.baseline}+${step.exposure.candidate} at ${step.exposure.percent} %` : (step?.version ?? '-');
  const d = r.rollouts.find((x) => x.rollout === name);
  const verdicts = (d?.result.verdicts ?? []).map((v) => `${v.gate} ${v.verdict}`).join(', ');
  const at = (x: { state: string; stage?: string }): string => (x.state === 'progressing' && x.stage ? x.stage : x.state);
  const moves = (d?.result.transitions ?? []).map((t) => `${at(t.from)} -> ${at(t.to)}`).join(', ');
  log(`  ${partition}  ran ${exposure.padEnd(16)} ${verdicts ? `gates: ${verdicts}` : ''}${moves ? `  => ${moves}` : ''}`);
  if (step?.candidateRejected && step.exposure.kind === 'sliced') log(`    judged before publish: the batch published ${step.exposure.baseline} alone (${step.candidateRejected.replace(/^rollout \S+ rejected the candidate before publish \(\w+\): /, '')})`);
  for (const t of d?.result.transitions ?? []) if (t.to.state === 'rolled_back') log(`    rolled back: ${t.reason}`);
}

/**
 * Checks every partition the failed rollout ran on: it shows its baseline output, row for row, and
 * no publication in its whole history ever pointed at a candidate or blended output of v3.
 */
async function verifyBaseline(ws: Workspace, touched: readonly string[], log: (s: string) => void): Promise<{ ok: number; candidatePublications: number }> {
  const table = await ws.warehouse.datasetTable('cleaned_orders');
  let ok = 0;
  let candidatePublications = 0;
  for (const p of touched) {
    const history = await ws.warehouse.publicationHistory('cleaned_orders', p);
    const versions = await Promise.all(history.map((h) => ws.warehouse.outputVersion(h.versionId)));
    const withV3 = versions.filter((v) => v?.stepVersion.includes('v3')).length;
    candidatePublications += withV3;
    const v = versions[versions.length - 1];
    if (!v) continue;
    const [r] = await ws.warehouse.query(`SELECT (SELECT count(*) FROM (SELECT * FROM ${table} WHERE order_date = DATE '${p}' EXCEPT ALL SELECT * FROM ${v.table}) a) + (SELECT count(*) FROM (SELECT * FROM ${v.table} EXCEPT ALL SELECT * FROM ${table} WHERE order_date = DATE '${p}') b) AS diff`);
    const same = Number(r?.['diff']) === 0 && !v.stepVersion.includes('v3');
    if (same) ok++;
    log(`  ${p}: cleaned_orders shows ${v.id} (${v.stepVersion}) ${same ? '= baseline output, row for row' : 'DIFFERS from the baseline'}; ${history.length} publication(s) of it, ${withV3 === 0 ? 'none' : withV3} with v3 rows`);
  }
  log(`  checked: no publication of any partition v3 ran on ever pointed at a candidate or blended output of v3 (${candidatePublications} found)`);
  return { ok, candidatePublications };
}

function indent(text: string): string {
  return text.split('\n').map((l) => `  ${l}`).join('\n');
}
