/**
 * The Mann-Whitney U test (Wilcoxon rank-sum test) and the Hodges–Lehmann shift
 * estimate, as the canary judge uses them (Kayenta's MannWhitneyClassifier model).
 *
 * - U is the statistic of the first sample x: the number of pairs (x_i, y_j) with
 *   x_i > y_j, ties counting one half (R_x − n_x(n_x+1)/2 with mid-ranks).
 * - Without ties and with small samples the p-values come from the exact null
 *   distribution of U (the coefficients of the Gaussian binomial coefficient,
 *   counted in integers); otherwise from the normal approximation with the tie
 *   correction of the variance and a continuity correction of ½, as
 *   scipy.stats.mannwhitneyu does.
 * - p-values are one-sided: `pGreater` for "x is stochastically greater than y",
 *   `pLess` for "x is stochastically less than y".
 */

export interface MannWhitneyResult {
  /** The U statistic of the first sample. */
  readonly u: number;
  readonly n1: number;
  readonly n2: number;
  /** P(U ≥ u) under the null hypothesis: evidence that x is greater than y. */
  readonly pGreater: number;
  /** P(U ≤ u) under the null hypothesis: evidence that x is less than y. */
  readonly pLess: number;
  readonly method: 'exact' | 'asymptotic';
  /** Whether the pooled sample had tied values (mid-ranks were used). */
  readonly ties: boolean;
  /** Hodges–Lehmann estimate of the shift of x relative to y: the median of all x_i − y_j. */
  readonly shift: number;
}

/** Samples this large or larger (n1 + n2) use the normal approximation even without ties. */
export const EXACT_LIMIT = 100;

/** Ranks of the values (1-based), tied values sharing the mean of the ranks they span. */
export function midRanks(values: readonly number[]): number[] {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const ranks = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]?.value === order[i]?.value) j += 1;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k += 1) ranks[(order[k] as { index: number }).index] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Sizes of the groups of tied values in the pooled sample (groups of one included). */
function tieGroups(values: readonly number[]): number[] {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.values()];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Hodges–Lehmann estimate of the location shift of x relative to y: the median of the n1·n2 differences x_i − y_j. */
export function hodgesLehmannShift(x: readonly number[], y: readonly number[]): number {
  const differences: number[] = [];
  for (const a of x) for (const b of y) differences.push(a - b);
  return median(differences);
}

/**
 * The standard normal distribution function, from erfc by the Chebyshev fit of
 * Numerical Recipes (3rd ed., §6.2.2, `erfccheb`): close to double precision.
 */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  if (z === Number.POSITIVE_INFINITY) return 1;
  if (z === Number.NEGATIVE_INFINITY) return 0;
  return 0.5 * erfc(-z / Math.SQRT2);
}

const ERFC_COEFFICIENTS = [
  -1.3026537197817094, 6.419697923564902e-1, 1.9476473204185836e-2, -9.561514786808631e-3, -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5,
  -2.0278578112534e-5, -1.624290004647e-6, 1.30365583558e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10,
  -2.27365122e-10, 9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16,
  -2.8e-17,
];

function erfcPositive(z: number): number {
  const t = 2 / (2 + z);
  const ty = 4 * t - 2;
  let d = 0;
  let dd = 0;
  for (let j = ERFC_COEFFICIENTS.length - 1; j > 0; j -= 1) {
    const previous = d;
    d = ty * d - dd + (ERFC_COEFFICIENTS[j] as number);
    dd = previous;
  }
  return t * Math.exp(-z * z + 0.5 * ((ERFC_COEFFICIENTS[0] as number) + ty * d) - dd);
}

function erfc(z: number): number {
  return z >= 0 ? erfcPositive(z) : 2 - erfcPositive(-z);
}

/**
 * Counts of U = 0..n1·n2 over the C(n1+n2, n1) equally likely arrangements: the
 * coefficients of the Gaussian binomial [n1+n2 choose n1]_q = ∏_{i=1..n1} (1 − q^{n2+i}) / (1 − q^i).
 */
function exactUCounts(n1: number, n2: number): bigint[] {
  const degree = n1 * n2;
  const c = new Array<bigint>(degree + 1).fill(0n);
  c[0] = 1n;
  for (let i = 1; i <= n1; i += 1) {
    // Multiply by (1 − q^{n2+i}), from the top down, then divide by (1 − q^i), from the bottom up.
    const k = n2 + i;
    for (let d = degree; d >= k; d -= 1) c[d] = (c[d] as bigint) - (c[d - k] as bigint);
    for (let d = i; d <= degree; d += 1) c[d] = (c[d] as bigint) + (c[d - i] as bigint);
  }
  return c;
}

function ratio(numerator: bigint, denominator: bigint): number {
  // Scale to keep 15 significant digits when both are beyond 2^53.
  const scale = 10n ** 18n;
  return Number((numerator * scale) / denominator) / 1e18;
}

/** The Mann-Whitney U test of x against y. Both samples must be non-empty and finite. */
export function mannWhitneyU(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('mannWhitneyU needs at least one value in each sample');
  if ([...x, ...y].some((v) => !Number.isFinite(v))) throw new RangeError('mannWhitneyU needs finite values');
  const pooled = [...x, ...y];
  const ranks = midRanks(pooled);
  const rankSumX = ranks.slice(0, n1).reduce((sum, r) => sum + r, 0);
  const u = rankSumX - (n1 * (n1 + 1)) / 2;
  const groups = tieGroups(pooled);
  const ties = groups.some((t) => t > 1);
  const shift = hodgesLehmannShift(x, y);

  if (!ties && n1 + n2 < EXACT_LIMIT) {
    const counts = exactUCounts(n1, n2);
    const total = counts.reduce((sum, c) => sum + c, 0n);
    // u is an integer without ties.
    let atMost = 0n;
    for (let d = 0; d <= u; d += 1) atMost += counts[d] as bigint;
    const below = atMost - (counts[u] as bigint);
    return { u, n1, n2, pLess: ratio(atMost, total), pGreater: ratio(total - below, total), method: 'exact', ties, shift };
  }

  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const tieTerm = groups.reduce((sum, t) => sum + (t * t * t - t), 0);
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) {
    // Every value is the same: no evidence either way.
    return { u, n1, n2, pLess: 1, pGreater: 1, method: 'asymptotic', ties, shift };
  }
  const sigma = Math.sqrt(variance);
  const pGreater = Math.min(1, 1 - normalCdf((u - mean - 0.5) / sigma));
  const pLess = Math.min(1, normalCdf((u - mean + 0.5) / sigma));
  return { u, n1, n2, pGreater, pLess, method: 'asymptotic', ties, shift };
}
