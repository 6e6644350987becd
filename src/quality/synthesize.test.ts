import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBEngine } from '../engine/duckdb/duckdb-engine.ts';
import { synthesize } from './synthesize.ts';

const schema = {
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: 'BIGINT', nullable: false },
    { name: 'name', type: 'VARCHAR', nullable: true },
    { name: 'amount', type: 'DOUBLE', nullable: true },
    { name: 'qty', type: 'INTEGER', nullable: false },
    { name: 'event_at', type: 'TIMESTAMP', nullable: true },
    { name: 'paid', type: 'BOOLEAN', nullable: true },
  ],
};

test('synthesize writes edge cases, deterministic for a seed, and a Parquet file through COPY', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-synth-'));
  try {
    await using db = await DuckDBEngine.open(':memory:');
    const now = new Date('2026-02-01T00:00:00Z');
    const file = join(dir, 'orders.parquet');
    const r = await synthesize(db, schema, { rows: 500, seed: 7, target: 'synth_a', now, file: { path: file, format: 'parquet' } });
    await synthesize(db, schema, { rows: 500, seed: 7, target: 'synth_b', now });
    await synthesize(db, schema, { rows: 500, seed: 8, target: 'synth_c', now });
    const same = await db.query(`SELECT count(*) AS n FROM (SELECT * FROM synth_a EXCEPT ALL SELECT * FROM synth_b)`);
    assert.equal(same[0]?.['n'], 0, 'same seed, same rows');
    const diff = await db.query(`SELECT count(*) AS n FROM (SELECT * FROM synth_a EXCEPT ALL SELECT * FROM synth_c)`);
    assert.ok(Number(diff[0]?.['n']) > 0, 'another seed, other rows');
    const [s] = await db.query(`SELECT count(*) - count(DISTINCT id) AS dup_keys,
        count(*) FILTER (WHERE name IS NULL) AS null_names, count(*) FILTER (WHERE name = '') AS empty_names,
        count(*) FILTER (WHERE name LIKE '%😀%') AS emoji, count(*) FILTER (WHERE isnan(amount)) AS nans,
        count(*) FILTER (WHERE qty = 2147483647) AS max_qty, count(*) FILTER (WHERE qty IS NULL) AS null_qty,
        count(*) FILTER (WHERE event_at < TIMESTAMP '2026-01-25') AS late, count(*) FILTER (WHERE event_at > TIMESTAMP '2026-02-01') AS future
      FROM read_parquet('${file}')`);
    assert.equal(s?.['dup_keys'], 10, 'rows 49, 99, ... 499 repeat the previous key');
    for (const k of ['null_names', 'empty_names', 'emoji', 'nans', 'max_qty', 'late', 'future']) assert.ok(Number(s?.[k]) > 0, k);
    assert.equal(s?.['null_qty'], 0, 'non-null columns get no nulls');
    assert.ok(r.edges['name']?.includes('emoji'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
