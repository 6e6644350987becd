import type { SqlValue } from '../engine/sql-engine.ts';
import type { YamlSource } from '../util/yaml-source.ts';
import type { Problem } from '../util/errors.ts';
import type { Bound, Check, CheckKind, CheckPlace, CheckSpec, IgnoreRowsIf, ParseChecksResult, RangeBounds, Severity } from './check-types.ts';
import { parseDuration } from './parse-duration.ts';

export interface ParseChecksOptions {
  /** The YAML file the checks came from: problems then carry its file and line. */
  readonly source?: YamlSource;
  /** Field path of the checks list inside the file, e.g. `datasets.orders.checks`. */
  readonly path?: string;
}

const COMMON = ['check', 'name', 'severity', 'mostly', 'description'];
const RANGE = ['min', 'max', 'strict_min', 'strict_max'];

/** Keys each kind accepts besides the common ones. */
const KEYS: Record<CheckKind, readonly string[]> = {
  not_null: ['column'],
  null: ['column'],
  unique: ['column', 'columns', 'ignore_rows_if'],
  between: ['column', ...RANGE],
  in_set: ['column', 'values'],
  not_in_set: ['column', 'values'],
  regex: ['column', 'pattern'],
  value_length_between: ['column', ...RANGE],
  row_count_between: RANGE,
  column_mean_between: ['column', ...RANGE],
  column_min_between: ['column', ...RANGE],
  column_max_between: ['column', ...RANGE],
  column_sum_between: ['column', ...RANGE],
  column_distinct_count_between: ['column', ...RANGE],
  distinct_values_in_set: ['column', 'values'],
  columns_match_ordered_list: ['columns'],
  columns_match_set: ['columns', 'exact'],
  column_exists: ['column', 'index'],
  column_type: ['column', 'type'],
  freshness: ['column', 'max_age'],
  references: ['column', 'columns', 'table', 'to_column', 'to_columns'],
  custom_sql: ['sql'],
};

export const CHECK_KINDS = Object.keys(KEYS) as CheckKind[];

/**
 * Parses the checks of one dataset (a YAML list of plain objects such as
 * `{ check: not_null, column: customer_id, mostly: 0.99, severity: warn }`). Collects every problem
 * with its field path (and file:line when a YamlSource is given) instead of stopping at the first.
 * Warnings are legal but suspicious declarations (a range whose min exceeds its max).
 */
export function parseChecks(raw: unknown, options: ParseChecksOptions = {}): ParseChecksResult {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const prefix = options.path ?? '';
  const at = (rel: string): string => [prefix, rel].filter((s) => s !== '').join('.');
  const problem = (rel: string, message: string, list: Problem[] = problems): void => {
    list.push(options.source ? options.source.problem(at(rel), message) : { field: at(rel) || undefined, message });
  };
  if (raw === undefined || raw === null) return { ok: true, checks: [], warnings };
  if (!Array.isArray(raw)) {
    problem('', 'checks must be a list');
    return { ok: false, problems, warnings };
  }
  const checks: Check[] = [];
  const ids = new Set<string>();
  raw.forEach((item: unknown, i: number) => {
    const base = String(i);
    const before = problems.length;
    const check = parseOne(item, base, (rel, msg) => problem(rel, msg), (rel, msg) => problem(rel, msg, warnings));
    if (!check || problems.length > before) return;
    let id = check.name ?? defaultId(check.spec);
    for (let n = 2; ids.has(id); n++) id = `${check.name ?? defaultId(check.spec)}#${n}`;
    if (check.name && ids.has(check.name)) problem(`${base}.name`, `duplicate check name ${check.name}`);
    ids.add(id);
    const place: CheckPlace = options.source
      ? lazyPlace(options.source, at(base))
      : { field: at(base) };
    checks.push({ ...check.spec, id, severity: check.severity, mostly: check.mostly, place } as Check);
  });
  return problems.length > 0 ? { ok: false, problems, warnings } : { ok: true, checks, warnings };
}

type Report = (rel: string, message: string) => void;

