import { LITTLE_ENDIAN, Utf8Scratch } from './utf8-scratch.ts';

/**
 * MD5 (RFC 1321), written out for speed on short keys: bucketing hashes one short string per row,
 * and node:crypto's createHash costs about a microsecond per call in object churn alone, while this
 * runs in roughly a tenth of that. It is verified against node:crypto in md5.test.ts.
 */

function ff(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  a = (a + ((b & c) | (~b & d)) + x + t) | 0;
  return (((a << s) | (a >>> (32 - s))) + b) | 0;
}
function gg(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  a = (a + ((b & d) | (c & ~d)) + x + t) | 0;
  return (((a << s) | (a >>> (32 - s))) + b) | 0;
}
function hh(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  a = (a + (b ^ c ^ d) + x + t) | 0;
  return (((a << s) | (a >>> (32 - s))) + b) | 0;
}
function ii(a: number, b: number, c: number, d: number, x: number, s: number, t: number): number {
  a = (a + (c ^ (b | ~d)) + x + t) | 0;
  return (((a << s) | (a >>> (32 - s))) + b) | 0;
}

/** Runs the compression function over `blocks` 64-byte blocks of `w` and leaves the digest words in `st`. */
function compress(w: Int32Array, blocks: number, st: Int32Array): void {
  let a = 0x67452301 | 0;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476 | 0;
  for (let blk = 0; blk < blocks; blk++) {
    const o = blk * 16;
    const aa = a;
    const bb = b;
    const cc = c;
    const dd = d;
    a = ff(a, b, c, d, w[o + 0]!, 7, -680876936);
    d = ff(d, a, b, c, w[o + 1]!, 12, -389564586);
    c = ff(c, d, a, b, w[o + 2]!, 17, 606105819);
    b = ff(b, c, d, a, w[o + 3]!, 22, -1044525330);
    a = ff(a, b, c, d, w[o + 4]!, 7, -176418897);
    d = ff(d, a, b, c, w[o + 5]!, 12, 1200080426);
    c = ff(c, d, a, b, w[o + 6]!, 17, -1473231341);
    b = ff(b, c, d, a, w[o + 7]!, 22, -45705983);
    a = ff(a, b, c, d, w[o + 8]!, 7, 1770035416);
    d = ff(d, a, b, c, w[o + 9]!, 12, -1958414417);
    c = ff(c, d, a, b, w[o + 10]!, 17, -42063);
    b = ff(b, c, d, a, w[o + 11]!, 22, -1990404162);
    a = ff(a, b, c, d, w[o + 12]!, 7, 1804603682);
    d = ff(d, a, b, c, w[o + 13]!, 12, -40341101);
    c = ff(c, d, a, b, w[o + 14]!, 17, -1502002290);
    b = ff(b, c, d, a, w[o + 15]!, 22, 1236535329);
    a = gg(a, b, c, d, w[o + 1]!, 5, -165796510);
    d = gg(d, a, b, c, w[o + 6]!, 9, -1069501632);
    c = gg(c, d, a, b, w[o + 11]!, 14, 643717713);
    b = gg(b, c, d, a, w[o + 0]!, 20, -373897302);
    a = gg(a, b, c, d, w[o + 5]!, 5, -701558691);
    d = gg(d, a, b, c, w[o + 10]!, 9, 38016083);
    c = gg(c, d, a, b, w[o + 15]!, 14, -660478335);
    b = gg(b, c, d, a, w[o + 4]!, 20, -405537848);
    a = gg(a, b, c, d, w[o + 9]!, 5, 568446438);
    d = gg(d, a, b, c, w[o + 14]!, 9, -1019803690);
    c = gg(c, d, a, b, w[o + 3]!, 14, -187363961);
    b = gg(b, c, d, a, w[o + 8]!, 20, 1163531501);
    a = gg(a, b, c, d, w[o + 13]!, 5, -1444681467);
    d = gg(d, a, b, c, w[o + 2]!, 9, -51403784);
    c = gg(c, d, a, b, w[o + 7]!, 14, 1735328473);
    b = gg(b, c, d, a, w[o + 12]!, 20, -1926607734);
    a = hh(a, b, c, d, w[o + 5]!, 4, -378558);
    d = hh(d, a, b, c, w[o + 8]!, 11, -2022574463);
    c = hh(c, d, a, b, w[o + 11]!, 16, 1839030562);
    b = hh(b, c, d, a, w[o + 14]!, 23, -35309556);
    a = hh(a, b, c, d, w[o + 1]!, 4, -1530992060);
    d = hh(d, a, b, c, w[o + 4]!, 11, 1272893353);
    c = hh(c, d, a, b, w[o + 7]!, 16, -155497632);
    b = hh(b, c, d, a, w[o + 10]!, 23, -1094730640);
    a = hh(a, b, c, d, w[o + 13]!, 4, 681279174);
    d = hh(d, a, b, c, w[o + 0]!, 11, -358537222);
    c = hh(c, d, a, b, w[o + 3]!, 16, -722521979);
    b = hh(b, c, d, a, w[o + 6]!, 23, 76029189);
    a = hh(a, b, c, d, w[o + 9]!, 4, -640364487);
    d = hh(d, a, b, c, w[o + 12]!, 11, -421815835);
    c = hh(c, d, a, b, w[o + 15]!, 16, 530742520);
    b = hh(b, c, d, a, w[o + 2]!, 23, -995338651);
    a = ii(a, b, c, d, w[o + 0]!, 6, -198630844);
    d = ii(d, a, b, c, w[o + 7]!, 10, 1126891415);
    c = ii(c, d, a, b, w[o + 14]!, 15, -1416354905);
    b = ii(b, c, d, a, w[o + 5]!, 21, -57434055);
    a = ii(a, b, c, d, w[o + 12]!, 6, 1700485571);
    d = ii(d, a, b, c, w[o + 3]!, 10, -1894986606);
    c = ii(c, d, a, b, w[o + 10]!, 15, -1051523);
    b = ii(b, c, d, a, w[o + 1]!, 21, -2054922799);
    a = ii(a, b, c, d, w[o + 8]!, 6, 1873313359);
    d = ii(d, a, b, c, w[o + 15]!, 10, -30611744);
    c = ii(c, d, a, b, w[o + 6]!, 15, -1560198380);
    b = ii(b, c, d, a, w[o + 13]!, 21, 1309151649);
    a = ii(a, b, c, d, w[o + 4]!, 6, -145523070);
    d = ii(d, a, b, c, w[o + 11]!, 10, -1120210379);
    c = ii(c, d, a, b, w[o + 2]!, 15, 718787259);
    b = ii(b, c, d, a, w[o + 9]!, 21, -343485551);
    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }
  st[0] = a;
  st[1] = b;
  st[2] = c;
  st[3] = d;
}

