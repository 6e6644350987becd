import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseYaml } from '../util/yaml-source.ts';
import { parseChecks } from './parse-checks.ts';

describe('parseChecks', () => {
  test('normalizes a check list with defaults and readable ids', () => {
    const r = parseChecks([
      { check: 'not_null', column: 'customer_id', mostly: 0.99, severity: 'warn' },
      { check: 'unique', columns: ['a', 'b'] },
      { check: 'between', column: 'x', min: 0, max: 1, strict_max: true },
      { check: 'not_null', column: 'customer_id' },
      { check: 'freshness', column: 'ts', max_age: '6h' },
    ]);
    assert.ok(r.ok);
    assert.deepEqual(
      r.checks.map((c) => [c.id, c.severity, c.mostly]),
      [
        ['not_null(customer_id)', 'warn', 0.99],
        ['unique(a,b)', 'error', 1],
        ['between(x)', 'error', 1],
        ['not_null(customer_id)#2', 'error', 1],
        ['freshness(ts)', 'error', 1],
      ],
    );
    const fresh = r.checks[4];
    assert.ok(fresh?.kind === 'freshness' && fresh.maxAgeSeconds === 6 * 3600);
  });

  test('collects every problem with its field path and the YAML line', () => {
    const text = ['checks:', '  - check: not_null', '  - check: regex', '    column: s', '    pattern: 3', '  - check: nope', '  - check: in_set', '    column: c', '    values: 5', '    mostly: 1.5'].join('\n');
    const y = parseYaml('ds.yaml', text);
    assert.ok(y.ok);
    const r = parseChecks((y.source.value as { checks: unknown }).checks, { source: y.source, path: 'checks' });
    assert.ok(!r.ok);
    const got = r.problems.map((p) => `${p.file}:${p.line} ${p.field}`);
    assert.deepEqual(got.sort(), ['ds.yaml:10 checks.3.mostly', 'ds.yaml:2 checks.0.column', 'ds.yaml:5 checks.1.pattern', 'ds.yaml:6 checks.2.check', 'ds.yaml:9 checks.3.values']);
  });

  test('rejects unknown fields, bad durations and non-integer length bounds', () => {
    const r = parseChecks([
      { check: 'not_null', column: 'a', colum: 'typo' },
      { check: 'freshness', column: 'ts', max_age: 'soon' },
      { check: 'value_length_between', column: 's', min: 'quack' },
    ]);
    assert.ok(!r.ok);
    assert.deepEqual(r.problems.map((p) => p.field), ['0.colum', '1.max_age', '2.min']);
  });

  test('warns (without failing) when min exceeds max', () => {
    const r = parseChecks([{ check: 'between', column: 'x', min: 10, max: 0 }]);
    assert.ok(r.ok);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]?.message ?? '', /every value will fail/);
  });
});
