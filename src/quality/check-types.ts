import type { Row, SqlValue } from '../engine/sql-engine.ts';
import type { Problem } from '../util/errors.ts';

export type Severity = 'warn' | 'error';

/** A bound of a range check: a number, or a string for dates, timestamps and text. */
export type Bound = number | string;

export interface RangeBounds {
  readonly min?: Bound;
  readonly max?: Bound;
  /** `min` itself fails (x > min instead of x >= min). */
  readonly strictMin: boolean;
  readonly strictMax: boolean;
}

/** Which rows a compound unique check ignores: those with every key part null (default) or any. */
export type IgnoreRowsIf = 'all_missing' | 'any_missing' | 'never';

export type CheckSpec =
  | { readonly kind: 'not_null'; readonly column: string }
  | { readonly kind: 'null'; readonly column: string }
  | { readonly kind: 'unique'; readonly columns: readonly string[]; readonly ignoreRowsIf: IgnoreRowsIf }
  | ({ readonly kind: 'between'; readonly column: string } & RangeBounds)
  | { readonly kind: 'in_set'; readonly column: string; readonly values: readonly SqlValue[] }
  | { readonly kind: 'not_in_set'; readonly column: string; readonly values: readonly SqlValue[] }
  | { readonly kind: 'regex'; readonly column: string; readonly pattern: string }
  | ({ readonly kind: 'value_length_between'; readonly column: string } & RangeBounds)
  | ({ readonly kind: 'row_count_between' } & RangeBounds)
  | ({ readonly kind: ColumnMetricKind; readonly column: string } & RangeBounds)
  | { readonly kind: 'distinct_values_in_set'; readonly column: string; readonly values: readonly SqlValue[] | null }
  | { readonly kind: 'columns_match_ordered_list'; readonly columns: readonly string[] | null }
  | { readonly kind: 'columns_match_set'; readonly columns: readonly string[]; readonly exact: boolean }
  | { readonly kind: 'column_exists'; readonly column: string; readonly index?: number }
  | { readonly kind: 'column_type'; readonly column: string; readonly type: string }
  | { readonly kind: 'freshness'; readonly column: string; readonly maxAgeSeconds: number; readonly maxAge: string }
  | {
      readonly kind: 'references';
      readonly columns: readonly string[];
      readonly table: string;
      readonly toColumns: readonly string[];
    }
  | { readonly kind: 'custom_sql'; readonly sql: string; readonly description?: string };

export type ColumnMetricKind =
  | 'column_mean_between'
  | 'column_min_between'
  | 'column_max_between'
  | 'column_sum_between'
  | 'column_distinct_count_between';

export type CheckKind = CheckSpec['kind'];

/** Where a check was declared, so late errors (unknown column at run time) still name file:line. */
export interface CheckPlace {
  readonly file?: string;
  readonly line?: number;
  /** Field path of the check, e.g. `datasets.orders.checks.2`. */
  readonly field?: string;
}

/** One declared check, parsed and normalized. */
export type Check = CheckSpec & {
  readonly id: string;
  readonly severity: Severity;
  /** Fraction of (non-missing) rows that must pass, 0..1. */
  readonly mostly: number;
  readonly place: CheckPlace;
};

export interface CheckResult {
  readonly id: string;
  readonly check: CheckKind;
  readonly columns: readonly string[];
  readonly severity: Severity;
  readonly mostly: number;
  readonly success: boolean;
  /** Rows in the table. */
  readonly elementCount: number;
  /** Rows the check ignores (nulls in the checked column; null keys for compound unique). */
  readonly missingCount: number;
  readonly unexpectedCount: number;
  /** unexpectedCount as a percentage of the rows the check looked at (element - missing). */
  readonly unexpectedPercent: number;
  /** unexpectedCount as a percentage of all rows. */
  readonly unexpectedPercentTotal: number;
  /** The metric the check compared (aggregate checks), or null. */
  readonly observedValue: SqlValue;
  /** Up to sampleSize offending values (objects for compound keys, rows for custom SQL). */
  readonly unexpectedValues: readonly SqlValue[];
  /** The same offending rows with the checked columns plus the run's index columns. */
  readonly unexpectedRows: readonly Row[];
  /** Check-specific extras: value counts, the age of the newest row, the SQL used. */
  readonly details: Readonly<Record<string, SqlValue>>;
  /** One line a data engineer can read. */
  readonly message: string;
}

export type ParseChecksResult =
  | { readonly ok: true; readonly checks: readonly Check[]; readonly warnings: readonly Problem[] }
  | { readonly ok: false; readonly problems: readonly Problem[]; readonly warnings: readonly Problem[] };
