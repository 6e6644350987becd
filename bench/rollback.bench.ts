// Rollback time in the pointer layout: the data part of a rollback is republishing, in one
// compare-and-set publish call, the baseline output version of every partition the candidate
// touched (RolloutEffects.republish: currentPublications, then DuckDBWarehouse.publish with
// `expected`). No row moves: one catalog transaction, the dataset's view rebuilt, the reader
// catalog (catalog.sql) rewritten. So the time should be flat in rows and grow with partitions only.
//
// Every case is set up through the warehouse API in a fresh warehouse: per partition a baseline and
// a candidate output version (createOutputVersion: its own DuckDB file), the candidates published.
// Then, interleaved and repeated (median): roll back (republish the baselines) and roll forward
// again (republish the candidates) — both are republishes of older versions. Beside them, as the
// reference of any layout that copies on restore: writing the same rows once into a new table
// (CTAS, the copy floor; the old layout cost about that). Where a republish's time goes is read
// from the warehouse's own calls (catalog transaction, view rebuild, reader catalog rewrite).
// Not included: a rollback's downstream re-runs (a normal run of the downstream steps on the
// restored partitions, see the overhead bench's step times) and the compaction the command runs
// afterwards when the policy asks (timed once per case, separately).
//   npx tsx bench/rollback.bench.ts [--quick] [--max-rows N] [--repeats R]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBWarehouse } from '../src/engine/duckdb/duckdb-warehouse.ts';
import type { OutputVersion, PublishItem } from '../src/engine/warehouse.ts';
import { arg, flag, markdownTable, median, peakRssMiB } from './bench-util.ts';

export interface RollbackBenchOptions {
  /** Cap on partitions × rows per partition of one case (default 10 million; quick 1 million). Quick: partitions 1, 10, 30 x rows 1k, 10k. */
  readonly maxRows?: number;
  readonly quick?: boolean;
  /** Measured repetitions of each republish direction (median reported). Default 11. */
  readonly repeats?: number;
  /** Repetitions of the copy floor (it copies every row; default 3, quick 1). */
  readonly copyRepeats?: number;
  readonly partitions?: readonly number[];
  readonly rowsPerPartition?: readonly number[];
  /** Run the block that restores 10 partitions of a large dataset, before and after compaction (default true). */
  readonly isolation?: boolean;
  readonly memoryLimit?: string;
  readonly log?: (line: string) => void;
}

/** Seconds inside one republish call, by part (medians). */
export interface PublishParts {
  /** SQLite catalog transaction: compare-and-set, pointers, log. */
  readonly catalog: number;
  /** Rebuilding the dataset's view (attach files, CREATE OR REPLACE VIEW). */
  readonly views: number;
  /** Rewriting catalog.sql for other processes (when it changed). */
  readonly readerCatalog: number;
  /** The rest: version lookups, file checks, currentPublications. */
  readonly other: number;
}

export interface RollbackCase {
  readonly partitions: number;
  readonly rowsPerPartition: number;
  readonly rowsRestored: number;
  /** Roll back: currentPublications + one compare-and-set publish of the baselines (what the controller does). */
  readonly rollbackSeconds: number;
  /** Roll forward again: the same for the candidates. */
  readonly forwardSeconds: number;
  readonly parts: PublishParts;
  /** CTAS of the restored rows into a new table: what a copying restore costs at least. */
  readonly copyFloorSeconds: number;
  /** Compaction the command would run after the rollback (policy compact_after 10), once. */
  readonly maintainSeconds: number;
  readonly maintainRows: number;
}

export interface IsolationRow {
  readonly dataset: string;
  readonly datasetPartitions: number;
  readonly datasetRows: number;
  readonly servedBy: string;
  readonly rowsRestored: number;
  readonly seconds: number;
  readonly ratio: number;
}

export interface RollbackBenchResult {
  readonly repeats: number;
  readonly copyRepeats: number;
  readonly maxRows: number;
  readonly cases: readonly RollbackCase[];
  readonly isolation: readonly IsolationRow[];
}

const START = Date.UTC(2024, 0, 1);
const day = (p: number): string => new Date(START + p * 86_400_000).toISOString().slice(0, 10);

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

