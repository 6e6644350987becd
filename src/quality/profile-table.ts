import type { Row, SqlEngine, SqlValue } from '../engine/sql-engine.ts';
import { quoteIdent } from '../engine/sql.ts';
import { type SqlDialect, type TypeFamily } from '../engine/sql-dialect.ts';
import { type TableColumn, describeTable, isNumericFamily, isTemporalFamily } from './table-columns.ts';

export interface ProfileOptions {
  /** Columns with at most this many distinct values get their top values (default 20; 0 = none). */
  readonly topValuesMaxDistinct?: number;
  /** How many top values to keep per column (default 10). */
  readonly topValuesLimit?: number;
  /**
   * Up to this many rows every statistic is exact (default 1,000,000; Infinity = always). Above
   * it, quantiles come from a row sample and near-unique columns get an estimated distinct count;
   * row count, null counts, min, max, mean and standard deviation stay exact. See `profileTable`.
   */
  readonly exactUpTo?: number;
  /** Rows the quantile sample of a big table aims at (default 50,000). */
  readonly sampleRows?: number;
  /**
   * Read distinct-count estimates from the engine's table statistics (free, within about 10-15 %)
   * instead of computing them. Only for a stored table profiled whole: statistics describe the
   * stored table, not a view's filter or a sample (default false).
   */
  readonly useStatistics?: boolean;
  /** The table's row count when the caller knows it (an output version's), saving a count. */
  readonly rowCount?: number;
  /** Seed of the samples, so a profile of the same table is repeatable (default 42). */
  readonly seed?: number;
  readonly dialect?: SqlDialect;
}

export interface Quantiles {
  readonly p01: number;
  readonly p25: number;
  readonly p50: number;
  readonly p75: number;
  readonly p99: number;
}

/** Which fields of a column profile are estimates rather than exact values. */
export type EstimatedField = 'distinctCount' | 'quantiles';

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
  /** Fields that are estimates (big tables only); empty when everything is exact. */
  readonly estimated: readonly EstimatedField[];
}

export interface TableProfile {
  readonly table: string;
  readonly rowCount: number;
  readonly columns: readonly ColumnProfile[];
  /** `exact`, or `sampled` when the table was above `exactUpTo` rows and some fields are estimates. */
  readonly method: 'exact' | 'sampled';
  readonly queries: readonly string[];
}

const PS = [0.01, 0.25, 0.5, 0.75, 0.99] as const;
/** A column whose block sample shows at most this many distinct values is grouped exactly. */
const LOW_CARDINALITY_PROBE = 1000;
/** A column whose block sample is at least this unique gets an estimated distinct count. */
const NEAR_UNIQUE_SHARE = 0.5;
const DISTINCT_ONE_IN = 64;
const PROBE_ROWS = 100_000;

/**
 * Profiles a table: row count, per column null count and rate, distinct count, min, max, mean,
 * standard deviation, quantiles, and top values of low-cardinality columns. JavaScript sees one row
 * per aggregate statement and the top values.
 *
 * Up to `exactUpTo` rows (default 1M): two statements, everything exact (one aggregate scan, then
 * one UNION ALL of GROUP BYs for the top values of low-cardinality columns).
 *
 * Above it, exact sorts and huge hash tables would dominate a run (10M rows, 2 cores: about 7 s,
 * of which 5 s are exact quantiles and 2 s distinct counts), so where the dialect can sample:
 * - counts, nulls and the min/max of non-text columns in one statement (DuckDB answers it from
 *   table statistics);
 * - with `useStatistics`, distinct counts the engine keeps in its table statistics (DuckDB: a
 *   HyperLogLog per stored column, read for free; within about 10-15 %): columns at or under 1000
 *   are then grouped exactly, the others keep the estimate;
 * - for columns without such statistics a block sample (~100k rows) sorts them into
 *   low-cardinality (<= 1000 distinct in the sample), near-unique (>= 50 % distinct) and the rest;
 * - one full scan for exact means and standard deviations, exact distinct counts of the middle
 *   group, text min/max, and for near-unique columns an estimate: the exact distinct count of
 *   the values in 1 of 64 hash buckets, times 64 (order_id on 10M rows: 0.1 % off);
 * - quantiles from a repeatable row-level (Bernoulli) sample of about `sampleRows` rows;
 * - low-cardinality columns grouped exactly: their distinct counts, top values and text min/max.
 * Estimated fields are listed per column in `estimated`, and the profile's method is `sampled`.
 */
