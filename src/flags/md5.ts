import { LITTLE_ENDIAN, Utf8Scratch } from './utf8-scratch.ts';

/**
 * MD5 (RFC 1321), fully unrolled and inlined for speed on short keys: bucketing hashes one short string per row,
 * and node:crypto's createHash costs about a microsecond per call in object churn alone, while this
 * runs in roughly a tenth of that. It is verified against node:crypto in md5.test.ts.
 */

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
    const x0 = w[o + 0]!;
    const x1 = w[o + 1]!;
    const x2 = w[o + 2]!;
    const x3 = w[o + 3]!;
    const x4 = w[o + 4]!;
    const x5 = w[o + 5]!;
    const x6 = w[o + 6]!;
    const x7 = w[o + 7]!;
    const x8 = w[o + 8]!;
    const x9 = w[o + 9]!;
    const x10 = w[o + 10]!;
    const x11 = w[o + 11]!;
    const x12 = w[o + 12]!;
    const x13 = w[o + 13]!;
    const x14 = w[o + 14]!;
    const x15 = w[o + 15]!;
    a = (a + ((b & c) | (~b & d)) + x0 + -680876936) | 0;
    a = ((a << 7) | (a >>> 25)) + b | 0;
    d = (d + ((a & b) | (~a & c)) + x1 + -389564586) | 0;
    d = ((d << 12) | (d >>> 20)) + a | 0;
    c = (c + ((d & a) | (~d & b)) + x2 + 606105819) | 0;
    c = ((c << 17) | (c >>> 15)) + d | 0;
    b = (b + ((c & d) | (~c & a)) + x3 + -1044525330) | 0;
    b = ((b << 22) | (b >>> 10)) + c | 0;
    a = (a + ((b & c) | (~b & d)) + x4 + -176418897) | 0;
    a = ((a << 7) | (a >>> 25)) + b | 0;
    d = (d + ((a & b) | (~a & c)) + x5 + 1200080426) | 0;
    d = ((d << 12) | (d >>> 20)) + a | 0;
    c = (c + ((d & a) | (~d & b)) + x6 + -1473231341) | 0;
    c = ((c << 17) | (c >>> 15)) + d | 0;
    b = (b + ((c & d) | (~c & a)) + x7 + -45705983) | 0;
    b = ((b << 22) | (b >>> 10)) + c | 0;
    a = (a + ((b & c) | (~b & d)) + x8 + 1770035416) | 0;
    a = ((a << 7) | (a >>> 25)) + b | 0;
    d = (d + ((a & b) | (~a & c)) + x9 + -1958414417) | 0;
    d = ((d << 12) | (d >>> 20)) + a | 0;
    c = (c + ((d & a) | (~d & b)) + x10 + -42063) | 0;
    c = ((c << 17) | (c >>> 15)) + d | 0;
    b = (b + ((c & d) | (~c & a)) + x11 + -1990404162) | 0;
    b = ((b << 22) | (b >>> 10)) + c | 0;
    a = (a + ((b & c) | (~b & d)) + x12 + 1804603682) | 0;
    a = ((a << 7) | (a >>> 25)) + b | 0;
    d = (d + ((a & b) | (~a & c)) + x13 + -40341101) | 0;
    d = ((d << 12) | (d >>> 20)) + a | 0;
    c = (c + ((d & a) | (~d & b)) + x14 + -1502002290) | 0;
    c = ((c << 17) | (c >>> 15)) + d | 0;
    b = (b + ((c & d) | (~c & a)) + x15 + 1236535329) | 0;
    b = ((b << 22) | (b >>> 10)) + c | 0;
    a = (a + ((b & d) | (c & ~d)) + x1 + -165796510) | 0;
    a = ((a << 5) | (a >>> 27)) + b | 0;
    d = (d + ((a & c) | (b & ~c)) + x6 + -1069501632) | 0;
    d = ((d << 9) | (d >>> 23)) + a | 0;
    c = (c + ((d & b) | (a & ~b)) + x11 + 643717713) | 0;
    c = ((c << 14) | (c >>> 18)) + d | 0;
    b = (b + ((c & a) | (d & ~a)) + x0 + -373897302) | 0;
    b = ((b << 20) | (b >>> 12)) + c | 0;
    a = (a + ((b & d) | (c & ~d)) + x5 + -701558691) | 0;
    a = ((a << 5) | (a >>> 27)) + b | 0;
    d = (d + ((a & c) | (b & ~c)) + x10 + 38016083) | 0;
    d = ((d << 9) | (d >>> 23)) + a | 0;
    c = (c + ((d & b) | (a & ~b)) + x15 + -660478335) | 0;
    c = ((c << 14) | (c >>> 18)) + d | 0;
    b = (b + ((c & a) | (d & ~a)) + x4 + -405537848) | 0;
    b = ((b << 20) | (b >>> 12)) + c | 0;
    a = (a + ((b & d) | (c & ~d)) + x9 + 568446438) | 0;
    a = ((a << 5) | (a >>> 27)) + b | 0;
    d = (d + ((a & c) | (b & ~c)) + x14 + -1019803690) | 0;
    d = ((d << 9) | (d >>> 23)) + a | 0;
    c = (c + ((d & b) | (a & ~b)) + x3 + -187363961) | 0;
    c = ((c << 14) | (c >>> 18)) + d | 0;
    b = (b + ((c & a) | (d & ~a)) + x8 + 1163531501) | 0;
    b = ((b << 20) | (b >>> 12)) + c | 0;
    a = (a + ((b & d) | (c & ~d)) + x13 + -1444681467) | 0;
    a = ((a << 5) | (a >>> 27)) + b | 0;
    d = (d + ((a & c) | (b & ~c)) + x2 + -51403784) | 0;
    d = ((d << 9) | (d >>> 23)) + a | 0;
    c = (c + ((d & b) | (a & ~b)) + x7 + 1735328473) | 0;
    c = ((c << 14) | (c >>> 18)) + d | 0;
    b = (b + ((c & a) | (d & ~a)) + x12 + -1926607734) | 0;
    b = ((b << 20) | (b >>> 12)) + c | 0;
    a = (a + (b ^ c ^ d) + x5 + -378558) | 0;
    a = ((a << 4) | (a >>> 28)) + b | 0;
    d = (d + (a ^ b ^ c) + x8 + -2022574463) | 0;
    d = ((d << 11) | (d >>> 21)) + a | 0;
    c = (c + (d ^ a ^ b) + x11 + 1839030562) | 0;
    c = ((c << 16) | (c >>> 16)) + d | 0;
    b = (b + (c ^ d ^ a) + x14 + -35309556) | 0;
    b = ((b << 23) | (b >>> 9)) + c | 0;
    a = (a + (b ^ c ^ d) + x1 + -1530992060) | 0;
    a = ((a << 4) | (a >>> 28)) + b | 0;
    d = (d + (a ^ b ^ c) + x4 + 1272893353) | 0;
    d = ((d << 11) | (d >>> 21)) + a | 0;
    c = (c + (d ^ a ^ b) + x7 + -155497632) | 0;
    c = ((c << 16) | (c >>> 16)) + d | 0;
    b = (b + (c ^ d ^ a) + x10 + -1094730640) | 0;
    b = ((b << 23) | (b >>> 9)) + c | 0;
    a = (a + (b ^ c ^ d) + x13 + 681279174) | 0;
    a = ((a << 4) | (a >>> 28)) + b | 0;
    d = (d + (a ^ b ^ c) + x0 + -358537222) | 0;
    d = ((d << 11) | (d >>> 21)) + a | 0;
    c = (c + (d ^ a ^ b) + x3 + -722521979) | 0;
    c = ((c << 16) | (c >>> 16)) + d | 0;
    b = (b + (c ^ d ^ a) + x6 + 76029189) | 0;
    b = ((b << 23) | (b >>> 9)) + c | 0;
    a = (a + (b ^ c ^ d) + x9 + -640364487) | 0;
    a = ((a << 4) | (a >>> 28)) + b | 0;
    d = (d + (a ^ b ^ c) + x12 + -421815835) | 0;
    d = ((d << 11) | (d >>> 21)) + a | 0;
    c = (c + (d ^ a ^ b) + x15 + 530742520) | 0;
    c = ((c << 16) | (c >>> 16)) + d | 0;
    b = (b + (c ^ d ^ a) + x2 + -995338651) | 0;
    b = ((b << 23) | (b >>> 9)) + c | 0;
    a = (a + (c ^ (b | ~d)) + x0 + -198630844) | 0;
    a = ((a << 6) | (a >>> 26)) + b | 0;
    d = (d + (b ^ (a | ~c)) + x7 + 1126891415) | 0;
    d = ((d << 10) | (d >>> 22)) + a | 0;
    c = (c + (a ^ (d | ~b)) + x14 + -1416354905) | 0;
    c = ((c << 15) | (c >>> 17)) + d | 0;
    b = (b + (d ^ (c | ~a)) + x5 + -57434055) | 0;
    b = ((b << 21) | (b >>> 11)) + c | 0;
    a = (a + (c ^ (b | ~d)) + x12 + 1700485571) | 0;
    a = ((a << 6) | (a >>> 26)) + b | 0;
    d = (d + (b ^ (a | ~c)) + x3 + -1894986606) | 0;
    d = ((d << 10) | (d >>> 22)) + a | 0;
    c = (c + (a ^ (d | ~b)) + x10 + -1051523) | 0;
    c = ((c << 15) | (c >>> 17)) + d | 0;
    b = (b + (d ^ (c | ~a)) + x1 + -2054922799) | 0;
    b = ((b << 21) | (b >>> 11)) + c | 0;
    a = (a + (c ^ (b | ~d)) + x8 + 1873313359) | 0;
    a = ((a << 6) | (a >>> 26)) + b | 0;
    d = (d + (b ^ (a | ~c)) + x15 + -30611744) | 0;
    d = ((d << 10) | (d >>> 22)) + a | 0;
    c = (c + (a ^ (d | ~b)) + x6 + -1560198380) | 0;
    c = ((c << 15) | (c >>> 17)) + d | 0;
    b = (b + (d ^ (c | ~a)) + x13 + 1309151649) | 0;
    b = ((b << 21) | (b >>> 11)) + c | 0;
    a = (a + (c ^ (b | ~d)) + x4 + -145523070) | 0;
    a = ((a << 6) | (a >>> 26)) + b | 0;
    d = (d + (b ^ (a | ~c)) + x11 + -1120210379) | 0;
    d = ((d << 10) | (d >>> 22)) + a | 0;
    c = (c + (a ^ (d | ~b)) + x2 + 718787259) | 0;
    c = ((c << 15) | (c >>> 17)) + d | 0;
    b = (b + (d ^ (c | ~a)) + x9 + -343485551) | 0;
    b = ((b << 21) | (b >>> 11)) + c | 0;
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
