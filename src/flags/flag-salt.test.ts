import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { GradualStrategy, Strategy } from './flag.ts';
import { bucketingChanges, rolloutSalt } from './flag-salt.ts';

const gradual = (percentage: number, groupId: string, stickiness = 'slice_key'): GradualStrategy => ({ kind: 'gradual', percentage, stickiness, groupId, constraints: [], segments: [] });
const list: Strategy = { kind: 'list', field: 'dataset', values: ['cleaned_orders'], constraints: [], segments: [] };
const declared = { name: 'clean_orders_version', strategies: [gradual(0, 'clean_orders')] };

describe('rolloutSalt: a rollout keeps the group_id the flag has or declares', () => {
  test('the current gradual strategy first, then the declared one, then the flag name', () => {
    assert.equal(rolloutSalt({ strategies: [gradual(10, 'set_by_hand')] }, declared), 'set_by_hand');
    assert.equal(rolloutSalt({ strategies: [] }, declared), 'clean_orders', 'a promoted flag without strategies falls back to its declaration');
    assert.equal(rolloutSalt({ strategies: [list] }, { name: 'f', strategies: [] }), 'f', 'nothing declared: the flag name, as parse-flag-file and flags set --rollout use');
  });
});

describe('bucketingChanges: what would move keys between slices', () => {
  test('percentage changes do not re-bucket; another group_id or stickiness does', () => {
    const now = { strategies: [gradual(10, 'clean_orders')] };
    assert.deepEqual(bucketingChanges(now, { strategies: [gradual(50, 'clean_orders')] }, declared), []);
    assert.deepEqual(bucketingChanges(now, { strategies: [gradual(10, 'other')] }, declared), ['group_id clean_orders -> other']);
    assert.deepEqual(bucketingChanges(now, { strategies: [gradual(10, 'clean_orders', 'partition')] }, declared), ['stickiness slice_key -> partition']);
  });

  test('dropping a gradual strategy whose salt differs from the declared one changes the salt a rollout falls back to', () => {
    const now = { strategies: [gradual(10, 'set_by_hand')] };
    assert.match(bucketingChanges(now, { strategies: [list] }, declared)[0] ?? '', /^group_id set_by_hand -> clean_orders \(the salt a rollout falls back to/);
    assert.deepEqual(bucketingChanges({ strategies: [gradual(10, 'clean_orders')] }, { strategies: [] }, declared), [], 'the fallback is the same salt');
  });
});