export async function profileTable(engine: SqlEngine, table: string, options: ProfileOptions = {}): Promise<TableProfile> {
  const dialect = options.dialect ?? engine.dialect;
  const maxDistinct = options.topValuesMaxDistinct ?? 20;
  const limit = options.topValuesLimit ?? 10;
  const columns = await describeTable(engine, table, dialect);
  const queries: string[] = [];
  const run = async (sql: string): Promise<Row[]> => {
    queries.push(sql);
    return engine.query(sql);
  };
  const canSample = dialect.rowSample && dialect.blockSample && dialect.distinctEstimate;
  if (canSample && options.exactUpTo !== Infinity) {
    let n = options.rowCount;
    if (n === undefined) {
      const [c] = await run(`SELECT count(*) AS n FROM ${table}`);
      n = num(c?.['n']);
    }
    if (n > (options.exactUpTo ?? 1_000_000)) return sampledProfile(table, columns, n, options, dialect, queries, run);
  }
  return exactProfile(table, columns, { maxDistinct, limit }, dialect, queries, run);
}

type Run = (sql: string) => Promise<Row[]>;

const orderable = (c: TableColumn): boolean => isNumericFamily(c.family) || isTemporalFamily(c.family) || c.family === 'text' || c.family === 'boolean';
const hasMoments = (c: TableColumn): boolean => isNumericFamily(c.family) || c.family === 'boolean';
const hasQuantiles = (c: TableColumn): boolean => isNumericFamily(c.family);
/** min and max of a column; PostgreSQL has no min(boolean), and bool_and/bool_or are the same values in every engine. */
const minMax = (c: TableColumn, q: string, i: number): string[] => (c.family === 'boolean' ? [`bool_and(${q}) AS min_${i}`, `bool_or(${q}) AS max_${i}`] : [`min(${q}) AS min_${i}`, `max(${q}) AS max_${i}`]);

async function exactProfile(table: string, columns: readonly TableColumn[], o: { maxDistinct: number; limit: number }, dialect: SqlDialect, queries: string[], run: Run): Promise<TableProfile> {
  const terms = ['count(*) AS n'];
  columns.forEach((c, i) => {
    const q = quoteIdent(c.name);
    terms.push(`count(${q}) AS nn_${i}`, `count(DISTINCT ${q}) AS d_${i}`);
    if (orderable(c)) terms.push(...minMax(c, q, i));
    if (hasMoments(c)) {
      const x = dialect.toDouble(q, c.family);
      terms.push(`avg(${x}) AS mean_${i}`, `${dialect.stddev(x)} AS sd_${i}`);
      if (hasQuantiles(c)) terms.push(`${dialect.quantiles(x, PS)} AS q_${i}`);
    }
  });
  const [r = {}] = await run(`SELECT ${terms.join(', ')} FROM ${table}`);
  const n = num(r['n']);
  const distinct = columns.map((_, i) => num(r[`d_${i}`]));
  const low = columns.map((c, i) => ({ c, i })).filter(({ i }) => o.maxDistinct > 0 && (distinct[i] ?? 0) > 0 && (distinct[i] ?? 0) <= o.maxDistinct);
  const top = new Map<number, { value: SqlValue; count: number }[]>();
  if (low.length > 0) {
    const parts = low.map(
      ({ c, i }) =>
        `(SELECT ${i} AS col, ${dialect.castText(quoteIdent(c.name))} AS value, count(*) AS count FROM ${table} WHERE ${quoteIdent(c.name)} IS NOT NULL GROUP BY ${quoteIdent(c.name)} ORDER BY count(*) DESC, 2 LIMIT ${o.limit})`,
    );
    for (const row of await run(parts.join(' UNION ALL '))) {
      const i = num(row['col']);
      const list = top.get(i) ?? [];
      list.push({ value: row['value'] ?? null, count: num(row['count']) });
      top.set(i, list);
    }
  }
  const profiles = columns.map(
    (c, i): ColumnProfile => ({
      name: c.name,
      type: c.type,
      family: c.family,
      nullCount: n - num(r[`nn_${i}`]),
      nullRate: n > 0 ? (n - num(r[`nn_${i}`])) / n : 0,
      distinctCount: distinct[i] ?? 0,
      min: r[`min_${i}`] ?? null,
      max: r[`max_${i}`] ?? null,
      mean: numOrNull(r[`mean_${i}`]),
      stddev: numOrNull(r[`sd_${i}`]),
      quantiles: quantilesOf(r[`q_${i}`]),
      topValues: sortTop(top.get(i)),
      estimated: [],
    }),
  );
  return { table, rowCount: n, columns: profiles, method: 'exact', queries };
}