function parseOne(
  item: unknown,
  base: string,
  problem: Report,
  warn: Report,
): { spec: CheckSpec; name?: string; severity: Severity; mostly: number } | undefined {
  const f = (k: string): string => `${base}.${k}`;
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    problem(base, 'a check must be a mapping like { check: not_null, column: id }');
    return undefined;
  }
  const o = item as Record<string, unknown>;
  const kind = o['check'];
  if (typeof kind !== 'string' || !(kind in KEYS)) {
    problem(f('check'), typeof kind === 'string' ? `unknown check "${kind}"; expected one of ${CHECK_KINDS.join(', ')}` : 'missing check kind (e.g. check: not_null)');
    return undefined;
  }
  const k = kind as CheckKind;
  const allowed = new Set([...COMMON, ...KEYS[k]]);
  for (const key of Object.keys(o)) if (!allowed.has(key)) problem(f(key), `unknown field for check ${k}; allowed: ${[...allowed].join(', ')}`);

  const name = optString(o, 'name', f, problem);
  const sev = o['severity'] ?? 'error';
  if (sev !== 'warn' && sev !== 'error') problem(f('severity'), 'severity must be warn or error');
  const mostly = o['mostly'] ?? 1;
  if (typeof mostly !== 'number' || !(mostly >= 0 && mostly <= 1)) problem(f('mostly'), 'mostly must be a number from 0 to 1 (the fraction of rows that must pass)');

  const column = (): string => reqString(o, 'column', f, problem);
  const range = (integers = false): RangeBounds => parseRange(o, f, problem, warn, integers);
  let spec: CheckSpec | undefined;
  switch (k) {
    case 'not_null':
    case 'null':
      spec = { kind: k, column: column() };
      break;
    case 'unique': {
      const columns = columnList(o, f, problem);
      const ig = o['ignore_rows_if'] ?? 'all_missing';
      if (ig !== 'all_missing' && ig !== 'any_missing' && ig !== 'never') problem(f('ignore_rows_if'), 'ignore_rows_if must be all_missing, any_missing or never');
      spec = { kind: k, columns, ignoreRowsIf: ig as IgnoreRowsIf };
      break;
    }
    case 'between':
    case 'column_mean_between':
    case 'column_min_between':
    case 'column_max_between':
    case 'column_sum_between':
    case 'column_distinct_count_between': {
      const c = column();
      const r = range(k === 'column_distinct_count_between');
      if (k === 'between' && o['min'] == null && o['max'] == null) problem(base, 'between needs min or max (or both)');
      spec = { kind: k, column: c, ...r };
      break;
    }
    case 'value_length_between': {
      const c = column();
      const r = range(true);
      if (o['min'] == null && o['max'] == null) problem(base, 'value_length_between needs min or max (or both)');
      spec = { kind: k, column: c, ...r };
      break;
    }
    case 'row_count_between':
      spec = { kind: k, ...range(true) };
      break;
    case 'in_set':
    case 'not_in_set':
      spec = { kind: k, column: column(), values: valueList(o, f, problem, false) ?? [] };
      break;
    case 'distinct_values_in_set':
      spec = { kind: k, column: column(), values: valueList(o, f, problem, true) };
      break;
    case 'regex': {
      const c = column();
      const pattern = o['pattern'];
      if (typeof pattern !== 'string') problem(f('pattern'), 'pattern must be a regular expression string');
      spec = { kind: k, column: c, pattern: String(pattern ?? '') };
      break;
    }
    case 'columns_match_ordered_list': {
      const cols = o['columns'];
      if (cols === null) spec = { kind: k, columns: null };
      else spec = { kind: k, columns: stringList(o, 'columns', f, problem) };
      break;
    }
    case 'columns_match_set': {
      const exact = o['exact'] ?? true;
      if (typeof exact !== 'boolean') problem(f('exact'), 'exact must be true or false');
      spec = { kind: k, columns: stringList(o, 'columns', f, problem), exact: exact === true };
      break;
    }
    case 'column_exists': {
      const c = column();
      const index = o['index'];
      if (index !== undefined && !(Number.isInteger(index) && (index as number) >= 0)) problem(f('index'), 'index must be a 0-based column position');
      spec = { kind: k, column: c, ...(typeof index === 'number' ? { index } : {}) };
      break;
    }
    case 'column_type':
      spec = { kind: k, column: column(), type: reqString(o, 'type', f, problem) };
      break;
    case 'freshness': {
      const c = column();
      const maxAge = o['max_age'];
      const seconds = typeof maxAge === 'string' ? parseDuration(maxAge) : undefined;
      if (seconds === undefined) problem(f('max_age'), 'max_age must be a duration such as 90m, 6h, 1d or PT6H');
      spec = { kind: k, column: c, maxAge: String(maxAge), maxAgeSeconds: seconds ?? 0 };
      break;
    }
    case 'references': {
      const columns = columnList(o, f, problem);
      const table = reqString(o, 'table', f, problem);
      let toColumns = columns;
      if (o['to_column'] !== undefined || o['to_columns'] !== undefined) {
        toColumns = o['to_column'] !== undefined ? [reqString(o, 'to_column', f, problem)] : stringList(o, 'to_columns', f, problem);
      }
      if (toColumns.length !== columns.length) problem(f('to_columns'), `to_columns must name as many columns as columns (${columns.length})`);
      spec = { kind: k, columns, table, toColumns };
      break;
    }
    case 'custom_sql': {
      const sql = reqString(o, 'sql', f, problem);
      if (sql && !/^\s*(select|with)\b/i.test(sql)) problem(f('sql'), 'sql must be a SELECT (or WITH) query returning the offending rows');
      const description = typeof o['description'] === 'string' ? o['description'] : undefined;
      spec = { kind: k, sql, ...(description ? { description } : {}) };
      break;
    }
  }
  if (!spec) return undefined;
  return { spec, ...(name ? { name } : {}), severity: sev === 'warn' ? 'warn' : 'error', mostly: typeof mostly === 'number' ? mostly : 1 };
}

