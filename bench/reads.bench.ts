// Reads of a published dataset in the pointer layout: a dataset of P partitions × 3 versions
// (v1, v2, v3 published in turn; each version its own DuckDB file), read
//   - in process (the warehouse's view sluice_live.datasets."name") and
//   - by a reader in another process through <folder>/catalog.sql (bench/reads-reader.ts),
// against a plain DuckDB table holding the same rows (its own file, sorted by partition as a daily
// loader leaves it, attached READ_ONLY by both processes), side by side, interleaved, medians.
// Queries: a full scan (an aggregate over every column) and a one-partition read (the same
// aggregate with `part = k`, a partition no rollback touches). States, in order:
//   1. published, not compacted: every partition served from its own version file (P overlays);
//   2. right after a rollback of 10 partitions (republish v2): still P overlays;
//   3. after `compact --force`: one segment sorted by partition;
//   4. right after a rollback of 10 other partitions: the segment minus those + 10 overlays;
//   5. after `compact --force` again.
// The plain table is rebuilt whenever the published rows change, so both sides always hold the same rows.
//   npx tsx bench/reads.bench.ts [--partitions P] [--rows-per-partition R] [--repeats N]
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface, type Interface } from 'node:readline';
import { DuckDBWarehouse } from '../src/engine/duckdb/duckdb-warehouse.ts';
import type { PublishItem } from '../src/engine/warehouse.ts';
import { arg, markdownTable, median, medianRatio, peakRssMiB, rotate } from './bench-util.ts';

export interface ReadsBenchOptions {
  readonly partitions: number;
  readonly rowsPerPartition: number;
  /** Measured repetitions of each query on each side (after one unmeasured). Default 7. */
  readonly repeats?: number;
  readonly rollbackPartitions?: number;
  readonly memoryLimit?: string;
  readonly log?: (line: string) => void;
}

export interface ReadRow {
  readonly state: string;
  readonly servedBy: string;
  readonly query: 'full scan' | 'one partition';
  readonly plain: number;
  readonly dataset: number;
  /** Median of per-repetition ratios dataset / plain. */
  readonly ratio: number;
  readonly otherPlain: number;
  readonly otherDataset: number;
  readonly otherRatio: number;
}

export interface ReadsState {
  readonly state: string;
  readonly overlays: number;
  readonly segments: number;
  /** Seconds a fresh reader process takes to run catalog.sql (attach every file, create the views). */
  readonly catalogLoadSeconds: number;
}

export interface ReadsBenchResult {
  readonly partitions: number;
  readonly rowsPerPartition: number;
  readonly versions: number;
  readonly repeats: number;
  readonly rows: readonly ReadRow[];
  readonly states: readonly ReadsState[];
  readonly compactions: readonly { readonly label: string; readonly seconds: number; readonly rows: number; readonly partitions: number }[];
  readonly setupSeconds: { readonly versions: number; readonly perVersionMs: number };
}

const VERSIONS = 3;
const AGG = 'count(*) AS n, sum(amount) AS amount, avg(qty) AS qty, count(DISTINCT customer) AS customers, max(note) AS note';

/** A reader in another process. */
class OtherReader {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: AsyncIterator<string>,
    private readonly rl: Interface,
    readonly loadSeconds: number,
  ) {}

  static async start(catalog: string, plain: string, memoryLimit: string): Promise<OtherReader> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'reads-reader.ts'), catalog, plain, memoryLimit], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    const rl = createInterface({ input: child.stdout });
    const lines = rl[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) throw new Error(`the reader process ended: ${stderr}`);
    const hello = JSON.parse(first.value) as { ready?: boolean; loadSeconds: number };
    return new OtherReader(child, lines, rl, hello.loadSeconds);
  }

  async query(sql: string): Promise<{ seconds: number; rows: Record<string, unknown>[] }> {
    this.child.stdin.write(`${JSON.stringify({ sql })}\n`);
    const r = await this.lines.next();
    if (r.done) throw new Error('the reader process ended');
    const out = JSON.parse(r.value) as { seconds?: number; rows?: Record<string, unknown>[]; error?: string };
    if (out.error !== undefined) throw new Error(`reader process: ${out.error}`);
    return { seconds: out.seconds ?? Number.NaN, rows: out.rows ?? [] };
  }

  async close(): Promise<void> {
    const ended = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    await ended;
    this.rl.close();
  }
}

/** The aggregate's answer, floating sums rounded (their last bits depend on the scan order). */
function answerKey(r: Record<string, unknown>): string {
  const round = (x: unknown): string => (typeof x === 'number' ? x.toPrecision(9) : String(x));
  return [r['n'], r['customers'], r['note'], round(r['amount']), round(r['qty'])].map(String).join(' ');
}

