import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ManualClock } from '../util/clock.ts';
import { bucket } from './bucket.ts';
import { evaluate } from './evaluate.ts';
import { contextFromPairs, type EvaluationContext } from './evaluation-context.ts';
import { formatExplanation } from './explanation.ts';
import { flagSet, type FlagDefinition } from './flag.ts';
import { parseFlagFile } from './parse-flag-file.ts';

function flags(yaml: string): ReturnType<typeof flagSet> {
  const r = parseFlagFile('flags/test.yaml', yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return flagSet(r.flags);
}

const PROJECT = flags(`flags:
  - name: clean_v2
    type: variant
    scope: { pipeline: orders, step: clean }
    enabled: true
    default_variant: v1
    strategies:
      - kind: list
        datasets: [orders_replay]
        variants: [{ name: v2 }]
      - kind: gradual
        percentage: 30
        constraints: [{ field: source, operator: IN, values: [eu_orders] }]
        variants: [{ name: v2 }]
  - name: new_reader
    enabled: true
  - name: fast_path
    enabled: true
    dependencies: [{ flag: new_reader }]
  - name: office_hours
    enabled: true
    window:
      recurring: { days: [mon, tue, wed, thu, fri], start: "09:00", end: "16:00", zone: Europe/Oslo }
  - name: off
    enabled: false
    kill_switch: true
`);

const base: EvaluationContext = { pipeline: 'orders', step: 'clean', source: 'eu_orders', dataset: 'clean_orders' };

describe('evaluate', () => {
  test('a step version flag picks the candidate version for keys inside the slice and the baseline outside', () => {
    let inside = 0;
    for (let i = 0; i < 2000; i++) {
      const key = `order-${i}`;
      const r = evaluate('clean_v2', { ...base, slice_key: key }, PROJECT);
      const expected = bucket('clean_v2', key) < 3000;
      assert.equal(r.value, expected ? 'v2' : 'v1');
      assert.equal(r.reason, expected ? 'SPLIT' : 'DEFAULT');
      if (expected) inside++;
    }
    assert.ok(inside > 500 && inside < 700);
  });

  test('a listed dataset gets the candidate by targeting, whatever its keys', () => {
    const r = evaluate('clean_v2', { ...base, dataset: 'orders_replay', slice_key: 'x' }, PROJECT);
    assert.equal(r.value, 'v2');
    assert.equal(r.reason, 'TARGETING_MATCH');
  });

  test('a context outside the scope gets the default version and says why', () => {
    const r = evaluate('clean_v2', { ...base, pipeline: 'refunds', slice_key: 'k' }, PROJECT);
    assert.equal(r.value, 'v1');
    assert.equal(r.reason, 'DEFAULT');
    assert.match(r.explanation.decidedBy, /out of scope \(pipeline\)/);
  });

  test('the explanation names the deciding strategy and why each earlier one did not match', () => {
    let key = 0;
    while (bucket('clean_v2', String(key)) >= 3000) key++;
    const r = evaluate('clean_v2', { ...base, slice_key: String(key) }, PROJECT);
    const text = formatExplanation(r);
    assert.match(text, /decided by: strategy 2 \(gradual 30 % on slice_key\); variant v2/);
    assert.match(text, /✗ strategy 1 \(dataset in list\): did not match/);
    assert.match(text, /dataset "clean_orders" is not in \[orders_replay\]/);
    assert.match(text, /source \("eu_orders"\) IN "eu_orders": matched/);
    assert.match(text, new RegExp(`bucket of slice_key "${key}" \\d+ < 3000`));
  });

  test('a disabled kill switch is off with reason DISABLED', () => {
    const r = evaluate('off', {}, PROJECT);
    assert.equal(r.value, false);
    assert.equal(r.reason, 'DISABLED');
    assert.match(formatExplanation(r), /kill switch off/);
  });

  test('a flag is on only while the flag it depends on is on', () => {
    assert.equal(evaluate('fast_path', {}, PROJECT).value, true);
    const without = flagSet([...PROJECT.values()].map((f): FlagDefinition => (f.name === 'new_reader' ? { ...f, enabled: false } : f)));
    const r = evaluate('fast_path', {}, without);
    assert.equal(r.value, false);
    assert.match(r.explanation.decidedBy, /dependency new_reader: new_reader is not enabled/);
  });

  test('a recurring window follows the named time zone (Oslo office hours, from the injected clock)', () => {
    const clock = new ManualClock('2026-03-02T07:30:00Z'); // Monday 08:30 in Oslo (UTC+1)
    assert.equal(evaluate('office_hours', {}, PROJECT, { clock }).value, false);
    clock.set('2026-03-02T08:30:00Z'); // 09:30 Oslo
    assert.equal(evaluate('office_hours', {}, PROJECT, { clock }).value, true);
    clock.set('2026-03-07T10:00:00Z'); // Saturday
    const r = evaluate('office_hours', {}, PROJECT, { clock });
    assert.equal(r.value, false);
    assert.match(r.explanation.decidedBy, /not on an active day/);
    assert.equal(evaluate('office_hours', { currentTime: '2026-03-04T12:00:00Z' }, PROJECT, { clock }).value, true, 'context time wins over the clock');
  });

  test('an unknown flag or a malformed context gives the default with reason ERROR, never an exception', () => {
    const missing = evaluate('nope', {}, PROJECT);
    assert.deepEqual([missing.value, missing.reason, missing.errorCode], [false, 'ERROR', 'FLAG_NOT_FOUND']);
    const badTime = evaluate('office_hours', { currentTime: 'yesterday' }, PROJECT);
    assert.deepEqual([badTime.value, badTime.reason, badTime.errorCode], [false, 'ERROR', 'INVALID_CONTEXT']);
    fc.assert(fc.property(fc.anything(), fc.constantFrom(...PROJECT.keys(), 'missing'), (ctx, name) => {
      const r = evaluate(name, ctx as EvaluationContext, PROJECT);
      return typeof r.reason === 'string' && typeof r.explanation.decidedBy === 'string';
    }));
  });

  test('the same flag and context always give the same answer (pure)', () => {
    const ctx = { ...base, slice_key: 'k-42' };
    const a = evaluate('clean_v2', ctx, PROJECT);
    const b = evaluate('clean_v2', ctx, PROJECT);
    assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
  });

  test('--context k=v pairs put known fields on the context and the rest in properties', () => {
    const r = contextFromPairs(['dataset=orders', 'tier=gold']);
    assert.deepEqual(r, { ok: true, context: { dataset: 'orders', properties: { tier: 'gold' } } });
    assert.equal(contextFromPairs(['oops']).ok, false);
  });
});
