import pg from 'pg';
import { SluiceError, messageOf } from '../../util/errors.ts';
import type { Row, SqlValue } from '../sql-engine.ts';

/**
 * How values come back from PostgreSQL, as the SqlEngine contract wants them: integers as numbers
 * (strings beyond 2^53), dates as `YYYY-MM-DD`, timestamps as ISO instants (a naive timestamp read
 * as UTC, like DuckDB's), numerics as numbers when a double holds them exactly enough.
 */
const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;

function int8(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

function numeric(text: string): number | string {
  const n = Number(text);
  // 15 significant digits survive a double; more stay text so nothing is rounded silently.
  const digits = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
  return Number.isFinite(n) && digits <= 15 ? n : text;
}

function iso(text: string, naive: boolean): string {
  if (/^-?infinity$/.test(text)) return text;
  const d = new Date(naive ? `${text.replace(' ', 'T')}Z` : text.replace(' ', 'T').replace(/([+-]\d{2})$/, '$1:00'));
  return Number.isNaN(d.getTime()) ? text : d.toISOString();
}

export const valueTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === 'binary') return pg.types.getTypeParser(oid, 'binary');
    switch (oid) {
      case INT8:
        return int8;
      case NUMERIC:
        return numeric;
      case DATE:
        return (t: string) => t;
      case TIMESTAMP:
        return (t: string) => iso(t, true);
      case TIMESTAMPTZ:
        return (t: string) => iso(t, false);
      default:
        return pg.types.getTypeParser(oid, 'text');
    }
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function toSqlValue(v: unknown): SqlValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (Array.isArray(v)) return v.map(toSqlValue);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toSqlValue(x)]));
  return String(v);
}

export function toRows(result: pg.QueryResult | pg.QueryResult[]): Row[] {
  // A multi-statement text returns one result per statement: the last one is the query's.
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return (last?.rows ?? []).map((r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toSqlValue(v)])));
}

/** Any server error of a statement, as the SQL_FAILED the engines report. */
export function sqlFailed(e: unknown, scrub: (t: string) => string = (t) => t): SluiceError {
  if (e instanceof SluiceError) return e;
  return new SluiceError('SQL_FAILED', scrub(messageOf(e)), {}, [], { cause: e });
}
