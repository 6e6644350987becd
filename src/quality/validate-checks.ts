import type { SqlValue } from '../engine/sql-engine.ts';
import type { Problem } from '../util/errors.ts';
import type { Bound, Check } from './check-types.ts';
import { checkColumns } from './check-sql.ts';
import type { TableColumn } from './table-columns.ts';
import { isNumericFamily, isTemporalFamily } from './table-columns.ts';

const problemAt = (c: Check, rel: string, message: string): Problem => ({
  ...(c.place.file ? { file: c.place.file } : {}),
  ...(c.place.line ? { line: c.place.line } : {}),
  field: [c.place.field, rel].filter(Boolean).join('.') || c.id,
  message: `${c.id}: ${message}`,
});

/**
 * Checks declared checks against the table's real columns: every column a check reads must exist,
 * and bounds / set values must be comparable with the column's type. Returns every problem found.
 */
export function validateChecks(checks: readonly Check[], columns: readonly TableColumn[], table: string): Problem[] {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const problems: Problem[] = [];
  const names = columns.map((c) => c.name).join(', ');
  for (const c of checks) {
    const missing = checkColumns(c).filter((n) => !byName.has(n));
    for (const m of missing) {
      const rel = 'column' in c ? 'column' : 'columns';
      problems.push(problemAt(c, rel, `column "${m}" does not exist in ${table} (columns: ${names})`));
    }
    if (missing.length > 0) continue;
    const col = 'column' in c ? byName.get(c.column) : undefined;
    const typeName = col ? `${col.name} (${col.type})` : '';
    const boundOk = (b: Bound | undefined, key: string, allowText: boolean): void => {
      if (b === undefined || !col) return;
      if (typeof b === 'number' && !isNumericFamily(col.family))
        problems.push(problemAt(c, key, `${key} ${b} is a number but column ${typeName} is not numeric`));
      if (typeof b === 'string') {
        if (isNumericFamily(col.family) || col.family === 'boolean') problems.push(problemAt(c, key, `${key} "${b}" is a string but column ${typeName} is ${col.family}`));
        else if (!allowText && col.family === 'text') problems.push(problemAt(c, key, `${key} is a string and column ${typeName} holds text: compare numbers or dates`));
        else if (isTemporalFamily(col.family) && Number.isNaN(Date.parse(b.replace(' ', 'T'))))
          problems.push(problemAt(c, key, `${key} "${b}" is not a date/time for column ${typeName}`));
      }
    };
    const valuesOk = (values: readonly SqlValue[] | null): void => {
      if (!col || !values) return;
      values.forEach((v, i) => {
        if (v === null) return;
        if (isNumericFamily(col.family) && (typeof v === 'boolean' || (typeof v === 'string' && !Number.isFinite(Number(v)))))
          problems.push(problemAt(c, `values.${i}`, `value ${JSON.stringify(v)} cannot be compared with numeric column ${typeName}`));
        if (col.family === 'boolean' && typeof v !== 'boolean') problems.push(problemAt(c, `values.${i}`, `value ${JSON.stringify(v)} is not a boolean (column ${typeName})`));
      });
    };
    switch (c.kind) {
      case 'between':
        boundOk(c.min, 'min', true);
        boundOk(c.max, 'max', true);
        break;
      case 'column_min_between':
      case 'column_max_between':
        boundOk(c.min, 'min', true);
        boundOk(c.max, 'max', true);
        if (col && !(isNumericFamily(col.family) || isTemporalFamily(col.family) || col.family === 'text'))
          problems.push(problemAt(c, 'column', `${c.kind} needs a numeric, date or text column; ${typeName} is ${col.family}`));
        break;
      case 'column_mean_between':
      case 'column_sum_between':
        if (col && !(isNumericFamily(col.family) || col.family === 'boolean'))
          problems.push(problemAt(c, 'column', `${c.kind} needs a numeric column; ${typeName} is ${col.family}`));
        for (const [k, b] of [['min', c.min], ['max', c.max]] as const)
          if (b !== undefined && typeof b !== 'number') problems.push(problemAt(c, k, `${k} must be a number for ${c.kind}`));
        break;
      case 'value_length_between':
        if (col && col.family !== 'text') problems.push(problemAt(c, 'column', `value_length_between needs a text column; ${typeName} is ${col.family}`));
        break;
      case 'regex':
        if (col && col.family !== 'text') problems.push(problemAt(c, 'column', `regex needs a text column; ${typeName} is ${col.family}`));
        break;
      case 'freshness':
        if (col && col.family !== 'timestamp' && col.family !== 'date')
          problems.push(problemAt(c, 'column', `freshness needs a date or timestamp column; ${typeName} is ${col.family}`));
        break;
      case 'in_set':
      case 'not_in_set':
      case 'distinct_values_in_set':
        valuesOk(c.values);
        break;
      default:
        break;
    }
  }
  return problems;
}
