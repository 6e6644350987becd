import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';

/**
 * The package as a user gets it: `npm pack` of this repository, installed from the tarball as a
 * global `sluice` into a temporary prefix, then run from a folder outside the repository:
 * --version, init, validate, a run (DuckDB) and runs (SQLite), so both native modules of the
 * installed dependencies load. Packed with --ignore-scripts: the test runner built dist/ just
 * before (scripts/run-tests.mjs), and a `prepare` here would rebuild it under the other tests.
 * Installed with --prefer-offline: npm takes every package from its cache when it is there (CI's
 * own `npm install` fills it) and asks the registry only for what is missing. The install takes
 * 1.5 to 2.5 minutes on a 2-core machine, nearly all of it compiling better-sqlite3 from source
 * (its prebuilt binary is downloaded from outside the npm registry, which this machine cannot
 * reach), so it is one test with a generous timeout.
 */
const REPO = join(import.meta.dirname, '..');
const NPM_TIMEOUT_MS = 8 * 60_000;

function npm(args: readonly string[], cwd: string): string {
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8', timeout: NPM_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `npm ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

test('npm pack installs as a global sluice that runs outside the repository', { timeout: 2 * NPM_TIMEOUT_MS + 120_000 }, () => {
  using tmp = tempDir('sluice-pack-');
  const packDir = join(tmp.dir, 'pack');
  const prefix = join(tmp.dir, 'prefix');
  const work = join(tmp.dir, 'work');
  for (const d of [packDir, prefix, work]) mkdirSync(d);

  const packed = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], REPO)) as { filename: string; files: { path: string }[] }[];
  const tarball = join(packDir, packed[0]?.filename ?? '');
  const files = new Set(packed[0]?.files.map((f) => f.path));
  assert.ok(files.has('bin/sluice.js') && files.has('dist/cli/main.js') && files.has('dist/.built'), 'the package holds the bin and a complete build');
  assert.ok(![...files].some((f) => f.startsWith('src/') || f.startsWith('test/')), 'and neither sources nor tests: the bin runs the build');

  npm(['install', '--global', '--prefix', prefix, '--prefer-offline', tarball], work);
  const bin = join(prefix, 'bin', 'sluice');
  assert.ok(existsSync(bin), `npm linked ${bin}`);

  const home = join(tmp.dir, 'home');
  const sluice = (args: readonly string[]): { code: number; stdout: string; stderr: string } => {
    const r = spawnSync(bin, args, { cwd: work, encoding: 'utf8', env: { ...process.env, SLUICE_HOME: home, SLUICE_ACTOR: 'ada' }, timeout: 120_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const v = sluice(['--version']);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout.trim(), version);

  const init = sluice(['init', 'shop']);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /created .*shop/);
  const validate = sluice(['--project', 'shop', 'validate']);
  assert.equal(validate.code, 0, validate.stderr);
  assert.match(validate.stdout, /shop: ok/);
  const run = sluice(['--project', 'shop', 'run', 'orders', '--partition', '2026-11-01']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /run 1: orders 2026-11-01 in dev: succeeded/);
  const runs = sluice(['--project', 'shop', '--json', 'runs']);
  assert.equal(runs.code, 0, runs.stderr);
  assert.deepEqual((JSON.parse(runs.stdout) as { status: string }[]).map((r) => r.status), ['succeeded']);
});
