import * as v from 'valibot';
import { jsonNumber } from './json-number.ts';
import type { Row, SqlValue } from '../../engine/sql-engine.ts';
import type { CheckKind, CheckResult } from '../../quality/check-types.ts';
import type { ProfileAnomaly } from '../../quality/profile-anomalies.ts';
import type { ColumnProfile } from '../../quality/profile-table.ts';
import type { ContractCheckResult, StoredCheckResult, StoredProfile } from '../../quality/stored-results.ts';

/** Check results and profiles as the store keeps them (JSON), checked on the way out. */
const str = v.string();
const num = jsonNumber;
const nullableNum = v.nullable(v.number());

export const sqlValueSchema: v.GenericSchema<SqlValue> = v.lazy(() =>
  v.union([v.null(), v.boolean(), v.number(), v.string(), v.array(sqlValueSchema), v.record(v.string(), sqlValueSchema)]),
);
const row: v.GenericSchema<unknown, Row> = v.record(v.string(), sqlValueSchema);

const CHECK_KINDS = [
  'not_null', 'null', 'unique', 'between', 'in_set', 'not_in_set', 'regex', 'value_length_between', 'row_count_between',
  'column_mean_between', 'column_min_between', 'column_max_between', 'column_sum_between', 'column_distinct_count_between',
  'distinct_values_in_set', 'columns_match_ordered_list', 'columns_match_set', 'column_exists', 'column_type', 'freshness',
  'references', 'custom_sql',
] as const satisfies readonly CheckKind[];

const checkResult: v.GenericSchema<unknown, CheckResult> = v.object({
  id: str,
  check: v.picklist(CHECK_KINDS),
  columns: v.array(str),
  severity: v.picklist(['warn', 'error']),
  mostly: num,
  success: v.boolean(),
  elementCount: num,
  missingCount: num,
  unexpectedCount: num,
  unexpectedPercent: num,
  unexpectedPercentTotal: num,
  observedValue: sqlValueSchema,
  unexpectedValues: v.array(sqlValueSchema),
  unexpectedRows: v.array(row),
  details: v.record(v.string(), sqlValueSchema),
  message: str,
});

const contractResult: v.GenericSchema<unknown, ContractCheckResult> = v.object({
  id: v.literal('contract'),
  check: v.literal('contract'),
  columns: v.array(str),
  severity: v.literal('error'),
  success: v.boolean(),
  contract: v.object({ ref: str, version: num, file: v.nullable(str) }),
  elementCount: num,
  unexpectedCount: num,
  violations: v.array(
    v.object({
      kind: v.picklist(['missing_column', 'wrong_type', 'nulls_in_not_null_column', 'duplicate_key', 'check_failed', 'extra_column']),
      column: v.optional(str),
      check: v.optional(str),
      count: v.optional(num),
      sample: v.optional(v.array(sqlValueSchema)),
      breaking: v.boolean(),
      message: str,
    }),
  ),
  message: str,
});

export const storedCheckResultsSchema: v.GenericSchema<unknown, StoredCheckResult[]> = v.array(v.union([contractResult, checkResult]));

const family = v.picklist(['integer', 'float', 'decimal', 'text', 'boolean', 'date', 'timestamp', 'time', 'other']);
const columnProfile: v.GenericSchema<unknown, ColumnProfile> = v.object({
  name: str,
  type: str,
  family,
  nullCount: num,
  nullRate: num,
  distinctCount: num,
  min: sqlValueSchema,
  max: sqlValueSchema,
  mean: nullableNum,
  stddev: nullableNum,
  quantiles: v.nullable(v.object({ p01: num, p25: num, p50: num, p75: num, p99: num })),
  topValues: v.nullable(v.array(v.object({ value: sqlValueSchema, count: num }))),
  estimated: v.array(v.picklist(['distinctCount', 'quantiles'])),
});

const anomaly: v.GenericSchema<unknown, ProfileAnomaly> = v.object({
  verdict: v.picklist(['normal', 'anomaly', 'insufficient_history', 'insufficient_volume']),
  value: num,
  median: nullableNum,
  mad: nullableNum,
  scale: nullableNum,
  scaleMethod: v.nullable(v.picklist(['mad', 'mean_absolute_deviation', 'flat'])),
  score: nullableNum,
  threshold: num,
  direction: v.nullable(v.picklist(['high', 'low'])),
  historyUsed: num,
  seasonal: v.boolean(),
  reason: str,
  metric: str,
  flagged: v.boolean(),
  expected: nullableNum,
  actual: num,
  message: str,
});

export const storedProfileSchema: v.GenericSchema<unknown, StoredProfile> = v.object({
  method: v.picklist(['exact', 'sampled']),
  rowCount: num,
  columns: v.array(columnProfile),
  metrics: v.record(v.string(), num),
  anomalies: v.array(anomaly),
  seconds: num,
});
