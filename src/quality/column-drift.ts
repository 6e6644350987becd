import type { SqlEngine, SqlValue } from '../engine/sql-engine.ts';
import { quoteIdent } from '../engine/sql.ts';
import { SluiceError } from '../util/errors.ts';
import { type SqlDialect } from '../engine/sql-dialect.ts';
import { describeTable, isNumericFamily, isTemporalFamily } from './table-columns.ts';

export interface DriftOptions {
  /** Columns to compare; default every column both tables have. */
  readonly columns?: readonly string[];
  /** Quantile bins of the baseline for numeric PSI (default 10). */
  readonly bins?: number;
  /** Categories kept per column (most frequent in the baseline); the rest pool as "(other)" (default 50). */
  readonly maxCategories?: number;
  readonly dialect?: SqlDialect;
}

export interface DriftBin {
  readonly label: string;
  readonly baseline: number;
  readonly candidate: number;
}

export interface ColumnDrift {
  readonly column: string;
  readonly kind: 'numeric' | 'categorical';
  /** Population stability index: sum over bins of (c - b) * ln(c / b) on shares (0.1 small, 0.25 large shift). */
  readonly psi: number;
  /** Kolmogorov–Smirnov statistic: the largest gap between the two empirical CDFs (numeric columns). */
  readonly ks: number | null;
  readonly bins: readonly DriftBin[];
  readonly baselineCount: number;
  readonly candidateCount: number;
}

/** Shares below this are replaced by it in PSI so an empty bin gives a large but finite term. */
export const PSI_EPSILON = 1e-4;

export function psi(bins: readonly DriftBin[]): number {
  const nb = bins.reduce((s, b) => s + b.baseline, 0);
  const nc = bins.reduce((s, b) => s + b.candidate, 0);
  if (nb === 0 || nc === 0) return 0;
  let total = 0;
  for (const b of bins) {
    const pb = Math.max(b.baseline / nb, PSI_EPSILON);
    const pc = Math.max(b.candidate / nc, PSI_EPSILON);
    total += (pc - pb) * Math.log(pc / pb);
  }
  return total;
}

/**
 * Distribution drift per column between a baseline and a candidate table. Numbers: PSI over the
 * baseline's quantile bins and the KS statistic; everything else: PSI over categories. Binning,
 * counting and the KS maximum all run in SQL; JavaScript gets a few rows per column.
 */
export async function columnDrift(engine: SqlEngine, baseline: string, candidate: string, options: DriftOptions = {}): Promise<ColumnDrift[]> {
  const dialect = options.dialect ?? engine.dialect;
  const nBins = options.bins ?? 10;
  const maxCats = options.maxCategories ?? 50;
  // One after the other: a missing table must not leave the other query running when the caller closes the engine.
  const bc = await describeTable(engine, baseline, dialect);
  const cc = await describeTable(engine, candidate, dialect);
  const names = options.columns ?? bc.map((c) => c.name).filter((n) => cc.some((c) => c.name === n));
  const out: ColumnDrift[] = [];
  for (const name of names) {
    const col = bc.find((c) => c.name === name);
    if (!col || !cc.some((c) => c.name === name)) throw new SluiceError('USAGE', `column ${name} is not in both ${baseline} and ${candidate}`, { field: 'columns' });
    const q = quoteIdent(name);
    const numeric = isNumericFamily(col.family) || isTemporalFamily(col.family);
    if (numeric) {
      const x = isTemporalFamily(col.family) ? dialect.epochSeconds(q) : dialect.toDouble(q, col.family);
      const ps = Array.from({ length: nBins - 1 }, (_, i) => (i + 1) / nBins);
      const [e] = await engine.query(`SELECT ${dialect.quantiles(x, ps)} AS edges FROM ${baseline} WHERE ${q} IS NOT NULL`);
      const edges = [...new Set(((e?.['edges'] as SqlValue[] | null) ?? []).map(Number))].sort((a, b) => a - b);
      const bucket = edges.length === 0 ? '0' : `CASE ${edges.map((v, i) => `WHEN ${x} < ${v} THEN ${i}`).join(' ')} ELSE ${edges.length} END`;
      const rows = await engine.query(
        `SELECT bin, sum(b) AS b, sum(c) AS c FROM (SELECT ${bucket} AS bin, 1 AS b, 0 AS c FROM ${baseline} WHERE ${q} IS NOT NULL UNION ALL SELECT ${bucket}, 0, 1 FROM ${candidate} WHERE ${q} IS NOT NULL) AS u GROUP BY bin ORDER BY bin`,
      );
      const bins: DriftBin[] = Array.from({ length: edges.length + 1 }, (_, i) => {
        const r = rows.find((row) => Number(row['bin']) === i);
        const lo = i === 0 ? '-inf' : String(edges[i - 1]);
        const hi = i === edges.length ? '+inf' : String(edges[i]);
        return { label: `[${lo}, ${hi})`, baseline: Number(r?.['b'] ?? 0), candidate: Number(r?.['c'] ?? 0) };
      });
      const [ks] = await engine.query(
        `WITH u AS (SELECT ${x} AS v, 1 AS b, 0 AS c FROM ${baseline} WHERE ${q} IS NOT NULL UNION ALL SELECT ${x}, 0, 1 FROM ${candidate} WHERE ${q} IS NOT NULL),
         g AS (SELECT v, sum(b) AS b, sum(c) AS c FROM u GROUP BY v),
         t AS (SELECT sum(b) AS nb, sum(c) AS nc FROM g),
         cdf AS (SELECT sum(b) OVER (ORDER BY v) AS cb, sum(c) OVER (ORDER BY v) AS cc FROM g)
         SELECT max(abs(cb / nullif(nb, 0) - cc / nullif(nc, 0))) AS ks FROM cdf, t`,
      );
      out.push(result(name, 'numeric', bins, ks?.['ks'] === null || ks?.['ks'] === undefined ? null : Number(ks['ks'])));
    } else {
      const v = dialect.castText(q);
      const rows = await engine.query(
        `WITH b AS (SELECT ${v} AS v, count(*) AS n FROM ${baseline} WHERE ${q} IS NOT NULL GROUP BY 1),
         c AS (SELECT ${v} AS v, count(*) AS n FROM ${candidate} WHERE ${q} IS NOT NULL GROUP BY 1),
         keep AS (SELECT v FROM b ORDER BY n DESC, v LIMIT ${maxCats}),
         j AS (SELECT CASE WHEN coalesce(b.v, c.v) IN (SELECT v FROM keep) THEN coalesce(b.v, c.v) ELSE '(other)' END AS label,
                      coalesce(b.n, 0) AS bn, coalesce(c.n, 0) AS cn
               FROM b FULL OUTER JOIN c ON b.v = c.v)
         SELECT label, sum(bn) AS b, sum(cn) AS c FROM j GROUP BY label ORDER BY sum(bn) DESC, label`,
      );
      const bins = rows.map((r) => ({ label: String(r['label']), baseline: Number(r['b']), candidate: Number(r['c']) }));
      out.push(result(name, 'categorical', bins, null));
    }
  }
  return out;
}

function result(column: string, kind: ColumnDrift['kind'], bins: DriftBin[], ks: number | null): ColumnDrift {
  return {
    column,
    kind,
    psi: psi(bins),
    ks,
    bins,
    baselineCount: bins.reduce((s, b) => s + b.baseline, 0),
    candidateCount: bins.reduce((s, b) => s + b.candidate, 0),
  };
}
