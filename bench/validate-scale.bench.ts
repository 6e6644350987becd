// How validate scales with project size: loading and the structural checks of a pipeline of N
// chained steps (parse, schema, SQL analysis by the engine's parser, dependency order) at several
// sizes, to show it is linear (seconds per 1,000 steps stays flat), and the cost of binding per
// step version. Each size is a fresh project in a temp folder.
//   npx tsx bench/validate-scale.bench.ts [--sizes 8000,16000,32000,100000] [--bind 2000]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadProject } from '../src/app/load-project.ts';
import { printTable } from './bench-util.ts';

export interface ValidateScaleRow {
  readonly steps: number;
  readonly seconds: number;
  readonly perThousand: number;
}

/** A pipeline of `n` steps, each reading the one before (a chain: the longest dependency order). */
function chainProject(dir: string, n: number): string {
  const root = join(dir, `chain-${n}`);
  mkdirSync(join(root, 'pipelines'), { recursive: true });
  mkdirSync(join(root, 'steps'), { recursive: true });
  writeFileSync(join(root, 'sluice.yaml'), 'name: chain\n');
  const lines = ['name: chain', 'sources:', '  raw:', '    path: data/*.csv', '    partition_column: d', '    columns: { d: DATE, x: BIGINT }', 'steps:'];
  for (let i = 0; i < n; i++) {
    writeFileSync(join(root, 'steps', `s${i}.sql`), `SELECT d, x + 1 AS x FROM ${i === 0 ? 'raw' : `s${i - 1}`}`);
    lines.push(`  s${i}:`, '    versions:', `      v1: { sql: steps/s${i}.sql }`);
  }
  lines.push('datasets:', '  out:', `    step: s${n - 1}`, '    partition_column: d', '    checks:', '      - { check: not_null, column: x }');
  writeFileSync(join(root, 'pipelines', 'chain.yaml'), `${lines.join('\n')}\n`);
  return root;
}

export async function runValidateScaleBench(o: { sizes: readonly number[]; bindSteps: number }): Promise<{ structural: ValidateScaleRow[]; bindMsPerVersion: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-validate-bench-'));
  try {
    const structural: ValidateScaleRow[] = [];
    for (const n of o.sizes) {
      const root = chainProject(dir, n);
      const t = performance.now();
      const r = await loadProject(root);
      const seconds = (performance.now() - t) / 1000;
      if (!r.ok) throw new Error(`chain of ${n} does not load: ${JSON.stringify(r.problems.slice(0, 3))}`);
      structural.push({ steps: n, seconds, perThousand: (seconds / n) * 1000 });
      rmSync(root, { recursive: true, force: true });
    }
    const root = chainProject(dir, o.bindSteps);
    let t = performance.now();
    await loadProject(root);
    const without = performance.now() - t;
    t = performance.now();
    const bound = await loadProject(root, { bind: true });
    const withBind = performance.now() - t;
    if (!bound.ok) throw new Error(`binding the chain failed: ${JSON.stringify(bound.problems.slice(0, 3))}`);
    return { structural, bindMsPerVersion: (withBind - without) / o.bindSteps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--sizes');
  const sizes = (i >= 0 ? (process.argv[i + 1] ?? '') : '8000,16000,32000,100000').split(',').map(Number);
  const j = process.argv.indexOf('--bind');
  const r = await runValidateScaleBench({ sizes, bindSteps: j >= 0 ? Number(process.argv[j + 1]) : 2000 });
  printTable('load + structural checks of a chain of N steps', r.structural.map((x) => ({ steps: x.steps, seconds: x.seconds.toFixed(2), 'seconds per 1,000 steps': x.perThousand.toFixed(3) })));
  process.stdout.write(`\nbinding: ${r.bindMsPerVersion.toFixed(2)} ms per step version\n`);
}
