import type { SqlValue } from '../../engine/sql-engine.ts';
import type { CheckResult } from '../check-types.ts';

/** A Sluice check result in the shape of a Great Expectations validation result. */
export interface GeResult {
  success: boolean;
  result: Record<string, unknown>;
}

export function toGreatExpectationsResult(r: CheckResult): GeResult {
  const looked = r.elementCount - r.missingCount;
  const result: Record<string, unknown> = {
    element_count: r.elementCount,
    missing_count: r.missingCount,
    missing_percent: r.elementCount > 0 ? (100 * r.missingCount) / r.elementCount : null,
    unexpected_count: r.unexpectedCount,
    unexpected_percent: looked > 0 ? r.unexpectedPercent : null,
    unexpected_percent_total: r.unexpectedPercentTotal,
    unexpected_percent_nonmissing: looked > 0 ? r.unexpectedPercent : null,
    unexpected_list: r.unexpectedValues,
    partial_unexpected_list: r.unexpectedValues.slice(0, 20),
    unexpected_index_list: r.unexpectedRows,
    observed_value: r.observedValue,
  };
  if (r.details['valueCounts']) result['value_counts'] = r.details['valueCounts'];
  if (r.check === 'not_null' || r.check === 'null') {
    result['unexpected_percent'] = r.unexpectedPercentTotal;
    delete result['missing_count'];
    delete result['missing_percent'];
  }
  return { success: r.success, result };
}

export interface CompareOptions {
  readonly exact: boolean;
  readonly tolerance?: number;
}

/**
 * Compares like upstream's `check_json_test_result`: only keys present in `out` (or, for exact
 * cases, every key of `out.result`), lists of unexpected values order-insensitively, index lists
 * after sorting by pk_index, floats with rtol 1e-7 / atol 5e-2 or the case's tolerance.
 * `details` (upstream-internal diagnostics, e.g. pandas hashability notes) is not compared.
 * Returns undefined when equal, else what differs.
 */
export function compareGreatExpectationsOutput(ge: GeResult, out: Record<string, unknown>, o: CompareOptions): string | undefined {
  const tol = o.tolerance;
  if (o.exact) {
    if ('success' in out && out['success'] !== ge.success) return `success: expected ${String(out['success'])}, got ${ge.success}`;
    const want = (out['result'] ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(want)) {
      if (k === 'details') continue;
      const d = compareKey(k, ge.result[k], v, tol);
      if (d) return d;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(out)) {
    if (k === 'success') {
      if (v !== ge.success) return `success: expected ${String(v)}, got ${ge.success}`;
      continue;
    }
    if (k === 'unexpected_count' || k === 'details') continue;
    const d = compareKey(k, ge.result[k], v, tol);
    if (d) return d;
  }
  return undefined;
}

function compareKey(k: string, got: unknown, want: unknown, tol: number | undefined): string | undefined {
  const fail = (): string => `${k}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`;
  switch (k) {
    case 'unexpected_list':
    case 'partial_unexpected_list':
      return sameMultiset(got, want) ? undefined : fail();
    case 'unexpected_index_list': {
      const byIndex = (a: unknown): unknown[] => (Array.isArray(a) ? [...a].sort((x, y) => pk(x) - pk(y)) : []);
      return Array.isArray(want) && Array.isArray(got) && equalish(byIndex(got), byIndex(want), undefined) ? undefined : fail();
    }
    case 'value_counts': {
      const sorted = (a: unknown): unknown[] => (Array.isArray(a) ? [...a].sort((x, y) => cmp(value(x), value(y))) : []);
      return equalish(sorted(got), sorted(want), undefined) ? undefined : fail();
    }
    case 'observed_value':
      return equalish(got, want, tol) ? undefined : fail();
    default:
      if (!(k in KNOWN)) return `${k}: key not produced by Sluice`;
      return equalish(got, want, tol) ? undefined : fail();
  }
}

const KNOWN: Record<string, true> = {
  element_count: true,
  missing_count: true,
  missing_percent: true,
  unexpected_count: true,
  unexpected_percent: true,
  unexpected_percent_total: true,
  unexpected_percent_nonmissing: true,
};

const pk = (x: unknown): number => Number((x as Record<string, unknown>)?.['pk_index'] ?? 0);
const value = (x: unknown): unknown => (x as Record<string, unknown>)?.['value'];
const cmp = (a: unknown, b: unknown): number => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);

function sameMultiset(got: unknown, want: unknown): boolean {
  if (!Array.isArray(got) || !Array.isArray(want) || got.length !== want.length) return false;
  const rest = [...got];
  for (const w of want) {
    const i = rest.findIndex((g) => equalish(g, w, undefined));
    if (i < 0) return false;
    rest.splice(i, 1);
  }
  return true;
}

/** Timestamps as DuckDB returns them ("…T12:00:01.000Z") vs upstream's naive ISO ("…T12:00:01"). */
function normalizeTime(s: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.0+)?Z?$/.exec(s);
  return m ? `${m[1]}T${m[2]}` : s;
}

function equalish(got: unknown, want: unknown, tol: number | undefined): boolean {
  if (typeof want === 'number' && typeof got === 'number') {
    if (tol !== undefined) return Math.abs(got - want) <= tol * Math.abs(want) || Math.abs(got - want) <= tol;
    return Math.abs(got - want) <= 5e-2 + 1e-7 * Math.abs(want);
  }
  if (typeof want === 'string' && typeof got === 'string') return normalizeTime(want) === normalizeTime(got);
  if (Array.isArray(want)) return Array.isArray(got) && got.length === want.length && want.every((w, i) => equalish(got[i], w, tol));
  if (want !== null && typeof want === 'object') {
    if (got === null || typeof got !== 'object' || Array.isArray(got)) return false;
    const wk = Object.keys(want).sort();
    const gk = Object.keys(got).sort();
    return wk.length === gk.length && wk.every((k, i) => k === gk[i] && equalish((got as Record<string, SqlValue>)[k], (want as Record<string, unknown>)[k], tol));
  }
  return got === want;
}