async function sampledProfile(
  table: string,
  columns: readonly TableColumn[],
  n: number,
  options: ProfileOptions,
  dialect: SqlDialect,
  queries: string[],
  run: Run,
): Promise<TableProfile> {
  const maxDistinct = options.topValuesMaxDistinct ?? 20;
  const limit = options.topValuesLimit ?? 10;
  const seed = options.seed ?? 42;
  const rowSample = dialect.rowSample as NonNullable<SqlDialect['rowSample']>;
  const blockSample = dialect.blockSample as NonNullable<SqlDialect['blockSample']>;
  const distinctEstimate = dialect.distinctEstimate as NonNullable<SqlDialect['distinctEstimate']>;
  const pct = (rows: number): number => Math.min(100, Math.max(0.001, Number(((rows / n) * 100).toPrecision(3))));

  // 1. Counts and non-text extremes (table statistics where the engine keeps them).
  const statTerms = columns.flatMap((c, i) => {
    const q = quoteIdent(c.name);
    return [`count(${q}) AS nn_${i}`, ...(orderable(c) && c.family !== 'text' ? minMax(c, q, i) : [])];
  });
  const [st = {}] = await run(`SELECT ${statTerms.join(', ')} FROM ${table}`);

  // 2. Cardinality: estimates the engine keeps in its statistics (free) where it has them; for the
  // other columns a block sample sorts them into low-cardinality, near-unique and the rest.
  const fromStats: (number | undefined)[] = columns.map(() => undefined);
  const sd = options.useStatistics ? dialect.statisticsDistinct : undefined;
  if (sd) {
    const [row = {}] = await run(sd.sql(table, columns.map((c) => quoteIdent(c.name))));
    columns.forEach((_, i) => (fromStats[i] = sd.parse(row[`s_${i}`])));
  }
  const unknown = columns.map((c, i) => ({ c, i })).filter(({ c, i }) => fromStats[i] === undefined && c.family !== 'boolean');
  const [probe = {}] =
    unknown.length > 0
      ? await run(`SELECT ${unknown.map(({ c, i }) => `count(DISTINCT ${quoteIdent(c.name)}) AS d_${i}, count(${quoteIdent(c.name)}) AS nn_${i}`).join(', ')} FROM ${blockSample(table, pct(PROBE_ROWS), seed)}`)
      : [];
  const kind = columns.map((c, i): 'low' | 'stats' | 'mid' | 'unique' => {
    const s = fromStats[i];
    if (c.family === 'boolean') return 'low';
    if (s !== undefined) return s <= LOW_CARDINALITY_PROBE ? 'low' : 'stats';
    const d = num(probe[`d_${i}`]);
    const nn = num(probe[`nn_${i}`]);
    if (d <= LOW_CARDINALITY_PROBE) return 'low';
    return nn > 0 && d / nn >= NEAR_UNIQUE_SHARE ? 'unique' : 'mid';
  });

  // 3. One full scan: exact moments, distinct counts (estimated for near-unique columns), text extremes.
  const scanTerms: string[] = [];
  columns.forEach((c, i) => {
    const q = quoteIdent(c.name);
    if (hasMoments(c)) {
      const x = dialect.toDouble(q, c.family);
      scanTerms.push(`avg(${x}) AS mean_${i}`, `${dialect.stddev(x)} AS sd_${i}`);
    }
    if (kind[i] === 'mid') scanTerms.push(`count(DISTINCT ${q}) AS d_${i}`);
    if (kind[i] === 'unique') scanTerms.push(`${distinctEstimate(q, DISTINCT_ONE_IN)} AS d_${i}`);
    if (c.family === 'text' && kind[i] !== 'low') scanTerms.push(`min(${q}) AS min_${i}`, `max(${q}) AS max_${i}`);
  });
  const [scan = {}] = scanTerms.length > 0 ? await run(`SELECT ${scanTerms.join(', ')} FROM ${table}`) : [];

  // 4. Quantiles from a repeatable row sample.
  const qcols = columns.map((c, i) => ({ c, i })).filter(({ c }) => hasQuantiles(c));
  const [qs = {}] =
    qcols.length > 0
      ? await run(`SELECT ${qcols.map(({ c, i }) => `${dialect.quantiles(dialect.toDouble(quoteIdent(c.name), c.family), PS)} AS q_${i}`).join(', ')} FROM ${rowSample(table, pct(options.sampleRows ?? 50_000), seed)}`)
      : [];

  // 5. Low-cardinality columns grouped exactly: distinct counts, top values, text extremes.
  const low = columns.map((c, i) => ({ c, i })).filter(({ i }) => kind[i] === 'low');
  const groups = new Map<number, { d: number; lo: SqlValue; hi: SqlValue; top: { value: SqlValue; count: number }[] }>();
  if (low.length > 0) {
    const parts = low.map(({ c, i }) => `SELECT ${i} AS col, ${dialect.castText(quoteIdent(c.name))} AS value, count(*) AS cnt FROM ${table} WHERE ${quoteIdent(c.name)} IS NOT NULL GROUP BY ${quoteIdent(c.name)}`);
    const rows = await run(
      `SELECT col, value, cnt, d, lo, hi FROM (SELECT col, value, cnt, count(*) OVER (PARTITION BY col) AS d, min(value) OVER (PARTITION BY col) AS lo, max(value) OVER (PARTITION BY col) AS hi, ` +
        `row_number() OVER (PARTITION BY col ORDER BY cnt DESC, value) AS rn FROM (${parts.join(' UNION ALL ')}) AS u) AS w WHERE rn <= ${Math.max(limit, 1)} ORDER BY col, rn`,
    );
    for (const row of rows) {
      const i = num(row['col']);
      const g = groups.get(i) ?? { d: num(row['d']), lo: row['lo'] ?? null, hi: row['hi'] ?? null, top: [] };
      g.top.push({ value: row['value'] ?? null, count: num(row['cnt']) });
      groups.set(i, g);
    }
  }

  const profiles = columns.map((c, i): ColumnProfile => {
    const g = groups.get(i);
    const nullCount = n - num(st[`nn_${i}`]);
    const text = c.family === 'text';
    const estimated: EstimatedField[] = [...(kind[i] === 'unique' || kind[i] === 'stats' ? (['distinctCount'] as const) : []), ...(hasQuantiles(c) ? (['quantiles'] as const) : [])];
    const distinctCount = kind[i] === 'low' ? (g?.d ?? 0) : kind[i] === 'stats' ? (fromStats[i] ?? 0) : num(scan[`d_${i}`]);
    return {
      name: c.name,
      type: c.type,
      family: c.family,
      nullCount,
      nullRate: n > 0 ? nullCount / n : 0,
      // An estimate never exceeds the non-null rows.
      distinctCount: Math.min(distinctCount, n - nullCount),
      min: (text && kind[i] === 'low' ? g?.lo : text ? scan[`min_${i}`] : st[`min_${i}`]) ?? null,
      max: (text && kind[i] === 'low' ? g?.hi : text ? scan[`max_${i}`] : st[`max_${i}`]) ?? null,
      mean: numOrNull(scan[`mean_${i}`]),
      stddev: numOrNull(scan[`sd_${i}`]),
      quantiles: quantilesOf(qs[`q_${i}`]),
      topValues: maxDistinct > 0 && g && g.d > 0 && g.d <= maxDistinct && limit > 0 ? sortTop(g.top.slice(0, limit)) : null,
      estimated,
    };
  });
  return { table, rowCount: n, columns: profiles, method: 'sampled', queries };
}

