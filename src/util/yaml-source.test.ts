import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYaml } from './yaml-source.ts';

test('yaml source reports the line of a nested field and of syntax errors', () => {
  const r = parseYaml('p.yaml', 'name: x\nsteps:\n  clean:\n    versions:\n      - sql: a.sql\n');
  assert.ok(r.ok);
  assert.equal(r.source.lineOf('steps.clean.versions.0.sql'), 5);
  assert.equal(r.source.lineOf('steps.clean.nope'), 3);
  assert.deepEqual(r.source.problem('steps.clean', 'bad'), { file: 'p.yaml', line: 3, field: 'steps.clean', message: 'bad' });
  const bad = parseYaml('b.yaml', 'a: 1\nb: [1, 2\n');
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.equal(bad.problems[0]?.file, 'b.yaml');
});
