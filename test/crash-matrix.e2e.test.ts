import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from './helpers.ts';
import { allCells, formatMatrix, runCrashMatrix } from './support/crash-matrix.ts';

/**
 * The crash matrix of scripts/crash-matrix.ts, small enough for CI: 200,000 rows per partition,
 * one kill per cell, a subset of cells covering every operation (a first run, a re-run with
 * changed SQL, a republish, a rollout rollback, gc, compaction), named crash points and a file-size
 * trigger. Every kill is followed by `verify-data` (which recovers first) and checked: each
 * published partition is exactly one output version (verify-data and an independent checksum
 * through catalog.sql), the operation is all old or all new, nothing is left half done; a second
 * process reading through catalog.sql all along never sees a partition that is no output version.
 */
const CELLS = [
  'run:first@publish.committed',
  'run:rerun@size:50',
  'republish@publish.before-commit',
  'compaction@compaction.committed',
  'gc@gc.deleted-one',
  'rollback@effects.published',
];

describe('crash matrix (CI subset)', () => {
  test('every operation killed at a crash point or a file-size trigger recovers to one output version per partition, and a reader never sees a mix', { timeout: 360_000 }, async () => {
    using tmp = tempDir('sluice-crash-matrix-');
    const r = await runCrashMatrix({ rows: 200_000, killsPerCell: 1, cells: CELLS, dir: tmp.dir });
    const table = formatMatrix(r);
    assert.deepEqual(r.violations, [], table);
    assert.deepEqual([...new Set(r.cells.map((c) => c.cell.op))].sort(), [...new Set(allCells().map((c) => c.op))].sort(), 'the subset covers every operation');
    for (const c of r.cells) {
      assert.equal(c.kills, 1, `${c.cell.op}@${c.cell.point} was killed once\n${table}`);
      assert.equal(c.recoveredOk, 1, `${c.cell.op}@${c.cell.point} recovered\n${table}`);
      assert.equal(c.corrupt, 0);
    }
    assert.equal(r.cells.find((c) => c.cell.point.startsWith('size:'))?.old, 1, 'a run killed by the size trigger, mid-write, leaves the old publication');
    assert.ok(r.reader.reads > 0 && r.reader.duringKills > 0, `the reader read while commands were being killed: ${JSON.stringify(r.reader)}`);
    assert.equal(r.reader.mixes, 0);
  });
});
