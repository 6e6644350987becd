// PostgreSQL warehouse publish mechanisms, measured on a throwaway server (docs/decisions/0009):
//   npx tsx bench/postgres-publish.bench.ts [--partitions 1000] [--rows 1000]
// (a) a view over the pointed version tables, replaced in the publish transaction, with and
//     without a lock timeout: how long new readers in another connection wait while a long
//     reader holds the view; uncontended publish latency; reads through the view vs a plain table;
// (b) declarative partitions: DETACH + ATTACH in one transaction under the same long reader, and
//     what ATTACH costs with and without a matching CHECK constraint.
import pg from 'pg';
import { startPostgres } from '../test/support/postgres-server.ts';
import { PostgresWarehouse } from '../src/engine/postgres/postgres-warehouse.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const partitions = arg('--partitions', 1000);
const rowsEach = arg('--rows', 1000);
const at = new Date('2026-11-20T10:00:00Z');
const LONG_S = 1.5;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const ms = (x: number): string => `${x.toFixed(1)} ms`;

const server = await startPostgres();
try {
  const url = server.url;
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();

  /** A long reader (one statement of LONG_S), a change in another connection, and new readers polling until it is done. */
  async function underLongReader(read: string, change: () => Promise<unknown>): Promise<{ changeMs: number; maxMs: number; queries: number }> {
    const long = new pg.Client({ connectionString: url });
    const reader = new pg.Client({ connectionString: url });
    await long.connect();
    await reader.connect();
    const holding = long.query(`SELECT count(*) FROM ${read}, pg_sleep(${LONG_S})`);
    await new Promise((r) => setTimeout(r, 150));
    const t0 = performance.now();
    let done = false;
    const changing = change().then(() => ((done = true), performance.now() - t0));
    await new Promise((r) => setTimeout(r, 50));
    let maxMs = 0;
    let queries = 0;
    while (!done) {
      const q0 = performance.now();
      await reader.query(`SELECT count(*) FROM ${read}`);
      maxMs = Math.max(maxMs, performance.now() - q0);
      queries++;
      await new Promise((r) => setTimeout(r, 5));
    }
    const changeMs = await changing;
    await holding;
    await long.end();
    await reader.end();
    return { changeMs, maxMs, queries };
  }

  // ---- (a) views -----------------------------------------------------------------------------
  const w = await PostgresWarehouse.open(url);
  const t0 = performance.now();
  {
    await using s = await w.openSession();
    for (let p = 0; p < partitions; p++) {
      await s.createOutputVersion({ id: `r1.${p}`, pipeline: 'b', step: 's', stepVersion: 'v1', versionHash: 'h', partition: `p${p}`, runId: 1 }, `SELECT i AS id, 'p${p}' AS part, i * 1.0 AS amount FROM generate_series(1, ${rowsEach}) AS g(i)`, at);
    }
    for (let p = 0; p < 10; p++) await s.createOutputVersion({ id: `small.${p}`, pipeline: 'b', step: 'small', stepVersion: 'v1', versionHash: 'h', partition: `p${p}`, runId: 1 }, `SELECT i AS id, 'p${p}' AS part, i * 1.0 AS amount FROM generate_series(1, 100) AS g(i)`, at);
    await s.createOutputVersion({ id: 'small.0b', pipeline: 'b', step: 'small', stepVersion: 'v2', versionHash: 'h', partition: 'p0', runId: 2 }, `SELECT i AS id, 'p0' AS part, i * 2.0 AS amount FROM generate_series(1, 100) AS g(i)`, at);
    await s.createOutputVersion({ id: 'r2.0', pipeline: 'b', step: 's', stepVersion: 'v2', versionHash: 'h', partition: 'p0', runId: 2 }, `SELECT i AS id, 'p0' AS part, i * 2.0 AS amount FROM generate_series(1, ${rowsEach}) AS g(i)`, at);
  }
  const writeS = (performance.now() - t0) / 1000;
  const item = (p: number, v: string) => ({ dataset: 'bench', partitionColumn: 'part', partition: `p${p}`, versionId: v });
  await w.publish(Array.from({ length: partitions }, (_, p) => item(p, `r1.${p}`)), { runId: 1, actor: 'b', reason: 'all', at });
  const smallItem = (p: number, v: string) => ({ dataset: 'small', partitionColumn: 'part', partition: `p${p}`, versionId: v });
  await w.publish(Array.from({ length: 10 }, (_, p) => smallItem(p, `small.${p}`)), { runId: 1, actor: 'b', reason: 'all', at });
  await w.close();
  console.log(`(a) ${partitions} partitions x ${rowsEach} rows written as version tables in ${writeS.toFixed(1)} s`);

  const table = '"public"."bench"';
  {
    const xs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const q0 = performance.now();
      await sql.query(`SELECT count(*) FROM ${table}`);
      xs.push(performance.now() - q0);
    }
    console.log(`(a) a reader's own query (count over the view, no publish): median ${ms(median(xs))}, max ${ms(Math.max(...xs))}`);
  }
  // Lock waits alone: a dataset of 10 small partitions, so a new reader's own query takes well under a millisecond.
  for (const timeout of [60_000, 20, 10, 5]) {
    const wt = await PostgresWarehouse.open(url, { publishLockTimeoutMs: timeout });
    let flip = 0;
    const r = await underLongReader('"public"."small"', () => wt.publish([smallItem(0, flip++ % 2 === 0 ? 'small.0b' : 'small.0')], { runId: null, actor: 'b', reason: 'flip', at }));
    console.log(`(a) lock_timeout ${timeout === 60_000 ? 'none' : `${timeout} ms`}: publish ${ms(r.changeMs)} behind a ${LONG_S} s reader; new readers waited at most ${ms(r.maxMs)} (${r.queries} queries)`);
    await wt.publish([smallItem(0, 'small.0')], { runId: null, actor: 'b', reason: 'reset', at });
    await wt.close();
  }
  // The same with the reader's own query planning 1000 branches (hundreds of ms each): readers overlap, the publish must find a gap.
  {
    const wt = await PostgresWarehouse.open(url, { publishLockTimeoutMs: 10 });
    const r = await underLongReader(table, () => wt.publish([item(0, 'r2.0')], { runId: null, actor: 'b', reason: 'flip', at }));
    console.log(`(a) lock_timeout 10 ms, ${partitions} partitions: publish ${ms(r.changeMs)} behind a ${LONG_S} s reader and a reader querying back to back; its queries took at most ${ms(r.maxMs)} (${r.queries} queries)`);
    await wt.publish([item(0, 'r1.0')], { runId: null, actor: 'b', reason: 'reset', at });
    await wt.close();
  }

  const wp = await PostgresWarehouse.open(url);
  const lat: number[] = [];
  for (let i = 0; i < 7; i++) {
    const q0 = performance.now();
    await wp.publish([item(0, i % 2 === 0 ? 'r2.0' : 'r1.0')], { runId: null, actor: 'b', reason: 'flip', at });
    lat.push(performance.now() - q0);
  }
  console.log(`(a) uncontended publish of one partition of ${partitions}: median ${ms(median(lat))}`);
  await wp.close();

  await sql.query(`DROP TABLE IF EXISTS plain; CREATE TABLE plain AS SELECT * FROM ${table}; ANALYZE plain`);
  const timed = async (q: string): Promise<number> => {
    const xs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const q0 = performance.now();
      await sql.query(q);
      xs.push(performance.now() - q0);
    }
    return median(xs);
  };
  for (const [what, where] of [['full scan', ''], ['one partition', ` WHERE part = 'p${Math.floor(partitions / 2)}'`]] as const) {
    const v = await timed(`SELECT count(*), sum(amount) FROM ${table}${where}`);
    const p = await timed(`SELECT count(*), sum(amount) FROM plain${where}`);
    console.log(`(a) ${what}: view ${ms(v)}, plain table ${ms(p)} (${(v / p).toFixed(2)}x)`);
  }

  // ---- (b') one parent per dataset partitioned by version id, filtered by the pointers ------------
  // Publishing would be an UPDATE of the pointer rows (no DDL, no lock on what readers read); what do reads cost?
  await sql.query(`CREATE TABLE byver (id INTEGER, part TEXT, amount NUMERIC, sluice_version TEXT NOT NULL) PARTITION BY LIST (sluice_version)`);
  await sql.query(`CREATE TABLE byver_ptr (partition TEXT PRIMARY KEY, version_id TEXT NOT NULL)`);
  for (let p = 0; p < partitions; p++) {
    for (const gen of [1, 2]) {
      const v = `g${gen}.${p}`;
      await sql.query(`CREATE TABLE "byver_${v}" AS SELECT i AS id, 'p${p}' AS part, i * ${gen}.0 AS amount, CAST('${v}' AS TEXT) AS sluice_version FROM generate_series(1, ${rowsEach}) AS g(i)`);
      await sql.query(`ALTER TABLE "byver_${v}" ALTER COLUMN sluice_version SET NOT NULL, ADD CONSTRAINT own CHECK (sluice_version = '${v}' AND part = 'p${p}')`);
      await sql.query(`ALTER TABLE byver ATTACH PARTITION "byver_${v}" FOR VALUES IN ('${v}')`);
    }
    await sql.query(`INSERT INTO byver_ptr VALUES ('p${p}', 'g1.${p}')`);
  }
  await sql.query(`ANALYZE byver; ANALYZE byver_ptr; CREATE VIEW byver_view AS SELECT id, part, amount FROM byver WHERE sluice_version = ANY (ARRAY(SELECT version_id FROM byver_ptr))`);
  for (const [what, where] of [['full scan', ''], ['one partition', ` WHERE part = 'p${Math.floor(partitions / 2)}'`]] as const) {
    const v = await timed(`SELECT count(*), sum(amount) FROM byver_view${where}`);
    const p = await timed(`SELECT count(*), sum(amount) FROM plain${where}`);
    console.log(`(b') ${what} over ${2 * partitions} attached versions (${partitions} pointed): ${ms(v)}, plain table ${ms(p)} (${(v / p).toFixed(2)}x)`);
  }
  {
    const q0 = performance.now();
    await sql.query(`UPDATE byver_ptr SET version_id = 'g2.0' WHERE partition = 'p0'`);
    console.log(`(b') publish = pointer UPDATE: ${ms(performance.now() - q0)}`);
  }

  // ---- (b) declarative partitions ---------------------------------------------------------------
  await sql.query(`CREATE TABLE parted (id INTEGER, part TEXT, amount NUMERIC) PARTITION BY LIST (part)`);
  for (const v of ['v1', 'v2']) {
    await sql.query(`CREATE TABLE parted_${v} AS SELECT i AS id, 'p0' AS part, i * 1.0 AS amount FROM generate_series(1, ${rowsEach}) AS g(i)`);
    await sql.query(`ALTER TABLE parted_${v} ADD CONSTRAINT in_p0 CHECK (part IS NOT NULL AND part = 'p0')`);
  }
  await sql.query(`ALTER TABLE parted ATTACH PARTITION parted_v1 FOR VALUES IN ('p0')`);
  let cur = 'v1';
  const swap = async (c: pg.Client, timeout?: number): Promise<void> => {
    const next = cur === 'v1' ? 'v2' : 'v1';
    for (;;) {
      await c.query('BEGIN');
      if (timeout) await c.query(`SET LOCAL lock_timeout = '${timeout}ms'`);
      try {
        await c.query(`ALTER TABLE parted DETACH PARTITION parted_${cur}`);
        await c.query(`ALTER TABLE parted ATTACH PARTITION parted_${next} FOR VALUES IN ('p0')`);
        await c.query('COMMIT');
        cur = next;
        return;
      } catch (e) {
        await c.query('ROLLBACK');
        if ((e as { code?: string }).code !== '55P03') throw e;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const swapper = new pg.Client({ connectionString: url });
  await swapper.connect();
  for (const timeout of [undefined, 10]) {
    const r = await underLongReader('parted', () => swap(swapper, timeout));
    console.log(`(b) DETACH + ATTACH in one transaction, lock_timeout ${timeout ? `${timeout} ms` : 'none'}: ${ms(r.changeMs)} behind a ${LONG_S} s reader; new readers waited at most ${ms(r.maxMs)} (${r.queries} queries)`);
  }
  await swapper.end();
  // Reads of a parent with as many partitions as (a) has branches.
  await sql.query(`CREATE TABLE parted_many (id INTEGER, part TEXT, amount NUMERIC) PARTITION BY LIST (part)`);
  for (let p = 0; p < partitions; p++) await sql.query(`CREATE TABLE parted_many_${p} PARTITION OF parted_many FOR VALUES IN ('p${p}')`);
  await sql.query(`INSERT INTO parted_many SELECT * FROM plain; ANALYZE parted_many`);
  for (const [what, where] of [['full scan', ''], ['one partition', ` WHERE part = 'p${Math.floor(partitions / 2)}'`]] as const) {
    const v = await timed(`SELECT count(*), sum(amount) FROM parted_many${where}`);
    const p = await timed(`SELECT count(*), sum(amount) FROM plain${where}`);
    console.log(`(b) ${what} over ${partitions} partitions: ${ms(v)}, plain table ${ms(p)} (${(v / p).toFixed(2)}x)`);
  }
  // ATTACH validates the partition constraint by a scan unless a CHECK constraint implies it.
  const big = rowsEach * 1000;
  await sql.query(`CREATE TABLE attach_scan AS SELECT i AS id, 'p1' AS part, i * 1.0 AS amount FROM generate_series(1, ${big}) AS g(i)`);
  let a0 = performance.now();
  await sql.query(`ALTER TABLE parted ATTACH PARTITION attach_scan FOR VALUES IN ('p1')`);
  const scan = performance.now() - a0;
  await sql.query(`ALTER TABLE parted DETACH PARTITION attach_scan; ALTER TABLE attach_scan ADD CONSTRAINT in_p1 CHECK (part IS NOT NULL AND part = 'p1')`);
  a0 = performance.now();
  await sql.query(`ALTER TABLE parted ATTACH PARTITION attach_scan FOR VALUES IN ('p1')`);
  console.log(`(b) ATTACH of ${big.toLocaleString('en-US')} rows: ${ms(scan)} validating by scan, ${ms(performance.now() - a0)} with a matching CHECK`);
  await sql.end();
} finally {
  await server.stop();
}
