import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';

test('sluice demo tells the whole story on the embedded engines: v2 promoted, v3 caught at its canary and rolled back', () => {
  using tmp = tempDir();
  const bin = join(import.meta.dirname, '..', 'bin', 'sluice.js');
  const r = spawnSync(process.execPath, [bin, '--json', 'demo', '--dir', join(tmp.dir, 'shop'), '--orders-per-day', '600'], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { partitions: number; failed: number; rollouts: Record<string, string>; verifiedAfterRollback: number; candidatePublications: number; datasets: Record<string, number> };
  assert.equal(out.partitions, 14);
  assert.equal(out.failed, 0);
  assert.deepEqual(out.rollouts, { 'clean-orders-v2': 'promoted', 'clean-orders-v3': 'rolled_back' });
  assert.ok(out.verifiedAfterRollback >= 1, 'partitions touched by v3 equal their baseline output');
  assert.equal(out.candidatePublications, 0, 'no publication ever pointed at a candidate or blended output of v3');
  assert.ok((out.datasets['cleaned_orders'] ?? 0) > 14 * 500);
  const status = spawnSync(process.execPath, [bin, '--project', join(tmp.dir, 'shop'), 'audit', 'verify'], { encoding: 'utf8' });
  assert.equal(status.status, 0, status.stdout + status.stderr);
});
