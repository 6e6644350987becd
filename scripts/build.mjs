#!/usr/bin/env node
// Compiles src/ to dist/ (run by `npm install` through `prepare`, and before the tests), so the
// `sluice` command starts without compiling TypeScript. Built beside dist/ and swapped in, so a
// command starting meanwhile never loads half a build; dist/.built marks a complete one.
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
const out = join(root, `dist.building-${process.pid}`);
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(out, { recursive: true, force: true });
  console.error('build failed: dist/ is left as it was');
  process.exit(r.status ?? 1);
}
writeFileSync(join(out, '.built'), `${new Date().toISOString()}\n`);
const dist = join(root, 'dist');
const old = `${dist}.old-${process.pid}`;
if (existsSync(dist)) renameSync(dist, old);
renameSync(out, dist);
rmSync(old, { recursive: true, force: true });
