import type { SqlEngine } from '../../engine/sql-engine.ts';
import { quoteIdent, quoteLiteral } from '../../engine/sql.ts';

/**
 * Loads a Great Expectations test dataset (column -> values) into a DuckDB table with a
 * `pk_index` row-position column, plus a view without it for table-level expectations.
 * Types come from the dataset's `postgresql` (else `sqlite`) schema when given; otherwise they are
 * inferred the way pandas would: integers, floats, booleans, text; a column of only nulls is text
 * and an empty column is numeric.
 */
export async function loadCaseTable(
  engine: SqlEngine,
  name: string,
  data: Record<string, unknown[]>,
  schemas?: Record<string, Record<string, string>>,
): Promise<{ withIndex: string; plain: string }> {
  const schema = schemas?.['postgresql'] ?? schemas?.['sqlite'];
  const cols = Object.keys(data);
  const types = cols.map((c) => (schema?.[c] ? mapType(schema[c]) : inferType(data[c] ?? [])));
  const n = Math.max(0, ...cols.map((c) => (data[c] ?? []).length));
  const defs = ['pk_index BIGINT', ...cols.map((c, i) => `${quoteIdent(c)} ${types[i]}`)];
  await engine.exec(`DROP TABLE IF EXISTS ${quoteIdent(name)}; CREATE TABLE ${quoteIdent(name)} (${defs.join(', ')})`);
  if (n > 0) {
    const rows: string[] = [];
    for (let r = 0; r < n; r++) rows.push(`(${[String(r), ...cols.map((c, i) => literal((data[c] ?? [])[r], types[i] ?? 'VARCHAR'))].join(', ')})`);
    await engine.exec(`INSERT INTO ${quoteIdent(name)} VALUES ${rows.join(', ')}`);
  }
  const plain = `${name}_data`;
  await engine.exec(`CREATE OR REPLACE VIEW ${quoteIdent(plain)} AS SELECT ${cols.map(quoteIdent).join(', ') || '*'} FROM ${quoteIdent(name)}`);
  return { withIndex: quoteIdent(name), plain: quoteIdent(plain) };
}

function mapType(t: string): string {
  const u = t.toUpperCase().replaceAll('_', ' ');
  if (u === 'DATETIME') return 'TIMESTAMP';
  return u;
}

function inferType(values: unknown[]): string {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (values.length === 0) return 'DOUBLE';
  if (present.length === 0) return 'VARCHAR';
  if (present.every((v) => typeof v === 'boolean')) return 'BOOLEAN';
  if (present.every((v) => typeof v === 'number')) return present.every((v) => Number.isInteger(v)) ? 'BIGINT' : 'DOUBLE';
  return 'VARCHAR';
}

function literal(v: unknown, type: string): string {
  if (v === null || v === undefined) return 'NULL';
  if (/^TIMESTAMP|^DATE/.test(type) && typeof v === 'string') return `CAST(${quoteLiteral(toIsoLocal(v))} AS ${type})`;
  if (typeof v === 'number' || typeof v === 'boolean') return `CAST(${String(v)} AS ${type})`;
  return `CAST(${quoteLiteral(String(v))} AS ${type})`;
}

/** ISO-like text passes through; other date spellings ("Jan 01 1970 12:00:01") are parsed. */
function toIsoLocal(s: string): string {
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) return s;
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  const p = (x: number): string => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