/** Wraps the warehouse's own calls to time a republish by part. */
function instrument(w: DuckDBWarehouse): { take: () => Omit<PublishParts, 'other'> } {
  const acc = { catalog: 0, views: 0, readerCatalog: 0 };
  const cat = w.catalog as unknown as { transaction: <T>(fn: () => T) => T };
  const tx = cat.transaction.bind(w.catalog);
  cat.transaction = <T>(fn: () => T): T => {
    const t = performance.now();
    try {
      return tx(fn);
    } finally {
      acc.catalog += (performance.now() - t) / 1000;
    }
  };
  const self = w as unknown as { refreshViews: (d?: readonly string[]) => Promise<void>; writeReaderCatalog: () => void };
  const refresh = self.refreshViews.bind(w);
  const reader = self.writeReaderCatalog.bind(w);
  let inReader = 0;
  self.writeReaderCatalog = (): void => {
    const t = performance.now();
    try {
      reader();
    } finally {
      inReader += (performance.now() - t) / 1000;
    }
  };
  self.refreshViews = async (d?: readonly string[]): Promise<void> => {
    const t = performance.now();
    const before = inReader;
    try {
      await refresh(d);
    } finally {
      acc.views += (performance.now() - t) / 1000 - (inReader - before);
    }
  };
  return {
    take: () => {
      const out = { catalog: acc.catalog, views: acc.views, readerCatalog: inReader };
      acc.catalog = 0;
      acc.views = 0;
      inReader = 0;
      return out;
    },
  };
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

/** Per partition `from..from+count-1` a baseline and a candidate version; the candidates end up published. */
async function prepare(w: DuckDBWarehouse, dataset: string, from: number, count: number, rows: number, publishBaseline = false): Promise<Prepared> {
  const baselines: PublishItem[] = [];
  const candidates: PublishItem[] = [];
  const meta = (id: string, p: number, v: string): Omit<OutputVersion, 'table' | 'rowCount' | 'createdAt'> => ({ id, pipeline: 'orders', step: dataset, stepVersion: v, versionHash: v, partition: day(p), runId: 1 });
  // A session per 25 partitions, as runs have theirs: a session keeps what it wrote attached until it closes.
  for (let start = from; start < from + count; start += 25) {
    const s = await w.openSession();
    try {
      for (let p = start; p < Math.min(from + count, start + 25); p++) {
        const item = (versionId: string, expected: string): PublishItem => ({ dataset, partitionColumn: 'order_date', partition: day(p), versionId, expected });
        const b = `${dataset}.base.p${p}`;
        const c = `${dataset}.cand.p${p}`;
        await s.createOutputVersion(meta(b, p, 'v1'), versionSql(p, rows, 0), new Date());
        await s.createOutputVersion(meta(c, p, 'v2'), versionSql(p, rows, 1), new Date());
        baselines.push(item(b, c));
        candidates.push(item(c, b));
      }
    } finally {
      await s.close();
    }
  }
  if (publishBaseline) await publishChunked(w, baselines.map(({ expected: _e, ...i }) => i));
  await publishChunked(w, candidates.map(({ expected: _e, ...i }) => i));
  return { dataset, baselines, candidates };
}

/** What the controller's republish does with the warehouse: read what shows, then one compare-and-set publish. */
async function republish(w: DuckDBWarehouse, items: readonly PublishItem[]): Promise<void> {
  const shown = new Map((await w.currentPublications()).map((p) => [`${p.dataset}\0${p.partition}`, p.versionId]));
  for (const i of items) if (shown.get(`${i.dataset}\0${i.partition}`) !== i.expected) throw new Error(`${i.partition} does not show ${i.expected}`);
  await w.publish(items, { ...META, reason: 'rollback of bench', at: new Date() });
}

async function copyFloor(w: DuckDBWarehouse, items: readonly PublishItem[]): Promise<number> {
  const tables = await Promise.all(items.map(async (i) => (await w.outputVersion(i.versionId))?.table ?? ''));
  await w.exec('DROP TABLE IF EXISTS main.bench_copy_floor; CHECKPOINT');
  const s = await seconds(async () => {
    await w.exec(`CREATE TABLE main.bench_copy_floor AS ${tables.map((t) => `SELECT * FROM ${t}`).join(' UNION ALL ')}`);
    await w.exec('CHECKPOINT');
  });
  await w.exec('DROP TABLE main.bench_copy_floor; CHECKPOINT');
  return s;
}

function gridCases(o: RollbackBenchOptions): { partitions: number; rows: number }[] {
  const max = o.maxRows ?? (o.quick ? 1_000_000 : 10_000_000);
  const parts = o.partitions ?? (o.quick ? [1, 10, 30] : [1, 10, 100, 1000]);
  const rows = o.rowsPerPartition ?? (o.quick ? [1_000, 10_000] : [10_000, 100_000, 1_000_000, 10_000_000]);
  const out: { partitions: number; rows: number }[] = [];
  for (const p of parts) for (const r of rows) if (p * r <= max) out.push({ partitions: p, rows: r });
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

async function runCase(o: RollbackBenchOptions, partitions: number, rows: number, repeats: number, copyRepeats: number): Promise<RollbackCase> {
  const { w, done } = await openFresh(o, `${partitions}x${rows}`);
  try {
    const prep = await prepare(w, 'cleaned_orders', 0, partitions, rows);
    const probe = instrument(w);
    const back: number[] = [];
    const fwd: number[] = [];
    const parts: PublishParts[] = [];
    const floor: number[] = [];
    // One unmeasured round trip first (the first rebuild of the view attaches every file).
    await republish(w, prep.baselines);
    await republish(w, prep.candidates);
    probe.take();
    for (let i = 0; i < repeats; i++) {
      const s = await seconds(() => republish(w, prep.baselines));
      const p = probe.take();
      back.push(s);
      parts.push({ ...p, other: s - p.catalog - p.views - p.readerCatalog });
      fwd.push(await seconds(() => republish(w, prep.candidates)));
      probe.take();
      // The copy floor between repetitions, never right after the same side.
      if (i < copyRepeats) floor.push(await copyFloor(w, prep.baselines));
    }
    // The rollback as a command ends: republish, then the upkeep the policy asks for.
    await republish(w, prep.baselines);
    let maintainRows = 0;
    const maintainSeconds = await seconds(async () => {
      maintainRows = (await w.maintain()).reduce((n, r) => n + r.rows, 0);
    });
    const med = (k: keyof PublishParts): number => median(parts.map((x) => x[k]));
    return {
      partitions,
      rowsPerPartition: rows,
      rowsRestored: partitions * rows,
      rollbackSeconds: median(back),
      forwardSeconds: median(fwd),
      parts: { catalog: med('catalog'), views: med('views'), readerCatalog: med('readerCatalog'), other: med('other') },
      copyFloorSeconds: median(floor),
      maintainSeconds,
      maintainRows,
    };
  } finally {
    await done();
  }
}

/**
 * The same 10 partitions rolled back in a dataset of only those and in a 1,000-partition one, the
 * large one first with every partition served from its own version file, then compacted.
 */
async function runIsolation(o: RollbackBenchOptions, repeats: number): Promise<IsolationRow[]> {
  const touched = 10;
  const rows = o.quick ? 2_000 : 100_000;
  const untouched = o.quick ? 20 : 990;
  const untouchedRows = o.quick ? 1_000 : 10_000;
  const { w, done } = await openFresh(o, 'isolation');
  try {
    const small = await prepare(w, 'small_ds', 0, touched, rows);
    const big = await prepare(w, 'big_ds', 0, touched, rows);
    await prepare(w, 'big_ds', touched, untouched, untouchedRows);
    const count = async (ds: string): Promise<number> => Number((await w.query(`SELECT count(*)::BIGINT AS n FROM ${await w.datasetTable(ds)}`))[0]?.['n'] ?? 0);
    const measure = async (label: 'overlays' | 'compacted'): Promise<{ small: number; big: number }> => {
      await republish(w, small.baselines);
      await republish(w, small.candidates);
      await republish(w, big.baselines);
      await republish(w, big.candidates);
      const t: Record<'small' | 'big', number[]> = { small: [], big: [] };
      for (let i = 0; i < repeats; i++) {
        for (const side of i % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const)) {
          const prep = side === 'small' ? small : big;
          t[side].push(await seconds(() => republish(w, prep.baselines)));
          await republish(w, prep.candidates);
        }
      }
      void label;
      return { small: median(t.small), big: median(t.big) };
    };
    const before = await measure('overlays');
    await w.compact({ force: true });
    const after = await measure('compacted');
    const bigRows = await count('big_ds');
    const smallRows = await count('small_ds');
    const row = (dataset: string, parts: number, n: number, servedBy: string, s: number, ref: number): IsolationRow => ({ dataset, datasetPartitions: parts, datasetRows: n, servedBy, rowsRestored: touched * rows, seconds: s, ratio: s / ref });
    return [
      row('only the 10 rolled-back partitions', touched, smallRows, 'a version file each', before.small, before.small),
      row(`+${untouched} partitions not rolled back`, touched + untouched, bigRows, `a version file each (${touched + untouched} overlays)`, before.big, before.small),
      row('only the 10 rolled-back partitions', touched, smallRows, 'compacted: 1 segment, then 10 overlays', after.small, before.small),
      row(`+${untouched} partitions not rolled back`, touched + untouched, bigRows, 'compacted: 1 segment, then 10 overlays', after.big, before.small),
    ];
  } finally {
    await done();
  }
}

export async function runRollbackBench(opts: RollbackBenchOptions = {}): Promise<RollbackBenchResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const repeats = opts.repeats ?? 11;
  const copyRepeats = opts.copyRepeats ?? (opts.quick ? 1 : 3);
  const cases: RollbackCase[] = [];
  for (const c of gridCases(opts)) {
    log(`rollback: ${c.partitions} partitions x ${c.rows.toLocaleString('en-US')} rows`);
    cases.push(await runCase(opts, c.partitions, c.rows, repeats, copyRepeats));
  }
  let isolation: IsolationRow[] = [];
  if (opts.isolation !== false) {
    log('rollback: 10 partitions of a small and of a large dataset, before and after compaction');
    isolation = await runIsolation(opts, repeats);
  }
  return { repeats, copyRepeats, maxRows: opts.maxRows ?? (opts.quick ? 1_000_000 : 10_000_000), cases, isolation };
}

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');
const ms = (x: number): string => (Number.isFinite(x) ? (x * 1000).toFixed(1) : '-');
const n = (x: number): string => x.toLocaleString('en-US');
const x2 = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '');

