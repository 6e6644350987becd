import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBEngine } from '../engine/duckdb/duckdb-engine.ts';
import { diffTables } from './diff-tables.ts';
import { columnDrift, psi } from './column-drift.ts';

async function pair(): Promise<DuckDBEngine> {
  const db = await DuckDBEngine.open(':memory:');
  await db.exec(`CREATE TABLE base AS SELECT range AS id, range % 7 AS g, 'n' || range AS name, range * 0.5 AS x FROM range(1000)`);
  await db.exec(`CREATE TABLE same AS SELECT * FROM base ORDER BY id DESC`);
  await db.exec(`CREATE TABLE cand AS SELECT id, g, CASE WHEN id % 100 = 3 THEN 'changed' ELSE name END AS name,
      CASE WHEN id IN (3, 4) THEN x + 1 ELSE x END AS x, id AS extra FROM base WHERE id <> 10 UNION ALL SELECT 5000, 1, 'new', 0, 0`);
  return db;
}

describe('diffTables', () => {
  test('equal tables in a different row order end at the checksum, with no join', async () => {
    await using db = await pair();
    const d = await diffTables(db, 'base', 'same', { key: ['id'] });
    assert.equal(d.method, 'checksum');
    assert.deepEqual([d.onlyLeft, d.onlyRight, d.changed, d.unchanged], [0, 0, 0, 1000]);
    assert.equal(d.queries.length, 1);
  });

  test('rows only left, only right, changed per column, unchanged, with samples', async () => {
    await using db = await pair();
    const d = await diffTables(db, 'base', 'cand', { key: ['id'], sampleSize: 3 });
    assert.equal(d.method, 'join');
    assert.deepEqual([d.leftRows, d.rightRows, d.onlyLeft, d.onlyRight, d.changed, d.unchanged], [1000, 1000, 1, 1, 11, 988]);
    assert.deepEqual(d.changedByColumn, { g: 0, name: 10, x: 2 });
    assert.deepEqual(d.columnsOnlyRight, ['extra']);
    assert.deepEqual(d.samples.onlyLeft.map((r) => r['id']), [10]);
    assert.deepEqual(d.samples.onlyRight.map((r) => r['id']), [5000]);
    assert.deepEqual(d.samples.changed[0], { key: { id: 3 }, changedColumns: ['name', 'x'], left: { name: 'n3', x: 1.5 }, right: { name: 'changed', x: 2.5 } });
  });

  test('samples are the same whether the engine gathers them inside the join or with extra queries', async () => {
    await using db = await pair();
    const inJoin = await diffTables(db, 'base', 'cand', { key: ['id'], sampleSize: 3 });
    const separate = await diffTables(db, 'base', 'cand', { key: ['id'], sampleSize: 3, dialect: { ...db.dialect, firstRowsAggregate: undefined } });
    assert.deepEqual(separate.samples, inJoin.samples);
    assert.equal(inJoin.queries.length, 2, 'checksum + one join');
    assert.equal(separate.queries.length, 5);
  });

  test('duplicated rows do not cancel out in the checksum', async () => {
    await using db = await DuckDBEngine.open(':memory:');
    await db.exec(`CREATE TABLE a AS SELECT * FROM (VALUES (1, 'x'), (1, 'x'), (2, 'y')) v(k, s)`);
    await db.exec(`CREATE TABLE b AS SELECT * FROM (VALUES (2, 'y'), (3, 'z'), (3, 'z')) v(k, s)`);
    const d = await diffTables(db, 'a', 'b', { key: ['k'] });
    assert.equal(d.method, 'join');
  });

  test('a key missing on one side is a usage error naming the field', async () => {
    await using db = await pair();
    await assert.rejects(diffTables(db, 'base', 'cand', { key: ['extra'] }), /key column\(s\) extra missing/);
  });
});

describe('columnDrift', () => {
  test('PSI and KS are near zero for the same distribution and large for a shifted one', async () => {
    await using db = await DuckDBEngine.open(':memory:');
    await db.exec(`CREATE TABLE b AS SELECT (range % 1000)::DOUBLE AS x, ['a', 'b', 'c'][1 + range % 3] AS cat FROM range(30000)`);
    await db.exec(`CREATE TABLE same AS SELECT * FROM b ORDER BY x`);
    await db.exec(`CREATE TABLE shifted AS SELECT x + 300 AS x, CASE WHEN cat = 'c' THEN 'a' ELSE cat END AS cat FROM b`);
    const [sx, scat] = await columnDrift(db, 'b', 'same');
    assert.equal(sx?.kind, 'numeric');
    assert.ok((sx?.psi ?? 1) < 1e-9 && sx?.ks === 0);
    assert.equal(sx?.bins.length, 10);
    assert.equal(scat?.kind, 'categorical');
    assert.ok((scat?.psi ?? 1) < 1e-9);
    const [dx, dcat] = await columnDrift(db, 'b', 'shifted');
    assert.ok((dx?.psi ?? 0) > 1, `numeric psi ${dx?.psi}`);
    assert.ok(Math.abs((dx?.ks ?? 0) - 0.3) < 1e-9, `ks ${dx?.ks}`);
    assert.ok((dcat?.psi ?? 0) > 0.25, `categorical psi ${dcat?.psi}`);
    assert.deepEqual(dcat?.bins.find((b) => b.label === 'c'), { label: 'c', baseline: 10000, candidate: 0 });
  });

  test('psi of identical shares is 0 and grows with the shift', () => {
    assert.equal(psi([{ label: 'a', baseline: 5, candidate: 50 }, { label: 'b', baseline: 5, candidate: 50 }]), 0);
    const small = psi([{ label: 'a', baseline: 50, candidate: 55 }, { label: 'b', baseline: 50, candidate: 45 }]);
    const big = psi([{ label: 'a', baseline: 50, candidate: 90 }, { label: 'b', baseline: 50, candidate: 10 }]);
    assert.ok(small > 0 && small < 0.05 && big > 0.5);
  });
});
