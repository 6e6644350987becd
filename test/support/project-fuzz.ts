import { dump, load, CORE_SCHEMA } from 'js-yaml';

/**
 * Broken and hostile variants of a project's files, for the fuzz tests: each case is one file of
 * one kind replaced by a mutation of it (structural edits of its YAML, hostile values, raw text
 * and byte damage, hostile SQL). Deterministic from a seed, so a failing case is reproduced by its
 * number.
 */

export type FileKind = 'project' | 'pipeline' | 'sql' | 'flag' | 'contract' | 'rollout';

export interface FuzzCase {
  readonly n: number;
  readonly kind: FileKind;
  /** The file replaced, relative to the project root. */
  readonly file: string;
  readonly mutation: string;
  readonly content: string | Buffer;
}

/** mulberry32: a small seeded PRNG, so every case is reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_VALUES: readonly unknown[] = [
  -1, 0, -0.5, 1e308, -1e308, 2 ** 53 + 1, 150, 101, '', ' ', '\t', 'x'.repeat(5000), 'ü名前🙂', 'tägliche_umsätze', '\u202eevil', '../../../../etc/passwd', '/etc/passwd', '${HOME}', "'; DROP TABLE cleaned_orders; --",
  'Europe/Nowhere', '0x10', '1e3', 'NaN', 'Infinity', '-0', 'null', true, false, null, {}, [], [[[[[]]]]], { a: { b: { c: {} } } }, ['a', 'b'], [1, 'two', null], '2026-13-45', '25:61', 'P1D', '-1d', '99999999999d',
];

const HOSTILE_SQL: readonly string[] = [
  '; DROP TABLE main.cleaned_orders',
  '; DELETE FROM sluice.publications',
  "; ATTACH '/tmp/evil.duckdb' AS evil",
  "; COPY (SELECT 1) TO '/tmp/sluice-fuzz-out.csv'",
  '; INSTALL httpfs; LOAD httpfs',
  '; SET threads = 1',
  '; PRAGMA disable_checkpoint_on_shutdown',
  '; CREATE TABLE x AS SELECT 1',
];

const SQL_REPLACEMENTS: readonly string[] = [
  "SELECT * FROM read_csv('/etc/passwd')",
  "SELECT getenv('HOME') AS h",
  "SELECT * FROM read_text('/etc/hostname')",
  'SELECT * FROM sluice.publication_log',
  'SELECT * FROM main.cleaned_orders',
  'SELECT current_setting(\'threads\') AS t',
  'WITH RECURSIVE t AS (SELECT 1 AS x UNION ALL SELECT x + 1 FROM t) SELECT * FROM t',
  'SELEC 1',
  'SELECT',
  '',
  '   \n  ',
  'SELECT 1 AS a, 2 AS a',
  'SELECT nope FROM raw_orders',
  'VALUES (1)',
  'SELECT * FROM raw_orders; SELECT 2',
  "SELECT 'unterminated",
  'SELECT (((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))',
  `SELECT ${'1 + '.repeat(5000)}1 AS x`,
];

const ALIAS_BOMB = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`)].join('\n');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every container path of a value, with the container. */
function paths(v: Json, at: (string | number)[] = [], out: { path: (string | number)[]; value: Json }[] = []): { path: (string | number)[]; value: Json }[] {
  out.push({ path: at, value: v });
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function setAt(root: Json, path: readonly (string | number)[], value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  const copy: Json = JSON.parse(JSON.stringify(root)) as Json;
  let node = copy as Record<string, Json> | Json[];
  for (const p of path.slice(0, -1)) node = (node as Record<string, Json>)[p as string] as Record<string, Json> | Json[];
  const last = path[path.length - 1] as string | number;
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete (node as Record<string, Json>)[last];
  } else (node as Record<string, Json>)[last] = value;
  return copy;
}

