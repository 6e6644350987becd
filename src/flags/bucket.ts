import { md5Prefix32, md5Scratch } from './md5.ts';
import { murmur3 } from './murmur3.ts';
import { Utf8Scratch } from './utf8-scratch.ts';

/**
 * Sluice's slice bucket, the one documented hash every engine reproduces:
 *
 *   bucket(salt, key) = uint32(first 8 hex digits of md5(utf8(salt + ':' + key))) mod 10000
 *
 * giving 0..9999. A key is inside a p % slice iff bucket < p * 100, so slices are monotone: a key
 * inside at 10 % is inside at 50 %. Keys are compared as text: numbers use their JavaScript string
 * form (integers match SQL's CAST(x AS VARCHAR)); a null or undefined key has no bucket.
 * `bucketSql` in bucket-sql.ts is the same expression for DuckDB and PostgreSQL.
 */
export const BUCKETS = 10000;

const scratch = new Utf8Scratch();
// The encoded `salt:` prefix of the last call stays at the start of the scratch buffer (hashing only
// writes past the message), so consecutive calls with one salt encode only the key.
let lastSalt: string | undefined;
let prefixLen = 0;

export function bucket(salt: string, key: string | number): number {
  if (salt !== lastSalt) {
    lastSalt = undefined;
    prefixLen = scratch.write(salt, 0);
    scratch.bytes[prefixLen++] = 0x3a;
    lastSalt = salt;
  }
  const len = scratch.write(typeof key === 'string' ? key : String(key), prefixLen);
  return md5Prefix32(md5Scratch(scratch, len)) % BUCKETS;
}

/** True when `key` falls inside a `percentage` % slice (0..100, fractions allowed: 12.5 → buckets 0..1249). */
export function inSlice(salt: string, key: string | number, percentage: number): boolean {
  return bucket(salt, key) < Math.round(percentage * 100);
}

/** The bucket bound a percentage maps to: keys with bucket < bound are inside. */
export function sliceBound(percentage: number): number {
  return Math.round(percentage * 100);
}

/**
 * Hashes many keys under one salt: the salt prefix is encoded once and each key written after it.
 * Null and undefined keys get `noBucket` (default 65535, above every bucket, so they are never inside).
 */
export function bucketMany(salt: string, keys: ArrayLike<string | number | null | undefined>, out?: Uint16Array, noBucket = 0xffff): Uint16Array {
  const n = keys.length;
  const res = out ?? new Uint16Array(n);
  const s = new Utf8Scratch();
  let prefixLen = s.write(salt, 0);
  s.bytes[prefixLen++] = 0x3a;
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    if (k === null || k === undefined) {
      res[i] = noBucket;
      continue;
    }
    // The prefix stays in place: md5Scratch pads only past the message, and a grown buffer keeps its bytes.
    const len = s.write(typeof k === 'string' ? k : String(k), prefixLen);
    res[i] = md5Prefix32(md5Scratch(s, len)) % BUCKETS;
  }
  return res;
}

/** Unleash's normalized hash: (murmur3_x86_32(groupId + ':' + id, seed) mod normalizer) + 1, in 1..normalizer. */
export function unleashNormalizedValue(id: string, groupId: string, normalizer = 100, seed = 0): number {
  return (murmur3(`${groupId}:${id}`, seed) % normalizer) + 1;
}

/** The seed Unleash uses when it hashes for variants rather than for rollout. */
export const UNLEASH_VARIANT_SEED = 86028157;
