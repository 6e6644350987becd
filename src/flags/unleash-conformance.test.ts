import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runUnleashSuite } from './conformance/unleash-suite.ts';

test('unleash-client-spec: every case of every listed file passes through importUnleash + evaluate', (t) => {
  const r = runUnleashSuite();
  for (const s of r.skips) t.diagnostic(`skipped ${s.name}: ${s.reason}`);
  t.diagnostic(`unleash-client-spec: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
  assert.deepEqual(r.failures, []);
  assert.equal(r.failed, 0);
  assert.equal(r.passed + r.skipped, 279, 'the suite has 279 cases (227 tests + 52 variantTests)');
});
