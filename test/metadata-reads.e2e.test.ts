import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { once } from 'node:events';
import { tempDir } from './helpers.ts';

/**
 * Commands that read only metadata (runs, run-show, publications, audit log, flags, profiles,
 * rollout status) through the real bin: they create no file, in a project that never ran or in an
 * environment that has no warehouse yet, and they work while another process holds the
 * warehouse's DuckDB file (DuckDB locks it: seen, every command failed, `runs` included).
 */
const REPO = join(import.meta.dirname, '..');
const BIN = join(REPO, 'bin', 'sluice.js');

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function sluiceIn(home: string): (args: readonly string[]) => Result {
  return (args) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, SLUICE_HOME: home, SLUICE_ACTOR: 'ada' }, timeout: 120_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
}

/** The modules a command resolves as it runs (test/support/record-imports.mjs), with its result. */
function importsOf(home: string, scratch: string, args: readonly string[]): Result & { readonly modules: readonly string[] } {
  const file = join(scratch, 'imports.txt');
  rmSync(file, { force: true });
  const r = spawnSync(process.execPath, ['--import', join(REPO, 'test', 'support', 'record-imports.mjs'), BIN, ...args], { encoding: 'utf8', env: { ...process.env, SLUICE_HOME: home, SLUICE_TEST_IMPORTS_FILE: file }, timeout: 120_000 });
  const modules = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, modules };
}

/** What the start-up of every command may not pay for (issue 12: the DuckDB binding alone takes ~0.2 s to load). */
const ENGINE = /\/node_modules\/@duckdb\//;

/** Every file and folder under the given roots, with its size and mtime: what a read must leave as it was. */
function tree(...roots: string[]): string[] {
  const out: string[] = [];
  const walk = (root: string, dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const s = statSync(p);
      out.push(`${relative(root, p)} ${s.isDirectory() ? 'dir' : `${s.size} ${s.mtimeMs}`}`);
      if (s.isDirectory()) walk(root, p);
    }
  };
  for (const r of roots) walk(r, r);
  return out.sort();
}

function ok(r: Result, what: string): Result {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}${r.stdout}`);
  return r;
}

/** A child process holding a read-write DuckDB connection on `file` until it is killed. */
async function holdDuckDBFile(file: string): Promise<ChildProcess> {
  const script = `import { DuckDBInstance } from '@duckdb/node-api';
const db = await DuckDBInstance.create(${JSON.stringify(file)});
const c = await db.connect();
await c.run('CREATE TABLE IF NOT EXISTS held_by_another_process (x INTEGER)');
process.stdout.write('holding\\n');
setInterval(() => {}, 60_000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  assert.match(chunk.toString(), /holding/);
  return child;
}

