// The storage layout: reading a published dataset of 1,000 partitions with 3 versions each against a
// plain table with the same rows, and the cost of publishing one partition against its own rows and
// against the size of the rest of the dataset.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBWarehouse } from '../src/engine/duckdb/duckdb-warehouse.ts';
import { arg, printTable, timeMedian } from './bench-util.ts';

export interface LayoutResult {
  readonly scan: { partitions: number; rowsPerPartition: number; plain: number; published: number; ratio: number };
  readonly publish: { datasetPartitions: number; partitionRows: number; seconds: number }[];
}

const SCAN = (t: string): string => `SELECT count(*), sum(amount), avg(qty), count(DISTINCT customer), max(note) FROM ${t}`;

async function createVersions(w: DuckDBWarehouse, step: string, partitions: number, rows: number, versions: number, tag: string): Promise<void> {
  for (let v = 1; v <= versions; v++) {
    for (let p = 0; p < partitions; p++) {
      await (await w.openSession()).createOutputVersion(
        { id: `${step}.${tag}v${v}p${p}`, pipeline: 'bench', step, stepVersion: `v${v}`, versionHash: 'h', partition: String(p), runId: v },
        `SELECT ${p}::INTEGER AS part, i AS id, (i * 7919 + ${v}) % 100000 / 100.0 AS amount, (i % 13)::INTEGER AS qty, (i * 31 + ${p}) % 50000 AS customer, 'note-' || (i % 1000) AS note FROM range(${rows}) t(i)`,
        new Date(),
      );
    }
  }
}

async function publishAll(w: DuckDBWarehouse, dataset: string, step: string, partitions: number, v: number, tag: string): Promise<void> {
  const items = Array.from({ length: partitions }, (_, p) => ({ dataset, partitionColumn: 'part', partition: String(p), versionId: `${step}.${tag}v${v}p${p}` }));
  for (let i = 0; i < items.length; i += 250) await w.publish(items.slice(i, i + 250), { runId: v, actor: 'bench', reason: 'bench', at: new Date() });
}

export async function runLayoutBench(o: { partitions: number; rowsPerPartition: number }): Promise<LayoutResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-layout-'));
  try {
    const w = await DuckDBWarehouse.open(join(dir, 'w.duckdb'), { memoryLimit: '4GB' });
    // Three versions per partition, published in turn (v1, v2, then v3 stays published).
    await createVersions(w, 'big', o.partitions, o.rowsPerPartition, 3, '');
    for (const v of [1, 2, 3]) await publishAll(w, 'big_ds', 'big', o.partitions, v, '');
    const published = await w.datasetTable('big_ds');
    await w.exec(`CHECKPOINT; CREATE TABLE plain AS SELECT * FROM ${published}; CHECKPOINT`);
    const plainS = await timeMedian(() => w.query(SCAN('plain')), 5, 1);
    const pubS = await timeMedian(() => w.query(SCAN(published)), 5, 1);

    // Publish cost: one partition of n rows, into the big dataset and into a small one of 10 partitions.
    await createVersions(w, 'small', 10, o.rowsPerPartition, 1, '');
    await publishAll(w, 'small_ds', 'small', 10, 1, '');
    const publish: LayoutResult['publish'] = [];
    for (const n of [10_000, 100_000, 1_000_000]) {
      for (const [ds, step, parts] of [['big_ds', 'big', o.partitions], ['small_ds', 'small', 10]] as const) {
        const ids = [`${step}.n${n}a`, `${step}.n${n}b`];
        for (const id of ids) {
          await (await w.openSession()).createOutputVersion({ id, pipeline: 'bench', step, stepVersion: 'vx', versionHash: 'h', partition: '5', runId: 9 }, `SELECT 5::INTEGER AS part, i AS id, i % 1000 / 10.0 AS amount, (i % 13)::INTEGER AS qty, i % 5000 AS customer, 'n' AS note FROM range(${n}) t(i)`, new Date());
        }
        let k = 0;
        const seconds = await timeMedian(() => w.publish([{ dataset: ds, partitionColumn: 'part', partition: '5', versionId: ids[k++ % 2] ?? '' }], { runId: null, actor: 'bench', reason: 'bench', at: new Date() }), 5, 1);
        publish.push({ datasetPartitions: parts, partitionRows: n, seconds });
      }
    }
    await w.close();
    return { scan: { partitions: o.partitions, rowsPerPartition: o.rowsPerPartition, plain: plainS, published: pubS, ratio: pubS / plainS }, publish };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runLayoutBench({ partitions: arg('partitions', 1000), rowsPerPartition: arg('rows-per-partition', 10_000) });
  printTable(`full scan: published dataset (${r.scan.partitions} partitions x 3 versions, ${r.scan.rowsPerPartition} rows each) vs plain table`, [
    { table: 'plain table', seconds: r.scan.plain.toFixed(3), ratio: '1.00' },
    { table: 'sluice published dataset', seconds: r.scan.published.toFixed(3), ratio: r.scan.ratio.toFixed(2) },
  ]);
  printTable('publish one partition (median of 5)', r.publish.map((p) => ({ dataset_partitions: p.datasetPartitions, partition_rows: p.partitionRows, seconds: p.seconds.toFixed(3) })));
}
