// Quality benchmark: Sluice's fused checks vs one hand-written DuckDB query per check on a
// 10-million-row table, and Sluice's diff vs a hand-written FULL OUTER JOIN on two 5M-row tables.
// Standalone: npx tsx bench/quality.bench.ts [--rows N] [--repeats K]
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { DuckDBEngine } from '../src/engine/duckdb/duckdb-engine.ts';
import { diffTables, parseChecks, runChecks } from '../src/quality/index.ts';

export interface QualityBenchOptions {
  readonly rows?: number;
  readonly repeats?: number;
  readonly log?: (line: string) => void;
}

export interface QualityBenchRow {
  readonly name: string;
  readonly seconds: number | null;
  /** seconds / seconds of the row it is compared with (the hand-written baseline), where one applies. */
  readonly ratio?: number;
  readonly note?: string;
}

const REGEX = '^v[0-9]+$';

async function timed(repeats: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? NaN;
}

export async function runQualityBench(opts: QualityBenchOptions = {}): Promise<QualityBenchRow[]> {
  const rows = opts.rows ?? 10_000_000;
  const diffRows = Math.max(1, Math.floor(rows / 2));
  const repeats = opts.repeats ?? 3;
  const log = opts.log ?? ((l: string) => console.log(l));
  const out: QualityBenchRow[] = [];
  await using db = await DuckDBEngine.open(':memory:');
  log(`building a ${rows.toLocaleString('en')}-row table (id unique int, g 0..99, x double, s text with 14 % nulls)`);
  await db.exec(`CREATE TABLE t AS SELECT range::BIGINT AS id, (range % 100)::INTEGER AS g, random() AS x,
      CASE WHEN random() < 0.14 THEN NULL ELSE 'v' || (range % 100000)::VARCHAR END AS s FROM range(${rows})`);

  const inList = Array.from({ length: 100 }, (_, i) => i);
  const parsed = parseChecks([
    { check: 'not_null', column: 's', mostly: 0.8 },
    { check: 'unique', column: 'id' },
    { check: 'between', column: 'x', min: 0, max: 1 },
    { check: 'in_set', column: 'g', values: inList },
    { check: 'regex', column: 's', pattern: REGEX },
    { check: 'row_count_between', min: 1 },
  ]);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const handWritten = [
    `SELECT count(*) AS u FROM t WHERE s IS NULL`,
    `SELECT count(*) - count(DISTINCT id) AS u FROM t`,
    `SELECT count(*) AS u FROM t WHERE x IS NOT NULL AND NOT (x BETWEEN 0 AND 1)`,
    `SELECT count(*) AS u FROM t WHERE g IS NOT NULL AND g NOT IN (${inList.join(', ')})`,
    `SELECT count(*) AS u FROM t WHERE s IS NOT NULL AND NOT regexp_matches(s, '${REGEX}')`,
    `SELECT count(*) AS n FROM t`,
  ];
  // One warm-up of each so neither side pays for first-touch costs.
  const report = await runChecks(db, 't', parsed.checks);
  for (const q of handWritten) await db.query(q);
  const perCheck = await timed(repeats, async () => {
    for (const q of handWritten) await db.query(q);
  });
  const fused = await timed(repeats, () => runChecks(db, 't', parsed.checks));
  out.push({ name: 'checks: one hand-written DuckDB query per check (6 queries)', seconds: perCheck });
  out.push({ name: `checks: Sluice fused runChecks (${report.queries.length} statements)`, seconds: fused, ratio: fused / perCheck });
  out.push(pandera(rows));

  log(`building two ${diffRows.toLocaleString('en')}-row tables, 1 % of rows changed`);
  await db.exec(`CREATE TABLE a AS SELECT range::BIGINT AS id, (range % 97)::INTEGER AS g, (range * 0.5)::DOUBLE AS x, 'n' || range::VARCHAR AS s FROM range(${diffRows})`);
  await db.exec(`CREATE TABLE b AS SELECT id, g, CASE WHEN id % 100 = 7 THEN x + 1 ELSE x END AS x, s FROM a`);
  await db.exec(`CREATE TABLE a2 AS SELECT * FROM a`);
  const join = `SELECT count(*) FILTER (WHERE b.id IS NULL) AS only_a, count(*) FILTER (WHERE a.id IS NULL) AS only_b,
      count(*) FILTER (WHERE a.id IS NOT NULL AND b.id IS NOT NULL AND (a.g IS DISTINCT FROM b.g OR a.x IS DISTINCT FROM b.x OR a.s IS DISTINCT FROM b.s)) AS changed
      FROM a FULL OUTER JOIN b ON a.id = b.id`;
  await db.query(join);
  const hand = await timed(repeats, () => db.query(join));
  const sluiceDiff = await timed(repeats, () => diffTables(db, 'a', 'b', { key: ['id'] }));
  const equalDiff = await timed(repeats, () => diffTables(db, 'a', 'a2', { key: ['id'] }));
  out.push({ name: 'diff (1 % changed): hand-written FULL OUTER JOIN', seconds: hand });
  out.push({ name: 'diff (1 % changed): Sluice diffTables (checksum, join, samples)', seconds: sluiceDiff, ratio: sluiceDiff / hand });
  out.push({ name: 'diff (equal tables): Sluice diffTables, checksum short cut', seconds: equalDiff, ratio: equalDiff / hand });
  return out;
}

function pandera(rows: number): QualityBenchRow {
  const probe = spawnSync('python3', ['-c', 'import pandera, pandas'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    const why = (probe.stderr || probe.error?.message || 'python3 not found').trim().split('\n').pop() ?? '';
    return { name: 'checks: pandera + pandas', seconds: null, note: `skipped: ${why} (nothing is installed; needs wheels already on disk)` };
  }
  const script = `
import time, numpy as np, pandas as pd, pandera.pandas as pa
n=${rows}
rng=np.random.default_rng(1)
s=pd.Series(['v'+str(i%100000) for i in range(n)], dtype='object'); s[rng.random(n)<0.14]=None
df=pd.DataFrame({'id':np.arange(n),'g':np.arange(n)%100,'x':rng.random(n),'s':s})
schema=pa.DataFrameSchema({'id':pa.Column(int,unique=True),'g':pa.Column(int,pa.Check.isin(list(range(100)))),'x':pa.Column(float,pa.Check.in_range(0,1)),'s':pa.Column(str,pa.Check.str_matches(r'${REGEX}'),nullable=True)},checks=pa.Check(lambda d: len(d)>=1))
t=time.perf_counter(); schema.validate(df); print(time.perf_counter()-t)`;
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
  const seconds = Number(r.stdout.trim().split('\n').pop());
  return Number.isFinite(seconds) ? { name: 'checks: pandera + pandas', seconds } : { name: 'checks: pandera + pandas', seconds: null, note: `failed: ${r.stderr.trim().split('\n').pop()}` };
}

export function formatQualityBench(rows: readonly QualityBenchRow[]): string {
  return rows
    .map((r) => `${r.name.padEnd(66)} ${r.seconds === null ? '     -' : r.seconds.toFixed(3).padStart(6)} s${r.ratio !== undefined ? `  x${r.ratio.toFixed(2)}` : ''}${r.note ? `  ${r.note}` : ''}`)
    .join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const rows = await runQualityBench({ ...(arg('rows') ? { rows: arg('rows') } : {}), ...(arg('repeats') ? { repeats: arg('repeats') } : {}) });
  console.log(formatQualityBench(rows));
}
