import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadProject } from '../app/load-project.ts';
import { formatProblem } from '../util/errors.ts';

function project(files: Record<string, string>): { root: string; [Symbol.dispose](): void } {
  const root = mkdtempSync(join(tmpdir(), 'sluice-cfg-'));
  const all: Record<string, string> = { 'sluice.yaml': 'name: t\n', 'a.sql': 'select 1 as x, 1 as d', ...files };
  for (const [rel, text] of Object.entries(all)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return { root, [Symbol.dispose]: () => rmSync(root, { recursive: true, force: true }) };
}

async function problems(files: Record<string, string>): Promise<string[]> {
  using p = project(files);
  const r = await loadProject(p.root);
  return r.ok ? [] : r.problems.map(formatProblem);
}

const pipeline = (steps: string, datasets = 'datasets:\n  out: { step: a, partition_column: d }\n'): string =>
  `name: p\nsources:\n  src: { path: data/*.csv, partition_column: d }\nsteps:\n${steps}${datasets}`;

describe('config: every problem with file, line and field', () => {
  test('a valid project loads with steps in dependency order', async () => {
    using p = project({
      'pipelines/p.yaml': pipeline('  b:\n    versions: { v1: { sql: b.sql } }\n  a:\n    versions: { v1: { sql: a.sql } }\n'),
      'a.sql': 'select * from src',
      'b.sql': 'select * from a join src using (d)',
    });
    const r = await loadProject(p.root);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    const steps = r.project.pipelines.get('p')?.steps ?? [];
    assert.deepEqual(steps.map((s) => s.name), ['a', 'b']);
    assert.deepEqual(steps[1]?.inputs, ['a', 'src']);
    assert.equal(r.project.environments.join(','), 'dev,test,stage,prod');
  });

  test('invalid YAML names the file and line', async () => {
    assert.deepEqual((await problems({ 'pipelines/p.yaml': 'name: p\nsteps:\n  a: [unclosed\n' })).map((s) => s.split(' ')[0]), ['pipelines/p.yaml:4:1']);
  });

  test('unknown fields, unknown steps, missing SQL files and bad defaults are all reported at once', async () => {
    const found = await problems({
      'pipelines/p.yaml': pipeline(
        '  a:\n    default_version: v9\n    versions:\n      v1: { sql: a.sql }\n      v2: { sql: missing.sql, colour: red }\n',
        'datasets:\n  out: { step: nope, partition_column: d }\n',
      ),
    });
    assert.deepEqual(found, [
      'pipelines/p.yaml:9 steps.a.versions.v2.colour: unknown field',
    ], 'schema problems come first and stop the file');
    const found2 = await problems({
      'pipelines/p.yaml': pipeline('  a:\n    default_version: v9\n    versions:\n      v1: { sql: a.sql }\n      v2: { sql: missing.sql }\n', 'datasets:\n  out: { step: nope, partition_column: d }\n'),
    });
    assert.deepEqual(found2, [
      'pipelines/p.yaml:9 steps.a.versions.v2.sql: SQL file missing.sql does not exist',
      'pipelines/p.yaml:6 steps.a.default_version: unknown version "v9" (versions: v1, v2)',
      'pipelines/p.yaml:11 datasets.out.step: unknown step "nope" (steps: a)',
    ]);
  });

  test('a dependency cycle is reported with its path', async () => {
    const found = await problems({
      'pipelines/p.yaml': pipeline('  a:\n    versions: { v1: { sql: a.sql } }\n  b:\n    versions: { v1: { sql: b.sql } }\n'),
      'a.sql': 'select * from b',
      'b.sql': 'select * from a',
    });
    assert.equal(found.length, 1);
    assert.match(found[0] ?? '', /^pipelines\/p\.yaml:\d+ steps\.a: dependency cycle: a -> b -> a$/);
  });

  test('a missing sluice.yaml and a project without pipelines say what to do', async () => {
    using p = project({});
    rmSync(join(p.root, 'sluice.yaml'));
    const r = await loadProject(p.root);
    assert.ok(!r.ok && /no sluice\.yaml here; run `sluice init`/.test(r.problems[0]?.message ?? ''));
    assert.match((await problems({}))[0] ?? '', /no pipeline files/);
    assert.match((await problems({ 'sluice.yaml': 'name: t\nenvironments: [dev, prod]\ndefault_environment: stage\n', 'pipelines/p.yaml': pipeline('  a:\n    versions: { v1: { sql: a.sql } }\n') }))[0] ?? '', /^sluice\.yaml:3 default_environment: "stage" is not one of the environments \(dev, prod\)$/);
  });
});
