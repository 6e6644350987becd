import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadProject } from '../app/load-project.ts';
import { formatProblem } from '../util/errors.ts';

/** A project with one pipeline: sources raw and other_src, steps a, b and c with the given SQL. */
async function load(sql: Record<'a' | 'b' | 'c', string>): Promise<{ inputs: Record<string, string[]>; order: string[]; problems: string[] }> {
  const root = mkdtempSync(join(tmpdir(), 'sluice-sql-'));
  try {
    const files: Record<string, string> = {
      'sluice.yaml': 'name: t\n',
      'pipelines/p.yaml': `name: p
sources:
  raw: { path: data/*.csv, partition_column: d }
  other_src: { path: data/*.csv, partition_column: d }
steps:
  a: { versions: { v1: { sql: a.sql } } }
  b: { versions: { v1: { sql: b.sql } } }
  c: { versions: { v1: { sql: c.sql } } }
datasets:
  out: { step: c, partition_column: d }
`,
      'a.sql': sql.a,
      'b.sql': sql.b,
      'c.sql': sql.c,
    };
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, rel)), { recursive: true });
      writeFileSync(join(root, rel), text);
    }
    const r = await loadProject(root);
    if (!r.ok) return { inputs: {}, order: [], problems: r.problems.map(formatProblem) };
    const steps = r.project.pipelines.get('p')?.steps ?? [];
    return { inputs: Object.fromEntries(steps.map((s) => [s.name, [...s.inputs].sort()])), order: steps.map((s) => s.name), problems: [] };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('step SQL: dependencies come from the engine parser', () => {
  test('a CTE named like a step is not a dependency; subqueries, set operations and quoted names are', async () => {
    const r = await load({
      a: 'select d, 1 as x from raw',
      // The CTE `a` shadows step a: b reads only raw and "Other Src".
      b: 'with a as (select * from raw where d is not null) select * from a union all select * from "Other_Src"',
      c: "select * from b where d in (select d from a) -- reads b and a, not 'raw' in this comment",
    });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.inputs, { a: ["raw"], b: ["other_src", "raw"], c: ["a", "b"] });
    assert.ok(r.order.indexOf('a') < r.order.indexOf('c') && r.order.indexOf('b') < r.order.indexOf('c'));
  });

  test('a CTE body sees only the CTEs before it; a recursive CTE sees itself', async () => {
    const r = await load({
      a: 'select d, 1 as x from raw',
      b: 'with x as (select * from a), a as (select * from x) select * from a',
      c: 'with recursive c(n) as (select 1 union all select n + 1 from c where n < 3) select b.*, c.n from b, c',
    });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.inputs, { a: ['raw'], b: ['a'], c: ['b'] });
  });

  test('schema-qualified and unknown tables are refused with the file and line, as is a step reading itself', async () => {
    const r = await load({ a: 'select * from raw', b: 'select *\nfrom main.cleaned_orders', c: 'select * from b\njoin nowhere using (d)\nunion all select * from c' });
    assert.deepEqual(r.problems, [
      'b.sql:2:6 (step b version v1) reads main.cleaned_orders, which is neither a source nor a step of pipeline p; declare it under sources: (a table in the warehouse: { table: main.cleaned_orders, partitioned: false })',
      'c.sql:2:6 (step c version v1) reads nowhere, which is neither a source nor a step of pipeline p; declare it under sources: (a table in the warehouse: { table: nowhere, partitioned: false })',
      'c.sql:3:25 (step c version v1) step c reads itself',
    ]);
  });

  test('a step is one SELECT: DDL, DML, several statements, syntax errors and outside functions are refused with their place', async () => {
    const r = await load({
      a: 'select * from raw; DROP TABLE main.cleaned_orders',
      b: 'SELEC d from raw',
      c: "select d, getenv('HOME') as h from read_csv('/etc/passwd')",
    });
    assert.deepEqual(r.problems, [
      'a.sql (step a version v1) the SQL is not a single SELECT: a step is one query (SELECT, with CTEs); DDL, DML, ATTACH, COPY, SET, PRAGMA and several statements are refused',
      'b.sql:1:1 (step b version v1) the SQL parser error: syntax error at or near "SELEC"',
      "c.sql:1:36 (step c version v1) calls read_csv(), which reads or writes outside the step's inputs; a step reads only its declared sources and earlier steps",
      "c.sql:1:11 (step c version v1) calls getenv(), which reads the environment; a step reads only its declared sources and earlier steps",
    ]);
    for (const stmt of ["ATTACH 'x.db' AS x", "COPY raw TO 'x.csv'", 'INSERT INTO raw SELECT * FROM raw', 'PRAGMA version', 'SET threads = 1', "INSTALL httpfs", 'select 1; select 2']) {
      const s = await load({ a: stmt, b: 'select * from a', c: 'select * from b' });
      assert.equal(s.problems.length, 1, `${stmt}: ${s.problems.join('; ')}`);
      assert.match(s.problems[0] ?? '', /^a\.sql .*not a single SELECT|holds 2 statements/, stmt);
    }
  });
});

describe('step SQL: the dataset graph a rollback re-runs follows the parser', () => {
  test('a dataset whose step only names a CTE like another step does not read that step', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sluice-sql-'));
    try {
      const files: Record<string, string> = {
        'sluice.yaml': 'name: t\n',
        'pipelines/p.yaml': `name: p
sources:
  raw: { path: data/*.csv, partition_column: d }
steps:
  a: { versions: { v1: { sql: a.sql } } }
  b: { versions: { v1: { sql: b.sql } } }
  c: { versions: { v1: { sql: c.sql } } }
datasets:
  a_out: { step: a, partition_column: d }
  b_out: { step: b, partition_column: d }
  c_out: { step: c, partition_column: d }
`,
        'a.sql': 'select * from raw',
        'b.sql': 'with a as (select * from raw) select * from a',
        'c.sql': 'select * from a',
      };
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(dirname(join(root, rel)), { recursive: true });
        writeFileSync(join(root, rel), text);
      }
      const r = await loadProject(root);
      assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
      const { buildDatasetGraph } = await import('../runner/dataset-graph.ts');
      assert.deepEqual(buildDatasetGraph(r.project)['a_out'], ['c_out'], 'only c reads a; b reads its own CTE named a');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
