/**
 * Mann–Whitney U test (Wilcoxon rank-sum) for two independent samples.
 *
 * - `u1` counts pairs (x, y) with x > y, ties counting one half; `u2 = n1·n2 − u1`.
 * - Without ties and with both samples of at most 20, p-values are exact (the null distribution
 *   of U is counted by recurrence). Otherwise the normal approximation is used, with the tie
 *   correction of the variance and a continuity correction of 0.5; it is accurate to about two
 *   decimals for n ≥ 8 per sample.
 * - Small samples: with ties and fewer than 8 values per side the p-value is a rough
 *   approximation, and some sizes can never reach common significance levels at all (three
 *   against three gives at best p = 0.05 one-sided, 0.1 two-sided). Judges therefore wait for a
 *   minimum number of batches before they decide.
 */
export type MannWhitneyResult = {
  readonly n1: number;
  readonly n2: number;
  readonly u1: number;
  readonly u2: number;
  /** Standardised statistic of u1 (0 when the variance is 0). */
  readonly z: number;
  /** P(U ≥ u1) under the null: small when x tends to be larger than y. */
  readonly pGreater: number;
  /** P(U ≤ u1) under the null: small when x tends to be smaller than y. */
  readonly pLess: number;
  readonly pTwoSided: number;
  /** Rank-biserial correlation (u1 − u2) / (n1·n2), in −1..1; positive when x tends larger. */
  readonly rankBiserial: number;
  readonly method: 'exact' | 'normal';
};

export function mannWhitneyU(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return { n1, n2, u1: 0, u2: 0, z: 0, pGreater: 1, pLess: 1, pTwoSided: 1, rankBiserial: 0, method: 'normal' };
  const all = [...x.map((v) => ({ v, g: 0 })), ...y.map((v) => ({ v, g: 1 }))].sort((a, b) => a.v - b.v);
  const n = n1 + n2;
  let r1 = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1]?.v === all[i]?.v) j++;
    const t = j - i + 1;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k]?.g === 0) r1 += avgRank;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const rankBiserial = (u1 - u2) / (n1 * n2);
  const mu = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const sigma = Math.sqrt(Math.max(0, variance));
  const z = sigma === 0 ? 0 : (u1 - mu) / sigma;
  if (tieTerm === 0 && n1 <= 20 && n2 <= 20) {
    const dist = exactDistribution(n1, n2);
    const total = dist.reduce((s, c) => s + c, 0);
    let ge = 0;
    let le = 0;
    dist.forEach((c, u) => {
      if (u >= u1) ge += c;
      if (u <= u1) le += c;
    });
    const pGreater = ge / total;
    const pLess = le / total;
    return { n1, n2, u1, u2, z, pGreater, pLess, pTwoSided: Math.min(1, 2 * Math.min(pGreater, pLess)), rankBiserial, method: 'exact' };
  }
  if (sigma === 0) return { n1, n2, u1, u2, z, pGreater: 1, pLess: 1, pTwoSided: 1, rankBiserial, method: 'normal' };
  const pGreater = 1 - normalCdf((u1 - mu - 0.5) / sigma);
  const pLess = normalCdf((u1 - mu + 0.5) / sigma);
  return { n1, n2, u1, u2, z, pGreater: clamp01(pGreater), pLess: clamp01(pLess), pTwoSided: Math.min(1, 2 * Math.min(pGreater, pLess)), rankBiserial, method: 'normal' };
}

const cache = new Map<string, number[]>();

/** Counts of U = 0..n1·n2 over all arrangements of n1 x's and n2 y's without ties. */
function exactDistribution(n1: number, n2: number): number[] {
  const key = `${n1},${n2}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let out: number[];
  if (n1 === 0 || n2 === 0) out = [1];
  else {
    // The largest value is an x (beats all n2 y's) or a y (beats nothing).
    const a = exactDistribution(n1 - 1, n2);
    const b = exactDistribution(n1, n2 - 1);
    out = new Array<number>(n1 * n2 + 1).fill(0);
    a.forEach((c, u) => (out[u + n2] = (out[u + n2] ?? 0) + c));
    b.forEach((c, u) => (out[u] = (out[u] ?? 0) + c));
  }
  cache.set(key, out);
  return out;
}

function clamp01(p: number): number {
  return Math.min(1, Math.max(0, p));
}

/** Standard normal CDF via a Chebyshev erfc approximation (relative error below 1.2e-7). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