/** One mutation of a YAML file's text. */
function mutateYaml(text: string, rnd: () => number): { mutation: string; content: string | Buffer } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const value = load(text, { schema: CORE_SCHEMA }) as Json;
  const all = paths(value);
  const kind = Math.floor(rnd() * 16);
  const target = pick(all);
  switch (kind) {
    case 0:
    case 1:
    case 2:
    case 3: {
      const v = pick(HOSTILE_VALUES) as Json;
      return { mutation: `set ${target.path.join('.')} = ${JSON.stringify(v).slice(0, 40)}`, content: dump(setAt(value, target.path, v), { lineWidth: -1 }) };
    }
    case 4:
    case 5:
      if (target.path.length === 0) return { mutation: 'empty document', content: '' };
      return { mutation: `delete ${target.path.join('.')}`, content: dump(setAt(value, target.path, undefined), { lineWidth: -1 }) };
    case 6: {
      const obj = pick(all.filter((x) => x.value !== null && typeof x.value === 'object' && !Array.isArray(x.value)));
      const key = pick(['colour', 'steps', 'name', 'x'.repeat(300), '名前', '', '$ref', '__proto__', 'constructor']);
      return { mutation: `add ${obj.path.join('.')}.${key.slice(0, 20)}`, content: dump(setAt(value, [...obj.path, key], pick(HOSTILE_VALUES) as Json), { lineWidth: -1 }) };
    }
    case 7: {
      // A key written twice.
      const lines = text.split('\n');
      const i = Math.floor(rnd() * lines.length);
      return { mutation: `duplicate line ${i + 1}`, content: [...lines.slice(0, i + 1), lines[i] ?? '', ...lines.slice(i + 1)].join('\n') };
    }
    case 8:
      return { mutation: 'truncate', content: text.slice(0, Math.floor(rnd() * text.length)) };
    case 9: {
      const bytes = Buffer.from(text);
      for (let k = 0; k < 1 + Math.floor(rnd() * 5); k++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
      return { mutation: 'flip bytes', content: bytes };
    }
    case 10:
      return { mutation: 'alias bomb', content: `${ALIAS_BOMB}\n${text}` };
    case 11:
      return { mutation: 'deep nesting', content: `${text}\nzz: ${'['.repeat(200 + Math.floor(rnd() * 5000))}${']'.repeat(200)}\n` };
    case 12:
      return { mutation: 'huge file', content: `${text}\n# ${'x'.repeat(9 * 1024 * 1024)}\n` };
    case 13:
      return { mutation: 'NUL byte', content: `${text.slice(0, 20)}\u0000${text.slice(20)}` };
    case 14:
      return { mutation: 'invalid UTF-8', content: Buffer.concat([Buffer.from(text.slice(0, 30)), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(text.slice(30))]) };
    default:
      return { mutation: 'tabs and garbage', content: text.replace(/ {2}/g, '\t').replace(/:/, ': : [') };
  }
}

function mutateSql(text: string, rnd: () => number): { mutation: string; content: string | Buffer } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const kind = Math.floor(rnd() * 6);
  switch (kind) {
    case 0:
    case 1: {
      const s = pick(HOSTILE_SQL);
      return { mutation: `append ${s.slice(0, 30)}`, content: `${text.trimEnd()}\n${s}` };
    }
    case 2:
    case 3: {
      const s = pick(SQL_REPLACEMENTS);
      return { mutation: `replace with ${s.slice(0, 30)}`, content: s };
    }
    case 4:
      return { mutation: 'truncate', content: text.slice(0, Math.floor(rnd() * text.length)) };
    default: {
      const words = text.match(/\b[a-z_]+\b/g) ?? ['x'];
      const w = pick(words);
      return { mutation: `misspell ${w}`, content: text.replace(new RegExp(`\\b${w}\\b`), `${w}zz`) };
    }
  }
}

/** The `n`th case over a project's files (`files`: kind -> relative paths of that kind, with their texts). */
export function fuzzCase(n: number, files: ReadonlyMap<FileKind, readonly { file: string; text: string }[]>): FuzzCase {
  const rnd = prng(0x5eed + n * 7919);
  const kinds = [...files.keys()];
  const kind = kinds[n % kinds.length] as FileKind;
  const candidates = files.get(kind) ?? [];
  const f = candidates[Math.floor(rnd() * candidates.length)] as { file: string; text: string };
  const m = kind === 'sql' ? mutateSql(f.text, rnd) : mutateYaml(f.text, rnd);
  return { n, kind, file: f.file, ...m };
}

/** Signs of a crash in an error text: a stack frame or a JavaScript runtime error leaking out. */
export function looksLikeCrash(text: string): string | undefined {
  const m = /\n\s+at .+:\d+:\d+|TypeError|ReferenceError|RangeError|SyntaxError: Unexpected|Cannot read propert|is not a function|is not iterable|Maximum call stack|\[object Object\]|undefined is not/.exec(text);
  return m?.[0];
}
