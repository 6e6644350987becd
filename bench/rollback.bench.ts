// Rollback time: the data part of a rollback is publishing again, from its baseline output version,
// every partition the candidate touched (DuckDBWarehouse.publish, one call and so one transaction
// per partition, as RolloutController.carryOut does for a `republish` action).
//
// Every case is set up through the warehouse API in a fresh DuckDB file: per partition a baseline
// and a candidate output version (createOutputVersion), the candidates published; then, interleaved
// and repeated (median), each side restoring the same baselines from the same checkpointed state:
//   - controller: one publish call for all partitions of an environment (what a rollback does);
//   - one publish call for all partitions (one transaction);
//   - copy floor: writing the same rows once into a new table (CTAS), the least any copying
//     restore can cost on this machine.
// Where the controller's time goes (row copy, delete, commit, metadata statements) is read from the
// statements the warehouse runs. An isolation block restores the same rows in a small dataset and in
// one with many more untouched partitions and extra versions kept; an investigation block compares
// cheaper ways to restore a 10 % canary slice.
//   npx tsx bench/rollback.bench.ts [--quick] [--max-rows N] [--repeats R]
import { duckdbDialect } from '../src/engine/duckdb/duckdb-dialect.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBEngine } from '../src/engine/duckdb/duckdb-engine.ts';
import { DuckDBWarehouse } from '../src/engine/duckdb/duckdb-warehouse.ts';
import type { OutputVersion, PublishItem } from '../src/engine/warehouse.ts';
import { sliceSql } from '../src/flags/bucket-sql.ts';
import { arg, flag, markdownTable, median, peakRssMiB } from './bench-util.ts';

export interface RollbackBenchOptions {
  /** Cap on partitions × rows per partition of one case (default 10 million; quick 1 million). */
  readonly maxRows?: number;
  /** Small sizes (partitions 10, 100; rows 10k, 50k; cap 1M; smaller isolation and investigation blocks). */
  readonly quick?: boolean;
  /** Measured repetitions per side (median reported). Default 3. */
  readonly repeats?: number;
  readonly partitions?: readonly number[];
  readonly rowsPerPartition?: readonly number[];
  /** Run the isolation block (default true). */
  readonly isolation?: boolean;
  /** Run the investigation block (default true). */
  readonly investigate?: boolean;
  /** Rows per partition (10 partitions) in the investigation block (default 1M; quick 30k). */
  readonly investigateRows?: number;
  readonly memoryLimit?: string;
  readonly log?: (line: string) => void;
}

export interface TimeShares {
  /** INSERT of the version's rows into the dataset table. */
  readonly insert: number;
  /** DELETE of the partition's old rows. */
  readonly delete: number;
  readonly commit: number;
  /** Everything else publish runs: version lookup, column check, pointer, log, BEGIN. */
  readonly metadata: number;
}

export interface RollbackCase {
  readonly partitions: number;
  readonly rowsPerPartition: number;
  readonly rowsRestored: number;
  /** One publish call for all partitions, as the controller does. */
  readonly controllerSeconds: number;
  readonly secondsPer10M: number;
  readonly oneCallSeconds: number;
  readonly copyFloorSeconds: number;
  /** Shares of the controller's time, from the statements it ran (sum to about 1). */
  readonly shares: TimeShares;
  /** Milliseconds per partition spent outside the row copy (delete + commit + metadata). */
  readonly overheadMsPerPartition: number;
}

export interface IsolationRow {
  readonly dataset: string;
  readonly datasetPartitions: number;
  readonly datasetRows: number;
  readonly versionsKept: number;
  readonly rowsRestored: number;
  readonly seconds: number;
  readonly ratio: number;
}

export interface AlternativeRow {
  readonly method: string;
  readonly rowsWritten: number;
  readonly seconds: number;
  /** Against the controller's republish. */
  readonly ratio: number;
}

export interface RollbackBenchResult {
  readonly repeats: number;
  readonly cases: readonly RollbackCase[];
  /** Least-squares fit of the controller's time over the cases: seconds = a × rows + b × partitions. */
  readonly fit: { readonly secondsPer10MRows: number; readonly msPerPartition: number } | null;
  readonly isolation: readonly IsolationRow[];
  readonly alternatives: { readonly partitions: number; readonly rowsPerPartition: number; readonly percent: number; readonly rows: readonly AlternativeRow[] } | null;
}

