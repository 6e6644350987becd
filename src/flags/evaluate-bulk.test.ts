import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate } from './evaluate.ts';
import { evaluateBulk } from './evaluate-bulk.ts';
import { flagSet } from './flag.ts';
import { parseFlagFile } from './parse-flag-file.ts';

const r = parseFlagFile('flags/bulk.yaml', `flags:
  - name: rollout
    enabled: true
    strategies:
      - kind: gradual
        percentage: 30
        constraints: [{ field: source, operator: IN, values: [eu_orders] }]
  - name: versions
    enabled: true
    default_variant: v1
    strategies:
      - kind: list
        datasets: [replay]
        variants: [{ name: v3 }]
      - kind: list
        partitions: [nope]
      - kind: gradual
        percentage: 10
        variants: [{ name: v2 }]
  - name: pinned_keys
    enabled: true
    strategies:
      - kind: gradual
        percentage: 5
        group_id: shared
      - kind: default
        constraints: [{ field: step, operator: IN, values: [clean] }]
  - name: weighted
    enabled: true
    variants: [{ name: a, weight: 1 }, { name: b, weight: 1 }]
  - name: parent
    enabled: true
  - name: child
    enabled: true
    dependencies: [{ flag: parent }]
    strategies: [{ kind: gradual, percentage: 50 }]
`);
if (!r.ok) throw new Error(JSON.stringify(r.problems));
const FLAGS = flagSet(r.flags);

const keys: (string | number | null)[] = [];
for (let i = 0; i < 30_000; i++) keys.push(i % 3 === 0 ? i : `k-${i}`);
keys.push(null, '', 'é😊');

describe('bulk evaluation over a column of keys', () => {
  for (const [name, ctx, path] of [
    ['rollout', { source: 'eu_orders' }, 'fast'],
    ['rollout', { source: 'us_orders' }, 'fast'],
    ['versions', { dataset: 'orders' }, 'fast'],
    ['versions', { dataset: 'replay' }, 'fast'],
    ['pinned_keys', { step: 'clean' }, 'fast'],
    ['pinned_keys', { step: 'load' }, 'fast'],
    ['weighted', {}, 'per-key'],
    ['child', {}, 'per-key'],
  ] as const) {
    test(`${name} with ${JSON.stringify(ctx)} gives exactly the per-key answers (${path} path)`, () => {
      const flag = FLAGS.get(name)!;
      const bulk = evaluateBulk(flag, keys, ctx, FLAGS);
      assert.equal(bulk.path, path);
      let on = 0;
      keys.forEach((k, i) => {
        const one = evaluate(flag, k === null ? ctx : { ...ctx, slice_key: k }, FLAGS);
        assert.equal(bulk.enabled[i], one.enabled ? 1 : 0, `key ${String(k)}`);
        const v = bulk.variants[i] === 255 ? undefined : bulk.variantNames[bulk.variants[i]!];
        assert.equal(v, one.variant, `variant of key ${String(k)}`);
        on += bulk.enabled[i]!;
      });
      if (name === 'rollout' && ctx.source === 'eu_orders') assert.ok(Math.abs(on / keys.length - 0.3) < 0.02);
    });
  }
});
