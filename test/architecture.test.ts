import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The seams, enforced: the folder-level import graph has no cycle, the core imports no adapter,
 * and no engine-specific SQL or client library appears outside the adapters. Adapters are
 * `engine/<kind>/` and `store/<kind>/`; the composition root `app/` is the one other place that
 * names them (and loads them on demand). Test files are exempt: a test may name what it tests.
 */
const SRC = resolve(import.meta.dirname, '..', 'src');
const ADAPTERS = ['engine/duckdb', 'engine/postgres', 'store/sqlite', 'store/postgres'];

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.contract.ts')) out.push(p);
  }
  return out;
}

/** The module a file belongs to: an adapter folder, else its top-level folder under src/. */
function moduleOf(file: string): string {
  const rel = relative(SRC, file).split('/');
  const two = rel.slice(0, 2).join('/');
  if (ADAPTERS.includes(two)) return two;
  return rel.length > 1 ? (rel[0] ?? '.') : '.';
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) out.push(resolve(dirname(file), m[1] ?? ''));
  return out;
}

const files = walk(SRC);
const edges = new Map<string, Set<string>>();
for (const f of files) {
  const from = moduleOf(f);
  for (const target of importsOf(f)) {
    const to = moduleOf(target);
    if (to === from) continue;
    const set = edges.get(from) ?? new Set<string>();
    set.add(to);
    edges.set(from, set);
  }
}

describe('architecture', () => {
  test('the folder-level import graph has no cycle', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (n: string, path: string[]): void => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(n)), n].join(' -> '));
        return;
      }
      state.set(n, 'visiting');
      for (const m of edges.get(n) ?? []) visit(m, [...path, n]);
      state.set(n, 'done');
    };
    for (const n of edges.keys()) visit(n, []);
    assert.deepEqual(cycles, []);
  });

  test('only adapters and the composition root import adapters', () => {
    const offenders: string[] = [];
    for (const [from, tos] of edges) {
      // app/ is the composition root; `.` is src/index.ts, the package's public surface.
      if (from === 'app' || from === '.' || ADAPTERS.includes(from)) continue;
      for (const to of tos) if (ADAPTERS.includes(to)) offenders.push(`${from} -> ${to}`);
    }
    assert.deepEqual(offenders, []);
  });

  test('no engine-specific SQL or client library outside the adapters', () => {
    const patterns: readonly [RegExp, string][] = [
      [/from '@duckdb\/node-api'|from 'better-sqlite3'|from 'pg'/, 'client library'],
      [/UNION ALL BY NAME/i, 'DuckDB UNION BY NAME'],
      [/::\s*(DOUBLE|VARCHAR|BIGINT|UBIGINT|HUGEINT|INTEGER|UINTEGER|TEXT)\b/, 'a :: cast'],
      [/\bAS\s+(UBIGINT|HUGEINT|UINTEGER)\b/i, 'a DuckDB-only type'],
      [/CREATE OR REPLACE TABLE/i, 'CREATE OR REPLACE TABLE'],
      [/\b(read_csv|read_parquet|read_json_auto|regexp_matches|struct_pack|bitstring_agg|to_seconds|md5_number)\s*\(/, 'a DuckDB function'],
      [/\bFROM\s+range\s*\(/i, 'DuckDB range()'],
      [/\bUSING SAMPLE\b|\bDESCRIBE\s+SELECT\b|\bPRAGMA\b/i, 'DuckDB/SQLite syntax'],
    ];
    // The demo's data generator writes its files with the embedded engine, by design.
    const exempt = new Set(['demo/generate-orders.ts', 'demo/project-template.ts']);
    const offenders: string[] = [];
    for (const f of files) {
      const rel = relative(SRC, f);
      const mod = moduleOf(f);
      if (ADAPTERS.includes(mod) || exempt.has(rel)) continue;
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
          for (const [re, what] of patterns) if (re.test(line)) offenders.push(`${rel}:${i + 1} ${what}: ${line.trim().slice(0, 120)}`);
        });
    }
    assert.deepEqual(offenders, []);
  });
});
