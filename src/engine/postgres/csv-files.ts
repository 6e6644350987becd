import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError } from '../../util/errors.ts';
import type { FileSource } from '../source.ts';

/**
 * The files of a source and their CSV headers, read in Node (the server reads nothing from our
 * disk: the rows travel by COPY ... FROM STDIN). Only the first line of a file is read here.
 */

/** Files matching an absolute glob (`*` and `?` within a folder name, `**` for any folders), sorted. */
export function globFiles(pattern: string): string[] {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  while (parts.length > 1 && !/[*?[]/.test(parts[0] ?? '')) fixed.push(parts.shift() ?? '');
  const base = fixed.join('/') || '/';
  const out: string[] = [];
  const toRegex = (seg: string): RegExp => new RegExp(`^${seg.replace(/[.+^${}()|\\]/g, '\\$&').replaceAll('*', '[^/]*').replaceAll('?', '[^/]')}$`);
  const walk = (dir: string, rest: readonly string[]): void => {
    const [seg, ...tail] = rest;
    if (seg === undefined) return;
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    if (seg === '**') {
      walk(dir, tail);
      for (const e of entries) if (isDir(join(dir, e))) walk(join(dir, e), rest);
      return;
    }
    const re = toRegex(seg);
    for (const e of entries) {
      if (!re.test(e)) continue;
      const p = join(dir, e);
      if (tail.length === 0) {
        if (!isDir(p)) out.push(p);
      } else if (isDir(p)) walk(p, tail);
    }
  };
  walk(base, parts);
  return [...new Set(out)].sort();
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The header of a CSV file: its first line split on commas outside quotes. */
export function csvHeader(file: string): string[] {
  const fd = openSync(file, 'r');
  let line: string;
  try {
    const buf = Buffer.alloc(65536);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8').replace(/^\uFEFF/, '');
    const end = text.search(/\r?\n/);
    line = end === -1 ? text : text.slice(0, end);
  } finally {
    closeSync(fd);
  }
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') (out.push(cur.trim()), (cur = ''));
    else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** Every file must have the expected header (declared columns, or the first file's), in order; the first that does not is named. */
export function checkHeaders(source: FileSource, files: readonly string[], expected: readonly string[]): void {
  for (const file of files) {
    const header = csvHeader(file);
    if (header.join(',') === expected.join(',')) continue;
    const missing = expected.filter((c) => !header.includes(c));
    const extra = header.filter((c) => !expected.includes(c));
    const parts = [missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `unexpected ${extra.join(', ')}` : '', !missing.length && !extra.length ? `order is ${header.join(', ')}` : ''].filter(Boolean);
    const what = source.columns ? 'the declared ones' : `those of ${files[0]}`;
    throw new SluiceError('DATA_INVALID', `source ${source.name}: ${file}: columns do not match ${what} (${expected.join(', ')}): ${parts.join('; ')}`, { file, line: 1, field: `sources.${source.name}.columns` });
  }
}

/** The `key=value` folder names of a file's path, in order (hive layouts). */
export function hiveKeys(file: string): [string, string][] {
  const out: [string, string][] = [];
  for (const seg of file.split('/').slice(0, -1)) {
    const m = /^([^=]+)=(.*)$/.exec(seg);
    if (m?.[1] !== undefined && m[2] !== undefined) out.push([m[1], decodeURIComponent(m[2])]);
  }
  return out;
}