const START = Date.UTC(2024, 0, 1);
const day = (p: number): string => new Date(START + p * 86_400_000).toISOString().slice(0, 10);
const SALT = 'orders.clean_orders';
const KEY = 'order_id';

/** A cleaned_orders-shaped output of one partition; `variant` changes two columns (0 = baseline). */
function versionSql(p: number, rows: number, variant: number): string {
  const channel = variant === 1 ? "lower(['Web', 'App', 'Store'][1 + i % 3])" : "['Web', 'App', 'Store'][1 + i % 3]";
  const usd = variant === 0 ? 'round((i % 50000) / 100.0 * 1.07, 2)' : `round_even((i % 50000) / 100.0 * ${(1.07 + variant / 1000).toFixed(3)}, 2)`;
  return `SELECT (i + ${p} * ${rows})::BIGINT AS order_id, (i * 7919) % 200000 AS customer_id, ['US', 'DE', 'FR', 'NO', 'JP', 'BR'][1 + i % 6] AS country,
    TIMESTAMP '${day(p)}' + to_seconds(i % 86400) AS ordered_at, DATE '${day(p)}' AS order_date,
    ['USD', 'EUR', 'NOK'][1 + i % 3] AS currency, (i % 50000) / 100.0 AS amount, ${usd} AS amount_usd,
    CASE WHEN i % 20 = 0 THEN 'refunded' ELSE 'paid' END AS status, ${channel} AS channel
    FROM range(${rows}) t(i)`;
}

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** Times every statement the DuckDB engine runs while `fn` runs, by kind. */
async function profiled(fn: () => Promise<unknown>): Promise<{ seconds: number; byKind: Record<keyof TimeShares, number> }> {
  type Run = (this: unknown, sql: string) => Promise<unknown>;
  const proto = DuckDBEngine.prototype as unknown as { run: Run };
  const original = proto.run;
  const byKind = { insert: 0, delete: 0, commit: 0, metadata: 0 };
  proto.run = async function (this: unknown, sql: string): Promise<unknown> {
    const t = performance.now();
    try {
      return await original.call(this, sql);
    } finally {
      const s = sql.trimStart();
      const kind: keyof TimeShares = /^INSERT INTO "[^"]*"\."main"\./i.test(s) ? 'insert' : /^DELETE FROM "[^"]*"\."main"\./i.test(s) ? 'delete' : /^COMMIT/i.test(s) ? 'commit' : 'metadata';
      byKind[kind] += (performance.now() - t) / 1000;
    }
  };
  try {
    const s = await seconds(fn);
    return { seconds: s, byKind };
  } finally {
    proto.run = original;
  }
}

interface Prepared {
  readonly dataset: string;
  readonly baselines: readonly PublishItem[];
  readonly candidates: readonly PublishItem[];
}

const META = { runId: null, actor: 'bench', reason: 'bench', at: new Date() };

async function publishChunked(w: DuckDBWarehouse, items: readonly PublishItem[]): Promise<void> {
  for (let i = 0; i < items.length; i += 250) await w.publish(items.slice(i, i + 250), { ...META, at: new Date() });
}

/**
 * Per partition: `extraVersions` older versions (published in turn, then kept), a baseline and a
 * candidate; the candidates end up published. Partitions `from..from+count-1`.
 */
async function prepare(w: DuckDBWarehouse, dataset: string, from: number, count: number, rows: number, extraVersions = 0, publishBaseline = true): Promise<Prepared> {
  const s = await w.openSession();
  const baselines: PublishItem[] = [];
  const candidates: PublishItem[] = [];
  const olders: PublishItem[][] = Array.from({ length: extraVersions }, () => []);
  const meta = (id: string, p: number, v: string): Omit<OutputVersion, 'table' | 'rowCount' | 'createdAt'> => ({ id, pipeline: 'orders', step: dataset, stepVersion: v, versionHash: v, partition: day(p), runId: 1 });
  for (let p = from; p < from + count; p++) {
    const item = (versionId: string): PublishItem => ({ dataset, partitionColumn: 'order_date', partition: day(p), versionId });
    for (let e = 0; e < extraVersions; e++) {
      const id = `${dataset}.old${e}.p${p}`;
      await s.createOutputVersion(meta(id, p, `v0.${e}`), versionSql(p, rows, 2 + e), new Date());
      olders[e]?.push(item(id));
    }
    const b = `${dataset}.base.p${p}`;
    const c = `${dataset}.cand.p${p}`;
    await s.createOutputVersion(meta(b, p, 'v1'), versionSql(p, rows, 0), new Date());
    await s.createOutputVersion(meta(c, p, 'v2'), versionSql(p, rows, 1), new Date());
    baselines.push(item(b));
    candidates.push(item(c));
  }
  for (const o of olders) await publishChunked(w, o);
  if (publishBaseline) await publishChunked(w, baselines);
  await publishChunked(w, candidates);
  await w.exec('CHECKPOINT');
  return { dataset, baselines, candidates };
}