const state = new Int32Array(4);

/**
 * Pads the `len` message bytes already in `scratch` (from offset 0) and hashes them; the digest
 * words end up in the returned array (valid until the next call).
 */
export function md5Scratch(scratch: Utf8Scratch, len: number): Int32Array {
  const bytes = scratch.bytes;
  const padded = ((len + 8) >>> 6) * 64 + 64;
  bytes[len] = 0x80;
  bytes.fill(0, len + 1, padded - 8);
  const bits = len * 8;
  bytes[padded - 8] = bits & 0xff;
  bytes[padded - 7] = (bits >>> 8) & 0xff;
  bytes[padded - 6] = (bits >>> 16) & 0xff;
  bytes[padded - 5] = (bits >>> 24) & 0xff;
  const hi = Math.floor(len / 0x20000000);
  bytes[padded - 4] = hi & 0xff;
  bytes[padded - 3] = (hi >>> 8) & 0xff;
  bytes[padded - 2] = 0;
  bytes[padded - 1] = 0;
  let w = scratch.words;
  if (!LITTLE_ENDIAN) w = toLittleEndianWords(bytes, padded);
  compress(w, padded >>> 6, state);
  return state;
}

function toLittleEndianWords(bytes: Uint8Array, n: number): Int32Array {
  const w = new Int32Array(n >>> 2);
  for (let i = 0; i < w.length; i++) {
    w[i] = bytes[i * 4]! | (bytes[i * 4 + 1]! << 8) | (bytes[i * 4 + 2]! << 16) | (bytes[i * 4 + 3]! << 24);
  }
  return w;
}

/** The digest's first four bytes read as a big-endian uint32, i.e. the first 8 hex digits of the MD5 as a number. */
export function md5Prefix32(words: Int32Array): number {
  const a = words[0]!;
  return (((a & 0xff) << 24) | ((a & 0xff00) << 8) | ((a >>> 8) & 0xff00) | ((a >>> 24) & 0xff)) >>> 0;
}

const hexScratch = new Utf8Scratch();

/** The MD5 of a string's UTF-8 bytes as 32 lowercase hex digits. */
export function md5Hex(s: string): string {
  const len = hexScratch.write(s, 0);
  const st = md5Scratch(hexScratch, len);
  let out = '';
  for (let i = 0; i < 4; i++) {
    const x = st[i]!;
    for (let j = 0; j < 4; j++) out += ((x >>> (j * 8)) & 0xff).toString(16).padStart(2, '0');
  }
  return out;
}
