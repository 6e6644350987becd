import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadProject } from '../../src/config/load-project.ts';
import { DuckDBSqlAnalyzer } from '../../src/engine/duckdb/duckdb-sql-analyzer.ts';
import type { SqlAnalyzer } from '../../src/engine/sql-analysis.ts';
import { formatProblem } from '../../src/util/errors.ts';
import { fuzzCase, looksLikeCrash, type FileKind } from './project-fuzz.ts';
import { smallProject } from '../helpers.ts';

/**
 * 10,000 broken or hostile project files, every kind (sluice.yaml, pipelines, step SQL, flags,
 * contracts, rollout plans), through the loader and the whole validate in process, and a few
 * hundred through the real bin: no crash, no stack trace, no state written, every problem names a
 * file. A failure names its case number; `fuzzCase(n, …)` reproduces it.
 */

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'sluice.js');

/** A scaffolded project to mutate, its files by kind, and its removal. */
export interface FuzzBase {
  readonly dir: string;
  readonly root: string;
  readonly files: Map<FileKind, { file: string; text: string }[]>;
  [Symbol.dispose](): void;
}

export async function fuzzBase(): Promise<FuzzBase> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fuzz-'));
  const root = await smallProject(dir, { days: 1, ordersPerDay: 20 });
  return { dir, root, files: collect(root), [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

function collect(root: string): Map<FileKind, { file: string; text: string }[]> {
  const out = new Map<FileKind, { file: string; text: string }[]>();
  const add = (kind: FileKind, abs: string): void => {
    const list = out.get(kind) ?? [];
    list.push({ file: relative(root, abs), text: readFileSync(abs, 'utf8') });
    out.set(kind, list);
  };
  const walk = (d: string, kind: FileKind, re: RegExp): void => {
    for (const f of readdirSync(d, { recursive: true }).map(String)) if (re.test(f)) add(kind, join(d, f));
  };
  add('project', join(root, 'sluice.yaml'));
  walk(join(root, 'pipelines'), 'pipeline', /\.yaml$/);
  walk(join(root, 'steps'), 'sql', /\.sql$/);
  walk(join(root, 'flags'), 'flag', /\.yaml$/);
  walk(join(root, 'contracts'), 'contract', /\.yaml$/);
  walk(join(root, 'rollouts'), 'rollout', /\.yaml$/);
  return out;
}

/** Cases [from, to) through the loader and the whole validate, in this process. */
export async function fuzzInProcess(base: FuzzBase, from: number, to: number): Promise<void> {
  const root = join(base.dir, `in-process-${from}`);
  cpSync(base.root, root, { recursive: true });
  // One analyzer for every case (opening an engine per case would dominate); its close is the test's.
  const shared = await DuckDBSqlAnalyzer.open();
  const analyzer: SqlAnalyzer = { dialect: shared.dialect, analyze: (s) => shared.analyze(s), openBindScope: () => shared.openBindScope(), close: async () => undefined, [Symbol.asyncDispose]: async () => undefined };
  const kinds = new Map<string, number>();
  let refused = 0;
  try {
    for (let n = from; n < to; n++) {
      const c = fuzzCase(n, base.files);
      const path = join(root, c.file);
      const original = readFileSync(path);
      writeFileSync(path, c.content);
      try {
        const r = await loadProject(root, { analyzerFor: async () => analyzer, bind: true, plans: true }).catch((e: unknown) => assert.fail(`case ${n} (${c.kind} ${c.file}: ${c.mutation}) threw: ${e instanceof Error ? e.stack : String(e)}`));
        if (!r.ok) {
          refused++;
          assert.ok(r.problems.length > 0, `case ${n}: refused without a problem`);
          for (const p of r.problems) {
            assert.ok(p.file && p.file.length > 0, `case ${n} (${c.kind} ${c.file}: ${c.mutation}): a problem names no file: ${formatProblem(p)}`);
            const crash = looksLikeCrash(p.message);
            assert.equal(crash, undefined, `case ${n} (${c.kind} ${c.file}: ${c.mutation}): a crash leaked into a problem: ${formatProblem(p)}`);
          }
        }
        kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
      } finally {
        writeFileSync(path, original);
      }
    }
  } finally {
    await shared.close();
  }
  assert.ok(!existsSync(join(root, '.sluice')), 'validating wrote no state');
  assert.equal(kinds.size, 6, `every file kind was fuzzed: ${[...kinds.keys()].join(', ')}`);
  assert.ok(refused > (to - from) * 0.6, `most cases are refused (${refused} of ${to - from}): the mutations do break files`);
}

/** `count` cases through the real bin: validate, and run for every fourth. */
export function fuzzThroughBin(base: FuzzBase, count: number): void {
  const root = join(base.dir, 'bin');
  cpSync(base.root, root, { recursive: true });
  let refused = 0;
  for (let k = 0; k < count; k++) {
    // Spread over the same case space, another part of it.
    const n = 1_000_000 + k * 37;
    const c = fuzzCase(n, base.files);
    const path = join(root, c.file);
    const original = readFileSync(path);
    writeFileSync(path, c.content);
    try {
      const command = k % 4 === 3 ? ['run', 'orders', '--partition', '2026-11-01'] : ['validate'];
      // Each run starts from no state at all: no store, and no audit key or checkpoint of an earlier one.
      const home = join(base.dir, `home-${k}`);
      const r = spawnSync(process.execPath, [BIN, '--project', root, ...command], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, SLUICE_HOME: home } });
      const what = `bin case ${n} (${c.kind} ${c.file}: ${c.mutation}), sluice ${command.join(' ')}`;
      assert.notEqual(r.status, null, `${what}: killed or timed out`);
      assert.notEqual(r.status, 70, `${what}: an internal error:\n${r.stderr}`);
      assert.equal(looksLikeCrash(r.stderr + r.stdout), undefined, `${what}: a stack trace or runtime error:\n${r.stderr}`);
      if (r.status !== 0) {
        refused++;
        assert.match(r.stderr, /^error: /m, `${what}: says it failed`);
        assert.match(r.stderr, /(sluice\.yaml|pipelines\/|steps\/|flags\/|contracts\/|rollouts\/)[^\s:]*/, `${what}: names a file:\n${r.stderr}`);
        // A project that does not check out is refused before anything is opened: no state at all.
        if (r.status === 3) assert.ok(!existsSync(join(root, '.sluice')), `${what}: refused as an invalid project, yet state was written`);
      }
      // A run of a project that checked out may have written state: the next case starts from none.
      if (command[0] === 'run') rmSync(join(root, '.sluice'), { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    } finally {
      writeFileSync(path, original);
    }
  }
  assert.ok(refused > count * 0.5, `most bin cases are refused (${refused} of ${count})`);
}
