import type { SqlEngine, SqlValue } from '../engine/sql-engine.ts';
import { quoteIdent } from '../engine/sql.ts';
import { type QualityDialect, type TypeFamily, qualityDialectFor } from './quality-dialect.ts';
import { describeTable, isNumericFamily, isTemporalFamily } from './table-columns.ts';

export interface ProfileOptions {
  /** Columns with at most this many distinct values get their top values (default 20; 0 = none). */
  readonly topValuesMaxDistinct?: number;
  /** How many top values to keep per column (default 10). */
  readonly topValuesLimit?: number;
  readonly dialect?: QualityDialect;
}

export interface Quantiles {
  readonly p01: number;
  readonly p25: number;
  readonly p50: number;
  readonly p75: number;
  readonly p99: number;
}

export interface ColumnProfile {
  readonly name: string;
  readonly type: string;
  readonly family: TypeFamily;
  readonly nullCount: number;
  /** nullCount / rowCount (0 for an empty table). */
  readonly nullRate: number;
  readonly distinctCount: number;
  readonly min: SqlValue;
  readonly max: SqlValue;
  /** Numeric (and boolean: the share of TRUE) columns only. */
  readonly mean: number | null;
  readonly stddev: number | null;
  readonly quantiles: Quantiles | null;
  readonly topValues: readonly { readonly value: SqlValue; readonly count: number }[] | null;
}

export interface TableProfile {
  readonly table: string;
  readonly rowCount: number;
  readonly columns: readonly ColumnProfile[];
  readonly queries: readonly string[];
}

const PS = [0.01, 0.25, 0.5, 0.75, 0.99] as const;

/**
 * Profiles a table in two statements: one aggregate scan for counts, distinct counts, extremes,
 * moments and quantiles of every column, then one UNION ALL of GROUP BYs for the top values of the
 * low-cardinality columns only. JavaScript sees one row per statement and the top values.
 */
export async function profileTable(engine: SqlEngine, table: string, options: ProfileOptions = {}): Promise<TableProfile> {
  const dialect = options.dialect ?? qualityDialectFor(engine);
  const maxDistinct = options.topValuesMaxDistinct ?? 20;
  const limit = options.topValuesLimit ?? 10;
  const columns = await describeTable(engine, table, dialect);
  const queries: string[] = [];
  const terms = ['count(*) AS n'];
  columns.forEach((c, i) => {
    const q = quoteIdent(c.name);
    terms.push(`count(${q}) AS nn_${i}`, `count(DISTINCT ${q}) AS d_${i}`);
    const orderable = isNumericFamily(c.family) || isTemporalFamily(c.family) || c.family === 'text' || c.family === 'boolean';
    if (orderable) terms.push(`min(${q}) AS min_${i}`, `max(${q}) AS max_${i}`);
    if (isNumericFamily(c.family) || c.family === 'boolean') {
      const x = dialect.toDouble(q, c.family);
      terms.push(`avg(${x}) AS mean_${i}`, `${dialect.stddev(x)} AS sd_${i}`);
      if (c.family !== 'boolean') terms.push(`${dialect.quantiles(x, PS)} AS q_${i}`);
    }
  });
  const sql = `SELECT ${terms.join(', ')} FROM ${table}`;
  queries.push(sql);
  const [r = {}] = await engine.query(sql);
  const n = num(r['n']);
  const distinct = columns.map((_, i) => num(r[`d_${i}`]));
  const low = columns.map((c, i) => ({ c, i })).filter(({ i }) => maxDistinct > 0 && (distinct[i] ?? 0) > 0 && (distinct[i] ?? 0) <= maxDistinct);
  const top = new Map<number, { value: SqlValue; count: number }[]>();
  if (low.length > 0) {
    const parts = low.map(
      ({ c, i }) =>
        `(SELECT ${i} AS col, ${dialect.castText(quoteIdent(c.name))} AS value, count(*) AS count FROM ${table} WHERE ${quoteIdent(c.name)} IS NOT NULL GROUP BY ${quoteIdent(c.name)} ORDER BY count(*) DESC, 2 LIMIT ${limit})`,
    );
    const tsql = parts.join(' UNION ALL ');
    queries.push(tsql);
    for (const row of await engine.query(tsql)) {
      const i = num(row['col']);
      const list = top.get(i) ?? [];
      list.push({ value: row['value'] ?? null, count: num(row['count']) });
      top.set(i, list);
    }
    for (const list of top.values()) list.sort((a, b) => b.count - a.count || String(a.value).localeCompare(String(b.value)));
  }
  const profiles = columns.map((c, i): ColumnProfile => {
    const nullCount = n - num(r[`nn_${i}`]);
    const q = r[`q_${i}`];
    return {
      name: c.name,
      type: c.type,
      family: c.family,
      nullCount,
      nullRate: n > 0 ? nullCount / n : 0,
      distinctCount: distinct[i] ?? 0,
      min: r[`min_${i}`] ?? null,
      max: r[`max_${i}`] ?? null,
      mean: numOrNull(r[`mean_${i}`]),
      stddev: numOrNull(r[`sd_${i}`]),
      quantiles: Array.isArray(q) && q.every((x) => typeof x === 'number') ? quantilesOf(q as number[]) : null,
      topValues: top.get(i) ?? null,
    };
  });
  return { table, rowCount: n, columns: profiles, queries };
}

function quantilesOf(q: number[]): Quantiles {
  return { p01: q[0] ?? NaN, p25: q[1] ?? NaN, p50: q[2] ?? NaN, p75: q[3] ?? NaN, p99: q[4] ?? NaN };
}

function num(v: SqlValue | undefined): number {
  return typeof v === 'number' ? v : v === null || v === undefined ? 0 : Number(v);
}

function numOrNull(v: SqlValue | undefined): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/** Flattens a profile to metric name -> value, the shape stored as a time series per output. */
export function profileMetrics(p: TableProfile): Record<string, number> {
  const out: Record<string, number> = { row_count: p.rowCount };
  for (const c of p.columns) {
    out[`${c.name}.null_rate`] = c.nullRate;
    out[`${c.name}.distinct_count`] = c.distinctCount;
    if (c.mean !== null) out[`${c.name}.mean`] = c.mean;
    if (c.stddev !== null) out[`${c.name}.stddev`] = c.stddev;
    if (typeof c.min === 'number') out[`${c.name}.min`] = c.min;
    if (typeof c.max === 'number') out[`${c.name}.max`] = c.max;
    if (c.quantiles) for (const [k, v] of Object.entries(c.quantiles)) out[`${c.name}.${k}`] = v;
  }
  return out;
}

