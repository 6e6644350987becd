// The crash matrix (issue 11 items 2 and 6): every storage operation killed at every crash point
// and at file-size triggers, recovery checked after each kill, a second process reading through
// catalog.sql all along. The work is in test/support/crash-matrix.ts (shared with
// test/crash-matrix.e2e.test.ts).
//
//   npx tsx scripts/crash-matrix.ts [--rows N] [--kills-per-cell K] [--cells op@point,...] [--keep] [--quiet]
//
// Defaults: 2,000,000 rows per partition, 2 kills per cell (every cell: > 100 kills). Exits 1 on
// any violation. Works in a temporary folder (kept with --keep, or when something failed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { allCells, cellId, formatMatrix, runCrashMatrix } from '../test/support/crash-matrix.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '2000000' },
    'kills-per-cell': { type: 'string', default: '2' },
    cells: { type: 'string' },
    keep: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
  },
});
if (values.list) {
  for (const c of allCells()) console.log(cellId(c));
  process.exit(0);
}
const rows = Number(values.rows);
const killsPerCell = Number(values['kills-per-cell']);
if (!Number.isInteger(rows) || rows < 1000 || !Number.isInteger(killsPerCell) || killsPerCell < 1) {
  console.error('usage: npx tsx scripts/crash-matrix.ts [--rows N (>= 1000)] [--kills-per-cell K (>= 1)] [--cells op@point,...] [--keep] [--quiet] [--list]');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'sluice-crash-matrix-'));
const started = Date.now();
const log = (line: string): void => {
  if (!values.quiet) process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}\n`);
};
const result = await runCrashMatrix({ rows, killsPerCell, dir, log, ...(values.cells ? { cells: values.cells.split(',').map((c) => c.trim()) } : {}) });
console.log(formatMatrix(result));
const failed = result.violations.length > 0;
if (values.keep || failed) console.log(`work folder kept: ${dir}`);
else rmSync(dir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