function versionSql(p: number, v: number, rows: number): string {
  return `SELECT ${p}::INTEGER AS part, i AS id, (i * 7919 + ${v}) % 100000 / 100.0 AS amount, (i % 13)::INTEGER AS qty, (i * 31 + ${p}) % 50000 AS customer, 'note-' || (i % 1000) AS note FROM range(${rows}) t(i)`;
}

export async function runReadsBench(o: ReadsBenchOptions): Promise<ReadsBenchResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const repeats = o.repeats ?? 7;
  const memoryLimit = o.memoryLimit ?? '4GB';
  const P = o.partitions;
  const k = o.rollbackPartitions ?? 10;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-reads-'));
  const w = await DuckDBWarehouse.open(join(dir, 'w.duckdb'), { memoryLimit, tempDirectory: join(dir, 'spill') });
  try {
    const dataset = 'big_ds';
    const id = (v: number, p: number): string => `big.v${v}.p${p}`;
    const item = (v: number, p: number): PublishItem => ({ dataset, partitionColumn: 'part', partition: String(p), versionId: id(v, p) });
    const publish = async (items: readonly PublishItem[]): Promise<void> => {
      for (let i = 0; i < items.length; i += 250) await w.publish(items.slice(i, i + 250), { runId: null, actor: 'bench', reason: 'bench', at: new Date() });
    };
    log(`reads: writing ${P * VERSIONS} version files (${P} partitions x ${VERSIONS} versions x ${o.rowsPerPartition.toLocaleString('en-US')} rows)`);
    const t0 = performance.now();
    for (let v = 1; v <= VERSIONS; v++) {
      // A session per 50 versions, as runs have theirs: a session keeps what it wrote attached until it closes.
      for (let from = 0; from < P; from += 50) {
        const s = await w.openSession();
        try {
          for (let p = from; p < Math.min(P, from + 50); p++) await s.createOutputVersion({ id: id(v, p), pipeline: 'bench', step: 'big', stepVersion: `v${v}`, versionHash: `h${v}`, partition: String(p), runId: v }, versionSql(p, v, o.rowsPerPartition), new Date());
        } finally {
          await s.close();
        }
      }
      await publish(Array.from({ length: P }, (_, p) => item(v, p)));
    }
    const setup = (performance.now() - t0) / 1000;

    const stride = Math.max(1, Math.floor(P / k));
    const setA = Array.from({ length: Math.min(k, P) }, (_, i) => (5 + i * stride) % P);
    const setB = Array.from({ length: Math.min(k, P) }, (_, i) => (7 + i * stride) % P);
    const onePart = [Math.floor(P / 2) + 3, Math.floor(P / 2) + 4].find((p) => !setA.includes(p) && !setB.includes(p)) ?? 0;
    const inProcess = await w.datasetTable(dataset);
    const full = (t: string): string => `SELECT ${AGG} FROM ${t}`;
    const one = (t: string): string => `SELECT ${AGG} FROM ${t} WHERE part = ${onePart}`;

    let plainN = 0;
    let plainFile = '';
    /** The same rows as the dataset shows now, in a plain table of its own file, attached READ_ONLY as plain_db. */
    const rebuildPlain = async (): Promise<void> => {
      if (plainFile) await w.exec('DETACH plain_db');
      plainFile = join(dir, `plain-${++plainN}.duckdb`);
      await w.exec(`ATTACH '${plainFile}' AS plain_w; CREATE TABLE plain_w.data AS SELECT * FROM ${inProcess} ORDER BY part; CHECKPOINT plain_w; DETACH plain_w`);
      await w.exec(`ATTACH '${plainFile}' AS plain_db (READ_ONLY)`);
    };

    const rows: ReadRow[] = [];
    const states: ReadsState[] = [];
    const compactions: ReadsBenchResult['compactions'][number][] = [];
    const measureState = async (state: string): Promise<void> => {
      log(`reads: ${state}`);
      const rel = w.relation(dataset);
      const servedBy = rel ? (rel.segments === 0 ? `${rel.overlays} version files` : `${rel.segments} segment${rel.segments > 1 ? 's' : ''}${rel.overlays ? ` + ${rel.overlays} version files` : ''}`) : '?';
      const reader = await OtherReader.start(w.readerCatalog, plainFile, memoryLimit);
      try {
        states.push({ state, overlays: rel?.overlays ?? 0, segments: rel?.segments ?? 0, catalogLoadSeconds: reader.loadSeconds });
        for (const [query, q] of [['full scan', full], ['one partition', one]] as const) {
          const sides = {
            plain: () => w.query(q('plain_db.data')),
            dataset: () => w.query(q(inProcess)),
            otherPlain: () => reader.query(q('plain_db.data')),
            otherDataset: () => reader.query(q(`"${dataset}"`)),
          };
          type Side = keyof typeof sides;
          const names = Object.keys(sides) as Side[];
          // Same answer on every side first (also the unmeasured warm-up).
          const answers: string[] = [];
          for (const name of names) {
            const r = await sides[name]();
            answers.push(answerKey((Array.isArray(r) ? r[0] : r.rows[0]) ?? {}));
          }
          if (new Set(answers).size !== 1) throw new Error(`${state}, ${query}: the sides disagree: ${answers.join(' | ')}`);
          const t: Record<Side, number[]> = { plain: [], dataset: [], otherPlain: [], otherDataset: [] };
          for (let i = 0; i < repeats; i++) {
            for (const n of rotate(names, i)) {
              if (n.startsWith('other')) t[n].push((await (sides[n]() as Promise<{ seconds: number }>)).seconds);
              else {
                const s0 = performance.now();
                await sides[n]();
                t[n].push((performance.now() - s0) / 1000);
              }
            }
          }
          rows.push({ state, servedBy, query, plain: median(t.plain), dataset: median(t.dataset), ratio: medianRatio(t.dataset, t.plain), otherPlain: median(t.otherPlain), otherDataset: median(t.otherDataset), otherRatio: medianRatio(t.otherDataset, t.otherPlain) });
        }
      } finally {
        await reader.close();
      }
    };
    const compact = async (label: string): Promise<void> => {
      log(`reads: ${label}`);
      const t = performance.now();
      const reports = await w.compact({ force: true });
      compactions.push({ label, seconds: (performance.now() - t) / 1000, rows: reports.reduce((n, r) => n + r.rows, 0), partitions: reports.reduce((n, r) => n + r.partitions, 0) });
    };

    await rebuildPlain();
    await measureState('1. published, not compacted');
    await publish(setA.map((p) => item(2, p)));
    await rebuildPlain();
    await measureState(`2. right after a rollback of ${setA.length} partitions, not compacted`);
    await compact('compact --force (state 2 -> 3)');
    await measureState('3. compacted');
    await publish(setB.map((p) => item(2, p)));
    await rebuildPlain();
    await measureState(`4. right after a rollback of ${setB.length} other partitions`);
    await compact('compact --force (state 4 -> 5)');
    await measureState('5. compacted again');
    return { partitions: P, rowsPerPartition: o.rowsPerPartition, versions: VERSIONS, repeats, rows, states, compactions, setupSeconds: { versions: setup, perVersionMs: (setup * 1000) / (P * VERSIONS) } };
  } finally {
    await w.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');
const x2 = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '');
const n = (x: number): string => x.toLocaleString('en-US');

