import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Problem } from './errors.ts';
import { messageOf } from './errors.ts';

/**
 * Limits on what a project may hold, so a hostile or broken file gets a clear error naming it
 * instead of exhausting memory or the stack. Documented in the README (Limits).
 */
export const PROJECT_LIMITS = {
  /** Bytes of one YAML file (sluice.yaml, pipelines, flags, contracts, rollout plans). */
  yamlBytes: 8 * 1024 * 1024,
  /** Bytes of one step's SQL file. */
  sqlBytes: 1024 * 1024,
  /** Nesting depth of a YAML document. */
  yamlDepth: 64,
  /** Aliases a YAML document may resolve (alias bombs expand exponentially). */
  yamlAliases: 100,
  /** Steps of one pipeline, versions of one step, checks of one dataset. */
  steps: 250_000,
  versionsPerStep: 1_000,
  checksPerDataset: 10_000,
  /** Files of one kind in a folder (pipelines/, flags/, rollouts/, a contract's versions). */
  filesPerFolder: 10_000,
} as const;

export type FileRead = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly problem: Problem };

/**
 * Reads a project file as UTF-8 text: refused with a problem naming it when it is missing, not a
 * file, larger than `maxBytes`, not valid UTF-8, or binary.
 */
export function readProjectFile(path: string, shown: string, maxBytes: number): FileRead {
  const fail = (message: string): FileRead => ({ ok: false, problem: { file: shown, message } });
  let bytes: Buffer;
  let fd: number | undefined;
  try {
    // One open and one fstat: the size is known before anything is read, so a huge file is never loaded.
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (!st.isFile()) return fail('is not a file');
    if (st.size > maxBytes) return fail(`is ${(st.size / 1024 / 1024).toFixed(1)} MiB; project files of this kind are limited to ${maxBytes / 1024 / 1024} MiB`);
    bytes = Buffer.allocUnsafe(st.size);
    let read = 0;
    while (read < st.size) {
      const n = readSync(fd, bytes, read, st.size - read, read);
      if (n === 0) break;
      read += n;
    }
    bytes = bytes.subarray(0, read);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is not a file' : `cannot be read: ${messageOf(e)}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (bytes.includes(0)) return fail('holds NUL bytes: it is a binary file, not text');
  try {
    return { ok: true, text: utf8.decode(bytes).replace(/^\uFEFF/, '') };
  } catch {
    return fail('is not valid UTF-8 text');
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