/** Back to the candidate, checkpointed, so every measured restore starts from the same state. */
async function reset(w: DuckDBWarehouse, items: readonly PublishItem[]): Promise<void> {
  await publishChunked(w, items);
  await w.exec('CHECKPOINT');
}

/** What the controller does for a republish action: one publish call (one transaction) per environment. */
async function controllerRestore(w: DuckDBWarehouse, items: readonly PublishItem[]): Promise<void> {
  await w.publish(items, { ...META, reason: 'rollback of bench', at: new Date() });
}

/** The earlier way, kept for comparison: one publish call (one transaction) per partition. */
async function perPartitionRestore(w: DuckDBWarehouse, items: readonly PublishItem[]): Promise<void> {
  for (const item of items) await w.publish([item], { ...META, reason: 'rollback of bench', at: new Date() });
}

async function copyFloor(w: DuckDBWarehouse, items: readonly PublishItem[]): Promise<number> {
  const tables = await Promise.all(items.map(async (i) => (await w.outputVersion(i.versionId))?.table ?? ''));
  await w.exec('DROP TABLE IF EXISTS main.bench_copy_floor; CHECKPOINT');
  const s = await seconds(() => w.exec(`CREATE TABLE main.bench_copy_floor AS ${tables.map((t) => `SELECT * FROM ${t}`).join(' UNION ALL ')}`));
  await w.exec('DROP TABLE main.bench_copy_floor; CHECKPOINT');
  return s;
}

function gridCases(o: RollbackBenchOptions): { partitions: number; rows: number }[] {
  const max = o.maxRows ?? (o.quick ? 1_000_000 : 10_000_000);
  const parts = o.partitions ?? (o.quick ? [10, 100] : [10, 100, 1000]);
  const rows = o.rowsPerPartition ?? (o.quick ? [10_000, 50_000] : [10_000, 100_000, 1_000_000, 10_000_000]);
  const out: { partitions: number; rows: number }[] = [];
  for (const p of parts) for (const r of rows) if (p * r <= max) out.push({ partitions: p, rows: r });
  // The largest rows per partition the cap allows but no listed partition count reaches: one partition.
  const largest = Math.max(...rows.filter((r) => r <= max));
  if (Number.isFinite(largest) && !out.some((c) => c.rows === largest) && o.partitions === undefined) out.unshift({ partitions: 1, rows: largest });
  return out;
}

