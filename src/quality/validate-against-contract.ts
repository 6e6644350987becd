import type { SqlEngine, SqlValue } from '../engine/sql-engine.ts';
import type { Check } from './check-types.ts';
import type { Contract } from './contract.ts';
import { type SqlDialect } from '../engine/sql-dialect.ts';
import { checkColumns } from './check-sql.ts';
import { type CheckRunReport, runChecks } from './run-checks.ts';
import { describeTable } from './table-columns.ts';

export type ContractViolationKind = 'missing_column' | 'wrong_type' | 'nulls_in_not_null_column' | 'duplicate_key' | 'check_failed' | 'extra_column';

export interface ContractViolation {
  readonly kind: ContractViolationKind;
  readonly column?: string;
  readonly check?: string;
  /** Rows involved, where counted. */
  readonly count?: number;
  readonly sample?: readonly SqlValue[];
  /** Extra columns are reported but do not break the contract. */
  readonly breaking: boolean;
  readonly message: string;
}

export interface ContractValidation {
  readonly dataset: string;
  readonly version: number;
  readonly valid: boolean;
  readonly violations: readonly ContractViolation[];
  /** The fused check run: the contract's own checks first, then `extraChecks` (see options). */
  readonly checks?: CheckRunReport;
  /** How many of `checks.results` are the contract's (the rest are `extraChecks`). */
  readonly contractCheckCount?: number;
}

/**
 * Does a table honour its contract? Columns and types come from the catalog; nulls in non-null
 * columns, duplicate primary keys and the contract's own checks run as one fused check run.
 *
 * `extraChecks` (a dataset's own checks) join the same fused run, so a run that validates both
 * scans its output once; their results follow the contract's in `checks` and never count as
 * violations. An extra check on a column the contract declares but the table lacks is left out:
 * the missing column already breaks the contract.
 */
export async function validateAgainstContract(
  engine: SqlEngine,
  table: string,
  contract: Contract,
  options: { now?: Date; sampleSize?: number; dialect?: SqlDialect; extraChecks?: readonly Check[]; indexColumns?: readonly string[] } = {},
): Promise<ContractValidation> {
  const dialect = options.dialect ?? engine.dialect;
  const actual = await describeTable(engine, table, dialect);
  const violations: ContractViolation[] = [];
  for (const col of contract.columns) {
    const found = actual.find((a) => a.name === col.name);
    if (!found) violations.push({ kind: 'missing_column', column: col.name, breaking: true, message: `column ${col.name} (${col.type}) is missing from ${table}` });
    else if (dialect.canonicalType(found.type) !== dialect.canonicalType(col.type))
      violations.push({ kind: 'wrong_type', column: col.name, breaking: true, message: `column ${col.name} is ${found.type}; the contract says ${col.type}` });
  }
  for (const a of actual)
    if (!contract.columns.some((c) => c.name === a.name)) violations.push({ kind: 'extra_column', column: a.name, breaking: false, message: `column ${a.name} is not in the contract` });
  const present = new Set(actual.map((a) => a.name));
  const place = { field: `contracts.${contract.dataset}` };
  const derived: Check[] = [
    ...contract.columns
      .filter((c) => !c.nullable && present.has(c.name))
      .map((c): Check => ({ kind: 'not_null', column: c.name, id: `contract:not_null(${c.name})`, severity: 'error', mostly: 1, place })),
    ...(contract.primaryKey.length > 0 && contract.primaryKey.every((k) => present.has(k))
      ? [{ kind: 'unique', columns: contract.primaryKey, ignoreRowsIf: 'never', id: `contract:primary_key(${contract.primaryKey.join(',')})`, severity: 'error', mostly: 1, place } as Check]
      : []),
  ];
  const semantic = contract.checks.filter((c) => (c.kind === 'column_exists' || !('column' in c) || present.has(c.column)));
  const declaredMissing = new Set(contract.columns.filter((c) => !present.has(c.name)).map((c) => c.name));
  const extra = (options.extraChecks ?? []).filter((c) => !checkColumns(c).some((n) => declaredMissing.has(n)));
  const own = [...derived, ...semantic];
  const report = await runChecks(engine, table, [...own, ...extra], {
    ...(options.now ? { now: options.now } : {}),
    sampleSize: options.sampleSize ?? 5,
    dialect,
    ...(options.indexColumns ? { indexColumns: options.indexColumns } : {}),
  });
  for (const r of report.results.slice(0, own.length)) {
    if (r.success) continue;
    const kind: ContractViolationKind = r.id.startsWith('contract:not_null') ? 'nulls_in_not_null_column' : r.id.startsWith('contract:primary_key') ? 'duplicate_key' : 'check_failed';
    violations.push({
      kind,
      ...(r.columns.length === 1 ? { column: r.columns[0] } : {}),
      ...(kind === 'check_failed' ? { check: r.id } : {}),
      count: r.unexpectedCount,
      sample: r.unexpectedValues,
      breaking: r.severity === 'error',
      message: r.message,
    });
  }
  return { dataset: contract.dataset, version: contract.version, valid: violations.every((v) => !v.breaking), violations, checks: report, contractCheckCount: own.length };
}
