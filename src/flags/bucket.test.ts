import { duckdbDialect } from '../engine/duckdb/duckdb-dialect.ts';
import { postgresDialect } from '../engine/postgres/postgres-dialect.ts';
import pg from 'pg';
import { postgresUnavailable, startPostgres } from '../../test/support/postgres-server.ts';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import mm from 'murmurhash3js';
import { DuckDBEngine } from '../engine/duckdb/duckdb-engine.ts';
import { bucket, bucketMany, inSlice, unleashNormalizedValue } from './bucket.ts';
import { bucketSql, sliceSql } from './bucket-sql.ts';
import { md5Hex } from './md5.ts';
import { murmur3 } from './murmur3.ts';

const SALT = "clean_orders'v2";

function reference(salt: string, key: string | number): number {
  return parseInt(createHash('md5').update(`${salt}:${key}`).digest('hex').slice(0, 8), 16) % 10000;
}

/** 120k keys of every kind the slice key column can hold: strings, unicode, empty, long, quotes. */
function stringKeys(): string[] {
  const keys: string[] = ['', ' ', "o'brien", 'ümlaut', '😊', '你好世界', 'a'.repeat(55), 'b'.repeat(56), 'c'.repeat(64), 'd'.repeat(130)];
  for (let i = 0; i < 100_000; i++) keys.push(`order-${i}`);
  for (let i = 0; i < 10_000; i++) keys.push(`кл${i}é✓${'x'.repeat(i % 70)}`);
  return keys;
}