function optString(o: Record<string, unknown>, key: string, f: (k: string) => string, problem: Report): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') {
    problem(f(key), `${key} must be a non-empty string`);
    return undefined;
  }
  return v;
}

function reqString(o: Record<string, unknown>, key: string, f: (k: string) => string, problem: Report): string {
  const v = o[key];
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string' || v === '') {
    problem(f(key), v === undefined ? `missing ${key}` : `${key} must be a non-empty string`);
    return '';
  }
  return v;
}

function stringList(o: Record<string, unknown>, key: string, f: (k: string) => string, problem: Report): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' && typeof x !== 'number')) {
    problem(f(key), `${key} must be a non-empty list of column names`);
    return [];
  }
  return v.map(String);
}

/** `column: a` or `columns: [a, b]`, exactly one of them. */
function columnList(o: Record<string, unknown>, f: (k: string) => string, problem: Report): string[] {
  if (o['column'] !== undefined && o['columns'] !== undefined) {
    problem(f('columns'), 'give column or columns, not both');
    return [];
  }
  if (o['columns'] !== undefined) return stringList(o, 'columns', f, problem);
  return [reqString(o, 'column', f, problem)];
}

function valueList(o: Record<string, unknown>, f: (k: string) => string, problem: Report, nullable: boolean): SqlValue[] | null {
  const v = o['values'];
  if (v === null && nullable) return null;
  if (!Array.isArray(v)) {
    problem(f('values'), 'values must be a list');
    return [];
  }
  const bad = v.findIndex((x) => x !== null && !['string', 'number', 'boolean'].includes(typeof x));
  if (bad >= 0) problem(f(`values.${bad}`), 'values must be plain scalars (strings, numbers, booleans or null)');
  return v as SqlValue[];
}

function parseRange(o: Record<string, unknown>, f: (k: string) => string, problem: Report, warn: Report, integers: boolean): RangeBounds {
  const bound = (key: 'min' | 'max'): Bound | undefined => {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (v instanceof Date) return v.toISOString();
    if (integers ? !Number.isInteger(v) : typeof v !== 'number' && typeof v !== 'string') {
      problem(f(key), integers ? `${key} must be an integer` : `${key} must be a number, or a string for dates and text`);
      return undefined;
    }
    if (typeof v === 'number' && !Number.isFinite(v)) problem(f(key), `${key} must be finite`);
    return v as Bound;
  };
  const flag = (key: string): boolean => {
    const v = o[key] ?? false;
    if (typeof v !== 'boolean') problem(f(key), `${key} must be true or false`);
    return v === true;
  };
  const min = bound('min');
  const max = bound('max');
  if (min !== undefined && max !== undefined && typeof min !== typeof max) problem(f('max'), 'min and max must be of the same kind (both numbers or both strings)');
  else if (min !== undefined && max !== undefined && min > max) warn(f('min'), `min ${min} is greater than max ${max}: every value will fail`);
  return { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}), strictMin: flag('strict_min'), strictMax: flag('strict_max') };
}

/** A readable default id: `not_null(customer_id)`, `unique(a,b)`, `row_count_between`. */
export function defaultId(spec: CheckSpec): string {
  if ('column' in spec) return `${spec.kind}(${spec.column})`;
  if (spec.kind === 'unique' || spec.kind === 'references') return `${spec.kind}(${spec.columns.join(',')})`;
  return spec.kind;
}

/** A check's place whose line is found only when asked (a problem is reported): finding lines parses the file again. */
function lazyPlace(source: YamlSource, field: string): CheckPlace {
  let line: number | undefined;
  let found = false;
  return {
    file: source.file,
    field,
    get line(): number | undefined {
      if (!found) {
        line = source.lineOf(field);
        found = true;
      }
      return line;
    },
  };
}