/** The result as Markdown. */
export function formatRollbackBench(r: RollbackBenchResult): string {
  const out: string[] = [];
  out.push(`Rollback = one compare-and-set republish of the baselines (as the controller does), median of ${r.repeats}; roll forward = republishing the candidates again. Copy floor: CTAS of the restored rows into a new table + CHECKPOINT (median of ${r.copyRepeats}), what a restore that copies rows costs at least. Parts of the rollback in ms (medians): SQLite catalog transaction / dataset view rebuild / catalog.sql rewrite / the rest (lookups, file checks, currentPublications). Cases up to ${n(r.maxRows)} rows restored (the version files of both sides are written for real).\n`);
  out.push(
    markdownTable(
      r.cases.map((c) => ({
        partitions: n(c.partitions),
        'rows/partition': n(c.rowsPerPartition),
        'rows restored': n(c.rowsRestored),
        'rollback s': f3(c.rollbackSeconds),
        'roll forward s': f3(c.forwardSeconds),
        'copy floor s': f3(c.copyFloorSeconds),
        'rollback vs copy floor': x2(c.rollbackSeconds / c.copyFloorSeconds),
        'catalog / views / catalog.sql / rest ms': `${ms(c.parts.catalog)} / ${ms(c.parts.views)} / ${ms(c.parts.readerCatalog)} / ${ms(c.parts.other)}`,
        'then compaction (policy) s': c.maintainRows > 0 ? `${f3(c.maintainSeconds)} (${n(c.maintainRows)} rows)` : 'none',
      })),
    ),
  );
  const byRows = new Map<number, RollbackCase[]>();
  for (const c of r.cases) byRows.set(c.partitions, [...(byRows.get(c.partitions) ?? []), c]);
  const flat = [...byRows.entries()].filter(([, cs]) => cs.length > 1).map(([p, cs]) => {
    const lo = cs.reduce((a, b) => (a.rowsPerPartition < b.rowsPerPartition ? a : b));
    const hi = cs.reduce((a, b) => (a.rowsPerPartition > b.rowsPerPartition ? a : b));
    return `${n(p)} partition${p === 1 ? '' : 's'}: ${n(lo.rowsPerPartition)} → ${n(hi.rowsPerPartition)} rows/partition ${x2(hi.rollbackSeconds / lo.rollbackSeconds)}`;
  });
  if (flat.length > 0) out.push(`\nFlat in rows? Rollback time at the most rows per partition vs the fewest: ${flat.join('; ')}.\n`);
  const target = r.cases.find((c) => c.partitions === 10 && c.rowsPerPartition === 1_000_000);
  if (target) out.push(`\nRepublishing 10 partitions x 1,000,000 rows: **${f3(target.rollbackSeconds)} s** (aim ≤ 0.1 s: ${target.rollbackSeconds <= 0.1 ? 'met' : '**missed**'}).\n`);
  if (r.isolation.length > 0) {
    out.push('\nThe same 10 partitions rolled back in a dataset of only those and in a large one, before and after `compact --force` (median seconds; ratio to the small dataset before compaction):\n');
    out.push(markdownTable(r.isolation.map((i) => ({ dataset: i.dataset, partitions: n(i.datasetPartitions), 'dataset rows': n(i.datasetRows), 'served by': i.servedBy, 'rows restored': n(i.rowsRestored), seconds: f3(i.seconds), ratio: x2(i.ratio) }))));
  }
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = flag('quick');
  const maxRows = process.argv.includes('--max-rows') ? arg('max-rows', 10_000_000) : undefined;
  const r = await runRollbackBench({ quick, repeats: arg('repeats', 11), ...(maxRows ? { maxRows } : {}) });
  process.stdout.write(`\n${formatRollbackBench(r)}\npeak RSS ${peakRssMiB()} MiB\n`);
}
