import type { SqlValue } from '../engine/sql-engine.ts';
import { quoteIdent, quoteLiteral } from '../engine/sql.ts';
import type { Bound, Check, RangeBounds } from './check-types.ts';
import type { SqlDialect } from '../engine/sql-dialect.ts';
import type { TableColumn } from './table-columns.ts';
import { isNumericFamily } from './table-columns.ts';

/** IN lists longer than this become an anti-join against a VALUES list (MEASURED.md: 0.23 s vs 0.035 s at 100 values). */
export const IN_LIST_MAX = 32;

/** A literal of a bound or set value, typed like the column it is compared with. */
export function valueSql(v: SqlValue | Bound, col: TableColumn): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') return isNumericFamily(col.family) ? String(v) : `CAST(${String(v)} AS ${col.type})`;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (col.family === 'text') return quoteLiteral(String(v));
  return `CAST(${quoteLiteral(String(v))} AS ${col.type})`;
}

/** `expr` outside [min, max] (honouring strict bounds); NULL bounds are open. */
export function outsideRange(expr: string, r: RangeBounds, lit: (b: Bound) => string): string {
  const parts: string[] = [];
  if (r.min !== undefined) parts.push(`${expr} ${r.strictMin ? '>' : '>='} ${lit(r.min)}`);
  if (r.max !== undefined) parts.push(`${expr} ${r.strictMax ? '<' : '<='} ${lit(r.max)}`);
  return parts.length === 0 ? 'FALSE' : `NOT (${parts.join(' AND ')})`;
}

/** `expr` inside [min, max], as a boolean SQL expression (NULL expr -> NULL). */
export function insideRange(expr: string, r: RangeBounds, lit: (b: Bound) => string): string {
  const parts: string[] = [];
  if (r.min !== undefined) parts.push(`${expr} ${r.strictMin ? '>' : '>='} ${lit(r.min)}`);
  if (r.max !== undefined) parts.push(`${expr} ${r.strictMax ? '<' : '<='} ${lit(r.max)}`);
  return parts.length === 0 ? 'TRUE' : `(${parts.join(' AND ')})`;
}

/** A membership test of `expr` in a value list: IN for short lists, EXISTS over VALUES for long ones. */
export function memberOf(expr: string, values: readonly SqlValue[], col: TableColumn): { sql: string; long: boolean } {
  const distinct = [...new Map(values.filter((v) => v !== null).map((v) => [JSON.stringify(v), v])).values()];
  if (distinct.length === 0) return { sql: 'FALSE', long: false };
  const lits = distinct.map((v) => valueSql(v, col));
  if (lits.length <= IN_LIST_MAX) return { sql: `${expr} IN (${lits.join(', ')})`, long: false };
  return { sql: `EXISTS (SELECT 1 FROM (VALUES ${lits.map((l) => `(${l})`).join(', ')}) AS vs(v) WHERE vs.v = ${expr})`, long: true };
}

/** Replaces `{{ table }}` / `{table}` in custom SQL with the checked table's name. */
export function bindTable(sql: string, table: string): string {
  return sql.replace(/\{\{\s*table\s*\}\}|\{table\}/g, table);
}

/** The columns a check reads (for existence validation and samples). */
export function checkColumns(c: Check): string[] {
  switch (c.kind) {
    case 'unique':
    case 'references':
      return [...c.columns];
    case 'row_count_between':
    case 'columns_match_ordered_list':
    case 'columns_match_set':
    case 'custom_sql':
    case 'column_exists':
      return [];
    default:
      return [c.column];
  }
}

/**
 * The row predicate that marks a row unexpected, for checks that judge rows one by one. The main
 * table is aliased `t`. `long` says the predicate joins a value list (run it outside the fused scan).
 */
export function unexpectedPredicate(c: Check, cols: ReadonlyMap<string, TableColumn>, dialect: SqlDialect): { sql: string; long: boolean } | undefined {
  const col = 'column' in c ? cols.get(c.column) : undefined;
  const q = 'column' in c ? `t.${quoteIdent(c.column)}` : '';
  const lit = (b: Bound): string => (col ? valueSql(b, col) : String(b));
  switch (c.kind) {
    case 'not_null':
      return { sql: `${q} IS NULL`, long: false };
    case 'null':
      return { sql: `${q} IS NOT NULL`, long: false };
    case 'between':
      return { sql: `${q} IS NOT NULL AND ${outsideRange(q, c, lit)}`, long: false };
    case 'value_length_between':
      return { sql: `${q} IS NOT NULL AND ${outsideRange(dialect.textLength(q), c, String)}`, long: false };
    case 'regex':
      return { sql: `${q} IS NOT NULL AND NOT ${dialect.regexMatch(q, c.pattern)}`, long: false };
    case 'in_set': {
      if (!col) return undefined;
      const m = memberOf(q, c.values, col);
      return { sql: `${q} IS NOT NULL AND NOT (${m.sql})`, long: m.long };
    }
    case 'not_in_set': {
      if (!col) return undefined;
      const m = memberOf(q, c.values, col);
      return { sql: `${q} IS NOT NULL AND (${m.sql})`, long: m.long };
    }
    default:
      return undefined;
  }
}

/** Rows a multi-column check ignores: all (or any) key parts null. */
export function ignoredRowsSql(columns: readonly string[], mode: 'all_missing' | 'any_missing' | 'never', alias = 't'): string {
  const nulls = columns.map((c) => `${alias}.${quoteIdent(c)} IS NULL`);
  if (mode === 'never') return 'FALSE';
  return `(${nulls.join(mode === 'all_missing' ? ' AND ' : ' OR ')})`;
}
