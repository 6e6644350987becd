/** SQL text helpers shared by every dialect (both DuckDB and PostgreSQL quote the standard way). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A literal for any plain value: NULL, numbers, booleans, strings. */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return `CAST('${value}' AS DOUBLE PRECISION)`;
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return quoteLiteral(String(value));
}

/** A qualified name: schema.table, each part quoted. */
export function qualified(...parts: string[]): string {
  return parts.map(quoteIdent).join('.');
}