function sortTop(list: { value: SqlValue; count: number }[] | undefined): { value: SqlValue; count: number }[] | null {
  if (!list) return null;
  return [...list].sort((a, b) => b.count - a.count || String(a.value).localeCompare(String(b.value)));
}

function quantilesOf(v: SqlValue | undefined): Quantiles | null {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) return null;
  const q = v as readonly number[];
  return { p01: q[0] ?? NaN, p25: q[1] ?? NaN, p50: q[2] ?? NaN, p75: q[3] ?? NaN, p99: q[4] ?? NaN };
}

function num(v: SqlValue | undefined): number {
  return typeof v === 'number' ? v : v === null || v === undefined ? 0 : Number(v);
}

function numOrNull(v: SqlValue | undefined): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/**
 * Flattens a profile to metric name -> value, the shape stored as a time series per output. Names
 * are `<metric>.<column>` (`null_rate.amount`, `p50.amount`), as rollout gates refer to them.
 */
export function profileMetrics(p: Pick<TableProfile, 'rowCount' | 'columns'>): Record<string, number> {
  const out: Record<string, number> = { row_count: p.rowCount };
  for (const c of p.columns) {
    out[`null_rate.${c.name}`] = c.nullRate;
    out[`distinct_count.${c.name}`] = c.distinctCount;
    if (c.mean !== null) out[`mean.${c.name}`] = c.mean;
    if (c.stddev !== null) out[`stddev.${c.name}`] = c.stddev;
    if (typeof c.min === 'number') out[`min.${c.name}`] = c.min;
    if (typeof c.max === 'number') out[`max.${c.name}`] = c.max;
    if (c.quantiles) for (const [k, v] of Object.entries(c.quantiles)) out[`${k}.${c.name}`] = v;
  }
  return out;
}
