/**
 * A reusable scratch buffer the hashes encode strings into, so hashing a key allocates nothing.
 * ASCII takes a per-char fast path; anything else goes through TextEncoder.encodeInto (UTF-8).
 * The buffer's first 64 + 8 bytes past the message are kept free for MD5 padding.
 */
const encoder = new TextEncoder();

export class Utf8Scratch {
  bytes: Uint8Array;
  words: Int32Array;

  constructor(size = 256) {
    const buf = new ArrayBuffer(size);
    this.bytes = new Uint8Array(buf);
    this.words = new Int32Array(buf);
  }

  /** Writes `s` starting at byte `at` and returns the end offset. */
  write(s: string, at: number): number {
    const n = s.length;
    if (at + n * 3 + 72 > this.bytes.length) this.grow(at + n * 3 + 72);
    const b = this.bytes;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      b[at + i] = c;
    }
    if (i === n) return at + n;
    const r = encoder.encodeInto(s.slice(i), b.subarray(at + i));
    return at + i + r.written;
  }

  private grow(min: number): void {
    let size = this.bytes.length * 2;
    while (size < min) size *= 2;
    size = (size + 63) & ~63;
    const next = new ArrayBuffer(size);
    new Uint8Array(next).set(this.bytes);
    this.bytes = new Uint8Array(next);
    this.words = new Int32Array(next);
  }
}

/** True on little-endian hosts (every platform Node ships for); the hashes read words through an Int32Array view. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