export function formatReadsBench(r: ReadsBenchResult): string {
  const aim = (q: ReadRow['query']): number => (q === 'full scan' ? 1.2 : 2);
  const verdict = (x: number, q: ReadRow['query']): string => (Number.isFinite(x) ? (x <= aim(q) ? 'met' : '**missed**') : '');
  return [
    `A published dataset of ${n(r.partitions)} partitions x ${r.versions} versions x ${n(r.rowsPerPartition)} rows (${n(r.partitions * r.rowsPerPartition)} rows shown) vs a plain DuckDB table with the same rows (sorted by partition, its own file, READ_ONLY). Median of ${r.repeats} interleaved repetitions; ratios are medians of per-repetition ratios. Other process: a fresh node + DuckDB process that ran catalog.sql. Aims: full scan ≤ 1.2x, one partition ≤ 2x.\n`,
    markdownTable(
      r.rows.map((x) => ({
        state: x.state,
        'served by': x.servedBy,
        query: x.query,
        'plain s': f3(x.plain),
        'dataset s': f3(x.dataset),
        ratio: x2(x.ratio),
        aim: verdict(x.ratio, x.query),
        'other process: plain s': f3(x.otherPlain),
        'dataset s ': f3(x.otherDataset),
        'ratio ': x2(x.otherRatio),
        'aim ': verdict(x.otherRatio, x.query),
      })),
    ),
    '\nCompaction and the reader catalog:\n',
    markdownTable([
      ...r.states.map((s) => ({ what: `${s.state}: run catalog.sql in a fresh reader process (${s.overlays} version files + ${s.segments} segments attached)`, seconds: f3(s.catalogLoadSeconds) })),
      ...r.compactions.map((c) => ({ what: `${c.label}: ${n(c.partitions)} partitions, ${n(c.rows)} rows rewritten`, seconds: f3(c.seconds) })),
      { what: `setup: writing ${n(r.partitions * r.versions)} version files and publishing them (${r.setupSeconds.perVersionMs.toFixed(1)} ms per version)`, seconds: f3(r.setupSeconds.versions) },
    ]),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runReadsBench({ partitions: arg('partitions', 1000), rowsPerPartition: arg('rows-per-partition', 10_000), repeats: arg('repeats', 7) });
  process.stdout.write(`\n${formatReadsBench(r)}\npeak RSS ${peakRssMiB()} MiB\n`);
}