describe('invariant: sticky, monotone slices', () => {
  test('md5 matches node:crypto on ascii, unicode, empty and multi-block input', () => {
    for (const s of ['', 'a', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(119), 'é😊中', 'z'.repeat(1000)]) {
      assert.equal(md5Hex(s), createHash('md5').update(s).digest('hex'));
    }
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => md5Hex(s) === createHash('md5').update(s).digest('hex')));
  });

  test('bucket is the documented md5 prefix mod 10000 for strings and numbers', () => {
    for (const k of ['', 'k1', 42, -7, 'é', '😊']) assert.equal(bucket(SALT, k), reference(SALT, k));
    const many = bucketMany(SALT, ['a', 1, null, undefined, '']);
    assert.deepEqual([...many], [reference(SALT, 'a'), reference(SALT, 1), 0xffff, 0xffff, reference(SALT, '')]);
  });

  test('the one-block path (midstate per salt, first word only) equals node:crypto for any salt and key', () => {
    // Salts shorter and longer than the 12 bytes a midstate needs, keys around the 55-byte one-block limit.
    const salts = ['', 'g', 'clean', 'clean_orders', "clean_orders'v2", 'é-salt', '😊😊😊', 'x'.repeat(60)];
    const keys = ['', 'k', 'customer-1', 'ümlaut', '你好', 'a'.repeat(40), 'b'.repeat(41), 'c'.repeat(43), 'd'.repeat(44), 'e'.repeat(60), 42, -7];
    for (const salt of salts) for (const k of keys) assert.equal(bucket(salt, k), reference(salt, k), `${salt} / ${k}`);
    // Alternating salts go through the hasher cache.
    fc.assert(fc.property(fc.array(fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 60 })), { maxLength: 30 }), (pairs) => pairs.every(([salt, k]) => bucket(salt, k) === reference(salt, k))));
    fc.assert(fc.property(fc.string({ maxLength: 16 }), fc.array(fc.string({ unit: 'binary', maxLength: 70 }), { maxLength: 40 }), (salt, ks) =>
      [...bucketMany(salt, ks)].every((b, i) => b === reference(salt, ks[i]!))));
  });

  test('a key inside a slice stays inside every larger slice', () => {
    const keys = stringKeys().slice(0, 20_000);
    const steps = [0, 1, 5, 10, 25, 50, 75, 99.99, 100];
    for (const k of keys) {
      let was = false;
      for (const p of steps) {
        const now = inSlice(SALT, k, p);
        assert.ok(!was || now, `key ${k} left the slice when it grew to ${p} %`);
        was = now;
      }
    }
    fc.assert(fc.property(fc.string(), fc.string(), fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (salt, key, a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      return !inSlice(salt, key, lo) || inSlice(salt, key, hi);
    }));
  });

  test('slices are the size asked for (10 % of 100k keys is 10 % ± 0.5)', () => {
    const keys = stringKeys().slice(10, 100_010);
    const inside = keys.filter((k) => inSlice(SALT, k, 10)).length;
    assert.ok(Math.abs(inside / keys.length - 0.1) < 0.005, `got ${inside}`);
    assert.equal(keys.filter((k) => inSlice(SALT, k, 0)).length, 0);
    assert.equal(keys.filter((k) => inSlice(SALT, k, 100)).length, keys.length);
  });

  test('DuckDB computes the identical bucket for 120k string keys and 20k integer keys', async () => {
    const db = await DuckDBEngine.open(':memory:');
    try {
      const keys = stringKeys();
      await db.exec('CREATE TABLE keys (i INTEGER, k VARCHAR)');
      for (let at = 0; at < keys.length; at += 10_000) {
        const rows = keys.slice(at, at + 10_000).map((k, j) => `(${at + j}, '${k.replace(/'/g, "''")}')`);
        await db.exec(`INSERT INTO keys VALUES ${rows.join(',')}`);
      }
      const rows = await db.query(`SELECT i, ${bucketSql(duckdbDialect, SALT, 'k')} AS b, ${sliceSql(duckdbDialect, SALT, 'k', 10)} AS s FROM keys ORDER BY i`);
      assert.equal(rows.length, keys.length);
      const ts = bucketMany(SALT, keys);
      let mismatches = 0;
      rows.forEach((r, i) => {
        if (r['b'] !== ts[i] || r['s'] !== ts[i]! < 1000) mismatches++;
      });
      assert.equal(mismatches, 0);

      const ints = await db.query(`SELECT i, ${bucketSql(duckdbDialect, SALT, 'i')} AS b FROM range(-10000, 10000) t(i) ORDER BY i`);
      for (const r of ints) assert.equal(r['b'], bucket(SALT, Number(r['i'])));

      const nulls = await db.query(`SELECT ${bucketSql(duckdbDialect, SALT, 'NULL')} AS b, ${sliceSql(duckdbDialect, SALT, 'NULL', 100)} AS s`);
      assert.deepEqual(nulls, [{ b: null, s: false }]);
    } finally {
      await db.close();
    }
  });

  test('PostgreSQL computes the identical bucket', { skip: postgresUnavailable() ?? false }, async () => {
    const server = await startPostgres();
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const keys = stringKeys();
      const sql = `SELECT ${bucketSql(postgresDialect, SALT, 'k')} AS b FROM unnest($1::text[]) WITH ORDINALITY AS t(k, i) ORDER BY i`;
      const res = await client.query<{ b: string }>(sql, [keys]);
      const ts = bucketMany(SALT, keys);
      assert.equal(res.rows.length, keys.length);
      assert.equal(res.rows.filter((r, i) => Number(r.b) !== ts[i]).length, 0);
      const ints = await client.query<{ b: string }>(`SELECT ${bucketSql(postgresDialect, SALT, 'k')} AS b FROM generate_series(1, 20000) AS t(k) ORDER BY k`);
      assert.equal(ints.rows.filter((r, i) => Number(r.b) !== bucket(SALT, i + 1)).length, 0, 'integer keys bucket like their decimal text');
    } finally {
      await client.end();
      await server.stop();
    }
  });
});


describe('Unleash murmur3 bucketing', () => {
  test('hand-written murmur3 agrees with murmurhash3js on ascii input for both seeds', () => {
    fc.assert(fc.property(fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)) }), (s) =>
      murmur3(s, 0) === mm.x86.hash32(s, 0) && murmur3(s, 86028157) === mm.x86.hash32(s, 86028157)));
  });

  test('normalized value is in 1..normalizer', () => {
    for (let i = 0; i < 1000; i++) {
      const v = unleashNormalizedValue(String(i), 'g', 100);
      assert.ok(v >= 1 && v <= 100);
    }
  });
});