describe('metadata reads', () => {
  test('read-only commands on a project that never ran print an empty result, exit 0 and create nothing', () => {
    using tmp = tempDir();
    const home = join(tmp.dir, 'home');
    mkdirSync(home);
    const sluice = sluiceIn(home);
    const root = join(tmp.dir, 'shop');
    ok(sluice(['init', root]), 'init');
    const before = tree(root, home);
    const p = ['--project', root];

    assert.match(ok(sluice([...p, 'runs']), 'runs').stdout, /no runs in dev yet/);
    assert.match(ok(sluice([...p, '--env', 'prod', 'runs']), 'runs in prod').stdout, /no runs in prod yet/);
    assert.deepEqual(JSON.parse(ok(sluice([...p, '--json', 'runs']), 'runs --json').stdout), []);
    assert.match(ok(sluice([...p, '--env', 'prod', 'publications', 'cleaned_orders']), 'publications').stdout, /nothing of cleaned_orders published in prod yet/);
    ok(sluice([...p, 'audit', 'log']), 'audit log');
    assert.match(ok(sluice([...p, 'audit', 'verify']), 'audit verify').stdout, /nothing recorded yet: no store at sqlite /);
    assert.match(ok(sluice([...p, '--env', 'prod', 'flags', 'list']), 'flags list').stdout, /clean_orders_version\s+variant\s+off/);
    assert.match(ok(sluice([...p, 'flags', 'history', 'clean_orders_version']), 'flags history').stdout, /0\s+\(project file\)/);
    assert.match(ok(sluice([...p, 'profile', 'cleaned_orders']), 'profile').stdout, /no profiles of cleaned_orders in dev yet/);
    assert.match(ok(sluice([...p, '--env', 'prod', 'rollout', 'status']), 'rollout status').stdout, /clean-orders-v2\s+pending/);
    assert.match(ok(sluice([...p, 'rollout', 'report', 'clean-orders-v2']), 'rollout report').stdout, /Rollout clean-orders-v2: pending/);
    assert.equal(sluice([...p, 'rollout', 'report', 'nope']).code, 4, 'an unknown rollout is NOT_FOUND');
    const show = sluice([...p, 'run-show', '1']);
    assert.equal(show.code, 4, 'no such run: NOT_FOUND');
    assert.match(show.stderr, /no run 1/);
    assert.equal(sluice([...p, '--env', 'nowhere', 'runs']).code, 2, 'an unknown environment is a usage error, not an empty one');

    assert.deepEqual(tree(root, home), before, 'no read created, changed or removed a file (project and SLUICE_HOME)');

    // `--help` loads commander and the command definitions: no implementation, no engine, no project loader.
    const help = importsOf(home, tmp.dir, ['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /publications \[options\] <dataset>/);
    // tsx and esbuild load the sources when src/ is newer than dist/ (an edit since the build).
    const loaded = help.modules.filter((m) => /\/(dist|src)\/(app|runner|config|store|flags|rollout|demo|governance|telemetry)\//.test(m) || (m.includes('/node_modules/') && !/\/node_modules\/(commander|tsx|esbuild)\//.test(m)));
    assert.deepEqual(loaded, [], '--help imports only the CLI definitions and commander');
  });

  test('runs, run-show, publications, audit log and flags work while another process holds the warehouse file; an environment without a warehouse gets none', async () => {
    using tmp = tempDir();
    const home = join(tmp.dir, 'home');
    mkdirSync(home);
    const sluice = sluiceIn(home);
    const root = join(tmp.dir, 'shop');
    ok(sluice(['init', root]), 'init');
    const p = ['--project', root];
    const run = JSON.parse(ok(sluice([...p, '--json', 'run', 'orders', '--partition', '2026-11-01']), 'run').stdout) as { run: { id: number } };

    const holder = await holdDuckDBFile(join(root, '.sluice', 'warehouse-dev.duckdb'));
    try {
      // The premise: a command that needs the warehouse cannot open it now.
      assert.notEqual(sluice([...p, 'run', 'orders', '--partition', '2026-11-02']).code, 0, 'the other process holds the DuckDB lock');
      const before = tree(root);

      const runs = JSON.parse(ok(sluice([...p, '--json', 'runs']), 'runs').stdout) as { id: number; status: string }[];
      assert.ok(runs.some((r) => r.id === run.run.id && r.status === 'succeeded'), 'the run is listed');
      const show = ok(sluice([...p, 'run-show', String(run.run.id)]), 'run-show').stdout;
      assert.match(show, /clean_orders v1 [0-9a-f]{12}/);
      assert.match(show, /now cleaned_orders 2026-11-01 shows \S+ \(this run\)/, 'what the partition shows now comes from the catalog');
      const pubs = JSON.parse(ok(sluice([...p, '--json', 'publications', 'cleaned_orders']), 'publications').stdout) as { partition: string; stepVersion: string }[];
      assert.deepEqual(pubs.map((x) => [x.partition, x.stepVersion]), [['2026-11-01', 'v1']]);
      assert.match(ok(sluice([...p, 'audit', 'log', '--target', 'cleaned_orders']), 'audit log').stdout, /publish\S*\s+dataset\/cleaned_orders\/2026-11-01/);
      assert.match(ok(sluice([...p, 'flags', 'list']), 'flags list').stdout, /clean_orders_version/);
      assert.match(ok(sluice([...p, 'profile', 'cleaned_orders']), 'profile').stdout, /2026-11-01/);

      // Another environment has no warehouse yet: its reads are empty and make none.
      assert.match(ok(sluice([...p, '--env', 'prod', 'runs']), 'runs in prod').stdout, /no runs in prod yet/);
      assert.match(ok(sluice([...p, '--env', 'prod', 'publications', 'cleaned_orders']), 'publications in prod').stdout, /nothing of cleaned_orders published in prod yet/);
      assert.match(ok(sluice([...p, '--env', 'prod', 'flags', 'list']), 'flags in prod').stdout, /flags in prod/);

      assert.deepEqual(tree(root), before, 'the reads created nothing (no warehouse-prod.duckdb, no store files)');

      // None of them loads the engine: they read the store and the warehouse's catalog.
      for (const args of [['runs'], ['run-show', String(run.run.id)], ['publications', 'cleaned_orders'], ['audit', 'log'], ['flags', 'list'], ['flags', 'history', 'clean_orders_version'], ['profile', 'cleaned_orders']]) {
        const r = importsOf(home, tmp.dir, [...p, ...args]);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        assert.deepEqual(r.modules.filter((m) => ENGINE.test(m)), [], `${args.join(' ')} loads no DuckDB binding`);
      }
    } finally {
      holder.kill();
      await once(holder, 'exit');
    }
    // Rollout reads recover first, so they open a workspace: in an environment whose warehouse exists, whatever --env says.
    assert.match(ok(sluice([...p, '--env', 'prod', 'rollout', 'status']), 'rollout status in prod').stdout, /clean-orders-v2\s+pending/);
    ok(sluice([...p, '--env', 'prod', 'rollout', 'report', 'clean-orders-v2']), 'rollout report in prod');
    assert.deepEqual(readdirSync(join(root, '.sluice')).filter((f) => f.includes('prod')), [], 'no warehouse for prod');
  });
});