async function openFresh(o: RollbackBenchOptions, tag: string): Promise<{ w: DuckDBWarehouse; done: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `sluice-bench-rollback-${tag}-`));
  const w = await DuckDBWarehouse.open(join(dir, 'w.duckdb'), { memoryLimit: o.memoryLimit ?? '4GB', tempDirectory: join(dir, 'spill') });
  return {
    w,
    done: async () => {
      await w.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function runCase(o: RollbackBenchOptions, partitions: number, rows: number, repeats: number): Promise<RollbackCase> {
  const { w, done } = await openFresh(o, `${partitions}x${rows}`);
  try {
    const prep = await prepare(w, 'cleaned_orders', 0, partitions, rows, 0, false);
    const ctl: number[] = [];
    const one: number[] = [];
    const floor: number[] = [];
    const kinds = { insert: 0, delete: 0, commit: 0, metadata: 0 };
    for (let i = 0; i < repeats; i++) {
      // Alternate the order so no side always runs right after the same other one.
      const sides = i % 2 === 0 ? (['ctl', 'one', 'floor'] as const) : (['floor', 'one', 'ctl'] as const);
      for (const side of sides) {
        if (side === 'ctl') {
          const r = await profiled(() => controllerRestore(w, prep.baselines));
          ctl.push(r.seconds);
          for (const k of Object.keys(kinds) as (keyof TimeShares)[]) kinds[k] += r.byKind[k];
        } else if (side === 'one') {
          one.push(await seconds(() => perPartitionRestore(w, prep.baselines)));
        } else {
          floor.push(await copyFloor(w, prep.baselines));
          continue; // the dataset was not touched
        }
        await reset(w, prep.candidates);
      }
    }
    const total = kinds.insert + kinds.delete + kinds.commit + kinds.metadata;
    const controllerSeconds = median(ctl);
    return {
      partitions,
      rowsPerPartition: rows,
      rowsRestored: partitions * rows,
      controllerSeconds,
      secondsPer10M: (controllerSeconds * 10_000_000) / (partitions * rows),
      oneCallSeconds: median(one),
      copyFloorSeconds: median(floor),
      shares: { insert: kinds.insert / total, delete: kinds.delete / total, commit: kinds.commit / total, metadata: kinds.metadata / total },
      overheadMsPerPartition: ((kinds.delete + kinds.commit + kinds.metadata) / repeats / partitions) * 1000,
    };
  } finally {
    await done();
  }
}

/** Same rows restored (10 partitions) in a dataset of just those and in one with many more partitions and versions. */
async function runIsolation(o: RollbackBenchOptions, repeats: number): Promise<IsolationRow[]> {
  const touched = 10;
  const rows = o.quick ? 10_000 : 100_000;
  const untouched = o.quick ? 190 : 990;
  const untouchedRows = o.quick ? 2_000 : 10_000;
  const extra = 3;
  const { w, done } = await openFresh(o, 'isolation');
  try {
    const small = await prepare(w, 'small_ds', 0, touched, rows, 0);
    const big = await prepare(w, 'big_ds', 0, touched, rows, extra);
    // The rest of the big dataset: partitions no rollback touches, each with a kept baseline and candidate.
    await prepare(w, 'big_ds', touched, untouched, untouchedRows, 0, false);
    const t: Record<'small' | 'big', number[]> = { small: [], big: [] };
    for (let i = 0; i < repeats; i++) {
      for (const side of i % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const)) {
        const prep = side === 'small' ? small : big;
        t[side].push(await seconds(() => controllerRestore(w, prep.baselines)));
        await reset(w, prep.candidates);
      }
    }
    const s = median(t.small);
    const b = median(t.big);
    const count = async (ds: string): Promise<number> => Number((await w.query(`SELECT count(*)::BIGINT AS n FROM ${await w.datasetTable(ds)}`))[0]?.['n'] ?? 0);
    return [
      { dataset: 'only the touched partitions', datasetPartitions: touched, datasetRows: await count('small_ds'), versionsKept: touched * 2, rowsRestored: touched * rows, seconds: s, ratio: 1 },
      { dataset: `+${untouched} untouched partitions, +${extra} older versions per touched one`, datasetPartitions: touched + untouched, datasetRows: await count('big_ds'), versionsKept: touched * (2 + extra) + untouched * 2, rowsRestored: touched * rows, seconds: b, ratio: b / s },
    ];
  } finally {
    await done();
  }
}

/** Ways to restore 10 partitions from a published 10 % canary composite, side by side. */
async function runAlternatives(o: RollbackBenchOptions, repeats: number): Promise<NonNullable<RollbackBenchResult['alternatives']>> {
  const partitions = 10;
  const rows = o.investigateRows ?? (o.quick ? 30_000 : 1_000_000);
  const percent = 10;
  const { w, done } = await openFresh(o, 'alternatives');
  try {
    const prep = await prepare(w, 'cleaned_orders', 0, partitions, rows, 0);
    const inSlice = sliceSql(duckdbDialect, SALT, `"${KEY}"`, percent);
    // The published state a canary leaves: per partition an immutable composite version.
    const composites: PublishItem[] = [];
    for (const [i, b] of prep.baselines.entries()) {
      const base = await w.outputVersion(b.versionId);
      const cand = await w.outputVersion(prep.candidates[i]?.versionId ?? '');
      if (!base || !cand) throw new Error('missing version');
      const id = `cleaned_orders.comp.p${i}`;
      await (await w.openSession()).createOutputVersion({ id, pipeline: 'orders', step: 'cleaned_orders', stepVersion: `v1+v2@${percent}%`, versionHash: 'c', partition: b.partition, runId: 2 }, `SELECT * FROM ${base.table} WHERE NOT ${inSlice} UNION ALL BY NAME SELECT * FROM ${cand.table} WHERE ${inSlice}`, new Date());
      composites.push({ ...b, versionId: id });
    }
    await reset(w, composites);
    const target = await w.datasetTable('cleaned_orders');
    const tables = await Promise.all(prep.baselines.map(async (b) => (await w.outputVersion(b.versionId))?.table ?? ''));
    const [sl] = await w.query(`SELECT count(*)::BIGINT AS n FROM ${target} WHERE ${inSlice}`);
    const sliceRows = Number(sl?.['n'] ?? 0);

    const methods: Record<string, { rowsWritten: number; run: () => Promise<unknown>; touches: boolean }> = {
      'controller: one publish call (full copy)': { rowsWritten: partitions * rows, run: () => controllerRestore(w, prep.baselines), touches: true },
      'a transaction per partition (full copy)': { rowsWritten: partitions * rows, run: () => perPartitionRestore(w, prep.baselines), touches: true },
      'raw SQL, one transaction: one DELETE … IN, one INSERT … UNION ALL (no pointer/log)': {
        rowsWritten: partitions * rows,
        touches: true,
        run: () => rawTransaction(w, async () => {
          await w.exec(`DELETE FROM ${target} WHERE order_date IN (${prep.baselines.map((b) => `'${b.partition}'`).join(', ')})`);
          await w.exec(`INSERT INTO ${target} BY NAME ${tables.map((t) => `SELECT * FROM ${t}`).join(' UNION ALL ')}`);
        }),
      },
      [`slice delta per partition: DELETE + INSERT only the ${percent} % slice rows (no pointer/log)`]: {
        rowsWritten: sliceRows,
        touches: true,
        run: async () => {
          for (const [i, b] of prep.baselines.entries()) {
            await rawTransaction(w, async () => {
              await w.exec(`DELETE FROM ${target} WHERE order_date = '${b.partition}' AND ${inSlice}`);
              await w.exec(`INSERT INTO ${target} BY NAME SELECT * FROM ${tables[i]} WHERE ${inSlice}`);
            });
          }
        },
      },
    };
    const times = new Map<string, number[]>();
    const names = Object.keys(methods);
    const floor: number[] = [];
    for (let i = 0; i < repeats; i++) {
      for (const name of i % 2 === 0 ? names : [...names].reverse()) {
        const m = methods[name];
        if (!m) continue;
        times.set(name, [...(times.get(name) ?? []), await seconds(m.run)]);
        if (i === 0) await checkRestored(w, target, tables, name);
        await reset(w, composites);
      }
      floor.push(await copyFloor(w, prep.baselines));
    }
    const ctl = median(times.get(names[0] ?? '') ?? []);
    const rowsOut: AlternativeRow[] = names.map((n) => {
      const s = median(times.get(n) ?? []);
      return { method: n, rowsWritten: methods[n]?.rowsWritten ?? 0, seconds: s, ratio: s / ctl };
    });
    rowsOut.push({ method: 'copy floor: CTAS of the same baseline rows into a new table', rowsWritten: partitions * rows, seconds: median(floor), ratio: median(floor) / ctl });
    return { partitions, rowsPerPartition: rows, percent, rows: rowsOut };
  } finally {
    await done();
  }
}

/** Every alternative must leave exactly the baseline rows published (order-free checksum). */
async function checkRestored(w: DuckDBWarehouse, target: string, tables: readonly string[], method: string): Promise<void> {
  const sum = async (from: string): Promise<string> => String((await w.query(`SELECT count(*)::VARCHAR || ':' || bit_xor(hash(t))::VARCHAR AS s FROM (${from}) t`))[0]?.['s']);
  const want = await sum(tables.map((t) => `SELECT * FROM ${t}`).join(' UNION ALL '));
  const got = await sum(`SELECT * FROM ${target}`);
  if (want !== got) throw new Error(`${method}: the restored dataset differs from the baselines (${got} vs ${want})`);
}

function fitOf(cases: readonly RollbackCase[]): RollbackBenchResult['fit'] {
  // seconds ≈ a·rows + b·partitions, least squares without intercept (2×2 normal equations).
  let rr = 0;
  let rp = 0;
  let pp = 0;
  let ry = 0;
  let py = 0;
  for (const c of cases) {
    const r = c.rowsRestored;
    const p = c.partitions;
    rr += r * r;
    rp += r * p;
    pp += p * p;
    ry += r * c.controllerSeconds;
    py += p * c.controllerSeconds;
  }
  const det = rr * pp - rp * rp;
  if (cases.length < 2 || Math.abs(det) < 1e-9 * rr * pp) return null;
  const a = (ry * pp - py * rp) / det;
  const b = (rr * py - rp * ry) / det;
  return { secondsPer10MRows: a * 10_000_000, msPerPartition: b * 1000 };
}

export async function runRollbackBench(opts: RollbackBenchOptions = {}): Promise<RollbackBenchResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const repeats = opts.repeats ?? 3;
  const cases: RollbackCase[] = [];
  for (const c of gridCases(opts)) {
    log(`rollback: ${c.partitions} partitions x ${c.rows.toLocaleString('en-US')} rows`);
    cases.push(await runCase(opts, c.partitions, c.rows, repeats));
  }
  let isolation: IsolationRow[] = [];
  if (opts.isolation !== false) {
    log('rollback: isolation (same rows restored in a small and a large dataset)');
    isolation = await runIsolation(opts, repeats);
  }
  let alternatives: RollbackBenchResult['alternatives'] = null;
  if (opts.investigate !== false) {
    log('rollback: alternatives for a 10 % canary slice');
    alternatives = await runAlternatives(opts, repeats);
  }
  return { repeats, cases, fit: fitOf(cases), isolation, alternatives };
}

