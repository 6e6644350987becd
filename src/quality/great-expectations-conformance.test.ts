import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openScratchEngine } from '../app/adapters.ts';
import { formatGreatExpectationsLine, runGreatExpectationsSuite } from './conformance/great-expectations-suite.ts';

test('conformance: every Great Expectations case runs, none fails, each skip names its reason', async () => {
  await using engine = await openScratchEngine();
  const s = await runGreatExpectationsSuite(engine, { now: new Date('2026-03-01T00:00:00Z') });
  assert.equal(s.passed + s.failed + s.skipped, 191, 'all 191 upstream cases are counted');
  assert.deepEqual(s.failures, []);
  assert.equal(s.failed, 0);
  for (const skip of s.skips) {
    assert.match(skip.reason, /^only_for [a-z_0-9, ]+: .{10,}/, `${skip.file} ${skip.title} states why it is skipped`);
    assert.ok(skip.title.length > 0);
  }
  assert.match(formatGreatExpectationsLine(s), /^great-expectations: \d+ passed, 0 failed, \d+ skipped$/);
});
