/**
 * Maps a Great Expectations expectation type + kwargs to the YAML-shaped object a Sluice user
 * would write, so the conformance suite exercises the same parser as project files.
 */
export type MappedExpectation = { ok: true; check: Record<string, unknown>; rowLevel: boolean } | { ok: false; reason: string };

const RANGE_KWARGS: Record<string, string> = { min_value: 'min', max_value: 'max', strict_min: 'strict_min', strict_max: 'strict_max' };

const TABLE: Record<string, { check: string; rowLevel: boolean; kwargs: Record<string, string> }> = {
  expect_column_values_to_not_be_null: { check: 'not_null', rowLevel: true, kwargs: { column: 'column', mostly: 'mostly' } },
  expect_column_values_to_be_null: { check: 'null', rowLevel: true, kwargs: { column: 'column', mostly: 'mostly' } },
  expect_column_values_to_be_unique: { check: 'unique', rowLevel: true, kwargs: { column: 'column', mostly: 'mostly' } },
  expect_column_values_to_be_between: { check: 'between', rowLevel: true, kwargs: { column: 'column', mostly: 'mostly', ...RANGE_KWARGS } },
  expect_column_values_to_be_in_set: { check: 'in_set', rowLevel: true, kwargs: { column: 'column', mostly: 'mostly', value_set: 'values' } },
  expect_column_values_to_not_be_in_set: { check: 'not_in_set', rowLevel: true, kwargs: { column: 'column', mostly: 'mostly', value_set: 'values' } },
  expect_column_values_to_match_regex: { check: 'regex', rowLevel: true, kwargs: { column: 'column', mostly: 'mostly', regex: 'pattern' } },
  expect_column_value_lengths_to_be_between: {
    check: 'value_length_between',
    rowLevel: true,
    kwargs: { column: 'column', mostly: 'mostly', min_value: 'min', max_value: 'max' },
  },
  expect_compound_columns_to_be_unique: { check: 'unique', rowLevel: true, kwargs: { column_list: 'columns', mostly: 'mostly', ignore_row_if: 'ignore_rows_if' } },
  expect_table_row_count_to_be_between: { check: 'row_count_between', rowLevel: false, kwargs: { min_value: 'min', max_value: 'max' } },
  expect_table_columns_to_match_ordered_list: { check: 'columns_match_ordered_list', rowLevel: false, kwargs: { column_list: 'columns' } },
  expect_column_to_exist: { check: 'column_exists', rowLevel: false, kwargs: { column: 'column', column_index: 'index' } },
  expect_column_mean_to_be_between: { check: 'column_mean_between', rowLevel: false, kwargs: { column: 'column', ...RANGE_KWARGS } },
  expect_column_min_to_be_between: { check: 'column_min_between', rowLevel: false, kwargs: { column: 'column', ...RANGE_KWARGS } },
  expect_column_max_to_be_between: { check: 'column_max_between', rowLevel: false, kwargs: { column: 'column', ...RANGE_KWARGS } },
  expect_column_distinct_values_to_be_in_set: { check: 'distinct_values_in_set', rowLevel: false, kwargs: { column: 'column', value_set: 'values' } },
};

/** Kwargs that only shape upstream's output or error handling. */
const IGNORED = new Set(['result_format', 'catch_exceptions', 'include_config', 'meta']);
const IGNORE_ROW_IF: Record<string, string> = { all_values_are_missing: 'all_missing', any_value_is_missing: 'any_missing', never: 'never' };

export function mapExpectation(expectation: string, kwargs: Record<string, unknown>, now: Date): MappedExpectation {
  const m = TABLE[expectation];
  if (!m) return { ok: false, reason: `no Sluice check for ${expectation}` };
  const check: Record<string, unknown> = { check: m.check };
  for (const [k, v] of Object.entries(kwargs)) {
    if (IGNORED.has(k)) continue;
    const to = m.kwargs[k];
    if (!to) return { ok: false, reason: `kwarg ${k} has no Sluice equivalent` };
    let value = evaluateParameter(v, now);
    if (k === 'ignore_row_if' && typeof value === 'string') value = IGNORE_ROW_IF[value] ?? value;
    if (value === null && (to === 'min' || to === 'max' || to === 'index')) continue;
    check[to] = value;
  }
  return { ok: true, check, rowLevel: m.rowLevel };
}

/** `{"$PARAMETER": "now() - timedelta(weeks=52)"}` against the injected run time; other values pass through. */
function evaluateParameter(v: unknown, now: Date): unknown {
  if (typeof v !== 'object' || v === null || !('$PARAMETER' in v)) return v;
  const expr = String((v as Record<string, unknown>)['$PARAMETER']).replace(/\s+/g, '');
  const m = /^now\(\)(?:([+-])timedelta\((\w+)=(\d+(?:\.\d+)?)\))?$/.exec(expr);
  if (!m) return v;
  const unit: Record<string, number> = { seconds: 1e3, minutes: 6e4, hours: 3.6e6, days: 8.64e7, weeks: 6.048e8 };
  const delta = m[2] ? Number(m[3]) * (unit[m[2]] ?? NaN) : 0;
  return new Date(now.getTime() + (m[1] === '-' ? -delta : delta)).toISOString().replace('Z', '');
}
