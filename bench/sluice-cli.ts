// Which `sluice` the process benches run, fixed for the whole bench: bin/sluice.js picks the
// compiled dist/ when it is newer than every source file and the TypeScript sources through tsx
// otherwise, and both change under a bench while others edit src/. So a bench either compiles its
// own copy once (tsc with tsconfig.build.json into a temporary folder beside a copy of bin/ and
// package.json, node_modules linked: what an installed sluice runs) or runs the sources through
// tsx (SLUICE_FROM_SOURCE=1: no build, slower to start; --quick).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface SluiceCli {
  /** Arguments to node before the command's own: the bin file. */
  readonly bin: string;
  readonly env: Record<string, string>;
  /** How it runs, in words, for the report. */
  readonly how: string;
  cleanup(): void;
}

const repo = join(import.meta.dirname, '..');

export function sluiceCli(o: { compiled: boolean; log?: (l: string) => void }): SluiceCli {
  const fromSource: SluiceCli = { bin: join(repo, 'bin', 'sluice.js'), env: { SLUICE_FROM_SOURCE: '1' }, how: 'the TypeScript sources through tsx (SLUICE_FROM_SOURCE=1)', cleanup: () => undefined };
  if (!o.compiled) return fromSource;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-cli-'));
  o.log?.('compiling a private copy of sluice (tsc, tsconfig.build.json)');
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(repo, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    o.log?.(`the build failed (src/ mid-edit?), running the sources instead: ${(r.stdout + r.stderr).slice(0, 400)}`);
    return { ...fromSource, how: `${fromSource.how}; the compiled build failed` };
  }
  writeFileSync(join(dir, 'dist', '.built'), `${new Date().toISOString()}\n`);
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(repo, 'bin', 'sluice.js'), join(dir, 'bin', 'sluice.js'));
  copyFileSync(join(repo, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  return { bin: join(dir, 'bin', 'sluice.js'), env: { SLUICE_FROM_SOURCE: '0' }, how: 'compiled JavaScript (a private tsc build of src/ at the bench start)', cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