const f2 = (x: number): string => x.toFixed(2);
const f3 = (x: number): string => x.toFixed(3);
const pct = (x: number): string => `${Math.round(x * 100)} %`;
const n = (x: number): string => x.toLocaleString('en-US');

/** The result as Markdown (tables and a few lines of findings). */
export function formatRollbackBench(r: RollbackBenchResult): string {
  const out: string[] = [];
  out.push(`Rollback (republish baselines), median of ${r.repeats}, seconds; ratios against the controller's way in the same run. Shares are of the controller's time by statement; \`commit\` includes DuckDB's WAL write of appends smaller than a row group (122,880 rows) and any automatic checkpoint.\n`);
  out.push(
    markdownTable(
      r.cases.map((c) => ({
        partitions: n(c.partitions),
        'rows/partition': n(c.rowsPerPartition),
        'rows restored': n(c.rowsRestored),
        'controller (one transaction) s': f3(c.controllerSeconds),
        's per 10M rows': f2(c.secondsPer10M),
        'a transaction per partition': `${f2(c.oneCallSeconds / c.controllerSeconds)}x`,
        'copy floor (CTAS)': `${f2(c.copyFloorSeconds / c.controllerSeconds)}x`,
        'copy floor s per 10M rows': f2((c.copyFloorSeconds * 10_000_000) / c.rowsRestored),
        'insert / delete / commit / metadata': `${pct(c.shares.insert)} / ${pct(c.shares.delete)} / ${pct(c.shares.commit)} / ${pct(c.shares.metadata)}`,
        'delete+commit+metadata ms/partition': f2(c.overheadMsPerPartition),
      })),
    ),
  );
  if (r.fit) out.push(`Fit over the cases: controller seconds ≈ ${f2(r.fit.secondsPer10MRows)} s per 10M restored rows + ${f2(r.fit.msPerPartition)} ms per restored partition.\n`);
  if (r.isolation.length > 0) {
    out.push('\nSame rows restored in a small dataset and in a large one (controller way):\n');
    out.push(markdownTable(r.isolation.map((i) => ({ dataset: i.dataset, partitions: n(i.datasetPartitions), 'dataset rows': n(i.datasetRows), 'versions kept': n(i.versionsKept), 'rows restored': n(i.rowsRestored), seconds: f3(i.seconds), ratio: `${f2(i.ratio)}x` }))));
  }
  if (r.alternatives) {
    const a = r.alternatives;
    out.push(`\nRestoring ${a.partitions} partitions x ${n(a.rowsPerPartition)} rows from a published ${a.percent} % canary composite:\n`);
    out.push(markdownTable(a.rows.map((x) => ({ method: x.method, 'rows written': n(x.rowsWritten), seconds: f3(x.seconds), 'vs controller': `${f2(x.ratio)}x` }))));
  }
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = flag('quick');
  const maxRows = process.argv.includes('--max-rows') ? arg('max-rows', 10_000_000) : undefined;
  const r = await runRollbackBench({ quick, repeats: arg('repeats', 3), ...(maxRows ? { maxRows } : {}) });
  process.stdout.write(`\n${formatRollbackBench(r)}\npeak RSS ${peakRssMiB()} MiB\n`);
}

/** A raw SQL transaction on the warehouse's own connection (comparison methods only). */
async function rawTransaction(w: DuckDBWarehouse, fn: () => Promise<void>): Promise<void> {
  await w.exec('BEGIN TRANSACTION');
  try {
    await fn();
    await w.exec('COMMIT');
  } catch (e) {
    await w.exec('ROLLBACK');
    throw e;
  }
}
