import { conformanceDir } from '../../util/conformance-dir.ts';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SqlEngine } from '../../engine/sql-engine.ts';
import { isSluiceError, messageOf } from '../../util/errors.ts';
import { loadCaseTable } from './ge-dataset-loader.ts';
import { compareGreatExpectationsOutput, toGreatExpectationsResult } from './ge-compare.ts';
import { mapExpectation } from './ge-expectation-map.ts';
import { parseChecks } from '../parse-checks.ts';
import { runChecks } from '../run-checks.ts';

/**
 * Runs the Great Expectations JSON test definitions in `<shared>/conformance/great-expectations/`
 * unchanged against Sluice's checks on DuckDB, following how upstream evaluates a case (see that
 * folder's README): data in, kwargs mapped to a Sluice check, success / observed_value / unexpected
 * lists out.
 */
export interface ConformanceCase {
  readonly file: string;
  readonly dataset: number;
  readonly title: string;
}
export interface ConformanceFailure extends ConformanceCase {
  readonly reason: string;
}
export interface ConformanceSummary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly failures: readonly ConformanceFailure[];
  readonly skips: readonly ConformanceFailure[];
  /** Passed cases where Sluice differs from upstream in a way upstream's comparison does not see. */
  readonly notes: readonly ConformanceFailure[];
}

interface GeTest {
  title: string;
  exact_match_out?: boolean;
  in: Record<string, unknown>;
  out: Record<string, unknown>;
  only_for?: string[];
  suppress_test_for?: string[];
  tolerance?: number;
  error?: { traceback_substring?: string };
}
interface GeDataset {
  data: Record<string, unknown[]>;
  schemas?: Record<string, Record<string, string>>;
  only_for?: string[];
  tests: GeTest[];
}

/** Backends whose semantics are plain SQL, as Sluice's are: cases limited to them still run. */
const SQL_BACKENDS = new Set(['sqlalchemy', 'sqlite', 'postgresql', 'mysql', 'mssql', 'snowflake', 'redshift', 'trino']);

/** Why a case limited to other backends is skipped. */
function skipReason(onlyFor: readonly string[], kwargs: Record<string, unknown> = {}): string | undefined {
  if (onlyFor.some((b) => SQL_BACKENDS.has(b))) return undefined;
  if (onlyFor.some((b) => b.startsWith('bigquery')))
    return `only_for ${onlyFor.join(', ')}: pins BigQuery's loader, which stores NULL as the string "None"`;
  if (onlyFor.some((b) => b.startsWith('pandas')))
    return 'row_condition' in kwargs
      ? `only_for ${onlyFor.join(', ')}: row_condition in pandas query syntax (Sluice filters rows in the step's SQL instead)`
      : `only_for ${onlyFor.join(', ')}: pins pandas result objects (pandas index lists or pandas-only result_format output)`;
  if (onlyFor.some((b) => b.startsWith('spark'))) return `only_for ${onlyFor.join(', ')}: Spark-only types or column naming`;
  return `only_for ${onlyFor.join(', ')}: not a SQL backend`;
}

export interface GreatExpectationsSuiteOptions {
  /** The run time `now()` in evaluation parameters refers to (defaults to the wall clock at the edge). */
  readonly now?: Date;
  /** The suite's folder (default: conformance/great-expectations in this repository). */
  readonly dir?: string;
}

/** Runs every case on `engine` (an empty scratch engine: the suite creates its tables there). */
export async function runGreatExpectationsSuite(engine: SqlEngine, options: GreatExpectationsSuiteOptions = {}): Promise<ConformanceSummary> {
  const dir = options.dir ?? conformanceDir('great-expectations');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const now = options.now ?? new Date();
  const failures: ConformanceFailure[] = [];
  const skips: ConformanceFailure[] = [];
  const notes: ConformanceFailure[] = [];
  let passed = 0;
  let tableNo = 0;
  {
    for (const file of files) {
      const spec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { expectation_type: string; datasets: GeDataset[] };
      for (const [di, ds] of spec.datasets.entries()) {
        const dsSkip = ds.only_for ? skipReason(ds.only_for) : undefined;
        let table: { withIndex: string; plain: string } | undefined;
        for (const t of ds.tests) {
          const where: ConformanceCase = { file, dataset: di, title: t.title };
          const skip = dsSkip ?? (t.only_for ? skipReason(t.only_for, t.in) : undefined);
          if (skip) {
            skips.push({ ...where, reason: skip });
            continue;
          }
          try {
            table ??= await loadCaseTable(engine, `ge_${tableNo++}`, ds.data, ds.schemas);
            const outcome = await runCase(engine, spec.expectation_type, t, table, now);
            if (outcome.ok) {
              passed++;
              if (outcome.note) notes.push({ ...where, reason: outcome.note });
            } else failures.push({ ...where, reason: outcome.reason });
          } catch (e) {
            failures.push({ ...where, reason: `harness error: ${messageOf(e)}` });
          }
        }
      }
    }
  }
  return { passed, failed: failures.length, skipped: skips.length, failures, skips, notes };
}

/** The line `npm run conformance` prints for this suite. */
export function formatGreatExpectationsLine(s: Pick<ConformanceSummary, 'passed' | 'failed' | 'skipped'>): string {
  return `great-expectations: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`;
}

type Outcome = { ok: true; note?: string } | { ok: false; reason: string };

async function runCase(engine: SqlEngine, expectation: string, t: GeTest, table: { withIndex: string; plain: string }, now: Date): Promise<Outcome> {
  const expectsError = t.error !== undefined || 'traceback_substring' in t.out;
  const mapped = mapExpectation(expectation, t.in, now);
  if (!mapped.ok) return { ok: false, reason: mapped.reason };
  let result;
  let error: string | undefined;
  const parsed = parseChecks([mapped.check], { path: 'checks' });
  if (!parsed.ok) error = parsed.problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  else {
    try {
      const report = await runChecks(engine, mapped.rowLevel ? table.withIndex : table.plain, parsed.checks, {
        now,
        sampleSize: 1000,
        indexColumns: mapped.rowLevel ? ['pk_index'] : [],
      });
      result = report.results[0];
    } catch (e) {
      if (!isSluiceError(e)) throw e;
      error = e.problems.length > 0 ? e.problems.map((p) => `${p.field}: ${p.message}`).join('; ') : e.message;
    }
  }
  if (expectsError) {
    if (error !== undefined) return { ok: true };
    const outKeys = Object.keys(t.out);
    if (outKeys.length === 0)
      return { ok: true, note: `upstream expects an error (${t.error?.traceback_substring ?? ''}); Sluice accepted the check and upstream compares no output` };
    return { ok: false, reason: `expected an error (${String(t.out['traceback_substring'] ?? t.error?.traceback_substring)}), but the check ran` };
  }
  if (error !== undefined || !result) return { ok: false, reason: `unexpected error: ${error}` };
  const ge = toGreatExpectationsResult(result);
  const diff = compareGreatExpectationsOutput(ge, t.out, { exact: t.exact_match_out === true, ...(t.tolerance !== undefined ? { tolerance: t.tolerance } : {}) });
  return diff === undefined ? { ok: true } : { ok: false, reason: diff };
}
