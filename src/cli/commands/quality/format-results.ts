import type { SqlValue } from '../../../engine/sql-engine.ts';
import type { CheckResult } from '../../../quality/check-types.ts';
import type { ContractCheckResult } from '../../../quality/stored-results.ts';

/** A value as a short, readable cell (strings quoted, long ones cut). */
export function cell(v: SqlValue | undefined, max = 40): string {
  if (v === null || v === undefined) return 'null';
  const s = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function percent(x: number, digits = 2): string {
  return `${x.toFixed(digits)} %`;
}

/** One row per check result, as `sluice check` prints them; the first `fromContract` are the contract's. */
export function checkRows(results: readonly CheckResult[], sample: number, fromContract = 0): Record<string, string | number>[] {
  return results.map((r, i) => ({
    check: i < fromContract && !r.id.startsWith('contract:') ? `contract:${r.id}` : r.id,
    severity: r.severity,
    result: r.success ? 'ok' : r.severity === 'error' ? 'FAILED' : 'failed (warn)',
    elements: r.elementCount,
    unexpected: r.unexpectedCount,
    unexpected_pct: percent(r.unexpectedPercent),
    missing: r.missingCount,
    observed: r.observedValue === null ? '' : cell(r.observedValue, 30),
    sample: r.unexpectedValues.slice(0, sample).map((v) => cell(v, 24)).join(', '),
  }));
}

export function contractLine(c: ContractCheckResult): string[] {
  const head = `contract ${c.contract.ref} v${c.contract.version}${c.contract.file ? ` (${c.contract.file})` : ''}: ${c.success ? 'holds' : 'BROKEN'}`;
  return [head, ...c.violations.map((v) => `  ${v.breaking ? '-' : '·'} ${v.kind}: ${v.message}${v.breaking ? '' : ' (not breaking)'}`)];
}
