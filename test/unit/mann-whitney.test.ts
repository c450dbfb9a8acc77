import { describe, expect, it } from 'vitest';
import { hodgesLehmannShift, mannWhitneyU, median, midRanks, normalCdf } from '../../functions/shared/domain/mann-whitney';

describe('midRanks', () => {
  it('gives tied values the mean of the ranks they span', () => {
    expect(midRanks([10, 20, 20, 30, 20, 5])).toEqual([2, 4, 4, 6, 4, 1]);
  });
});

describe('normalCdf', () => {
  // Reference values of the standard normal CDF (any table; these digits are scipy.stats.norm.cdf's).
  it.each([
    [-8, 6.22096057427174e-16],
    [-3, 0.0013498980316300933],
    [-1.96, 0.024997895148220435],
    [0, 0.5],
    [1, 0.8413447460685429],
    [1.96, 0.9750021048517795],
    [6, 0.9999999990134123],
  ])('Φ(%f) = %f', (z, expected) => {
    expect(normalCdf(z) / expected).toBeCloseTo(1, 12);
  });
});

describe('mannWhitneyU', () => {
  /*
   * The worked example of scipy.stats.mannwhitneyu's documentation (Examples, "nine randomly sampled young
   * adults were diagnosed with type II diabetes"): males [19, 22, 16, 29, 24], females [20, 11, 17, 12].
   * Published: U_M = 17, U_F = 3, exact two-sided p = 0.1111111111111111 (so one-sided 1/18), and the
   * normal approximation with continuity correction p = 0.11134688653314041 (two-sided).
   */
  const males = [19, 22, 16, 29, 24];
  const females = [20, 11, 17, 12];

  it('reproduces the documented U statistics and exact p-value', () => {
    const result = mannWhitneyU(males, females);
    expect(result.method).toBe('exact');
    expect(result.u).toBe(17);
    expect(mannWhitneyU(females, males).u).toBe(3);
    expect(2 * Math.min(result.pGreater, result.pLess)).toBeCloseTo(0.1111111111111111, 14);
    expect(result.pGreater).toBeCloseTo(1 / 18, 14);
    // P(U ≤ 17) = 1 − P(U ≥ 18) = 1 − 4/126.
    expect(result.pLess).toBeCloseTo(1 - 4 / 126, 14);
  });

  it('reproduces the documented normal approximation when ties force it', () => {
    // Adding one tied pair changes nothing but the method; check the approximation itself on the published z.
    const nx = 5;
    const ny = 4;
    const z = (3 - (nx * ny) / 2 + 0.5) / Math.sqrt((nx * ny * (nx + ny + 1)) / 12);
    expect(2 * normalCdf(z)).toBeCloseTo(0.11134688653314041, 12);
    // The same sample with a tie (17 → 16, tied with a male) is tested asymptotically, with the tie correction.
    const tied = mannWhitneyU(males, [20, 11, 16, 12]);
    expect(tied.method).toBe('asymptotic');
    expect(tied.ties).toBe(true);
  });

  /*
   * Samples with ties, tested with the normal approximation (tie-corrected variance, continuity correction):
   * the p-values scipy.stats.mannwhitneyu 1.17.1 gives for these data
   * (mannwhitneyu(x, y, alternative='less') → statistic 13.5, pvalue 0.015879478574031856;
   *  alternative='greater' → pvalue 0.9876172774448116).
   */
  it('corrects the variance for ties and uses mid-ranks', () => {
    const result = mannWhitneyU([1, 2, 2, 3, 3, 3, 4, 5], [2, 3, 4, 4, 5, 5, 6, 7, 7]);
    expect(result).toMatchObject({ u: 13.5, method: 'asymptotic', ties: true });
    expect(result.pLess).toBeCloseTo(0.015879478574031856, 12);
    expect(result.pGreater).toBeCloseTo(0.9876172774448116, 12);
  });

  /*
   * A larger sample without ties uses the exact distribution, counted in integers. scipy.stats.mannwhitneyu
   * 1.17.1 with method='exact' on these data: statistic 41, less 0.06677425414805951, greater 0.9410359461510357.
   */
  it('counts the exact distribution for larger samples without ties', () => {
    const result = mannWhitneyU(
      [1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7, 8.8, 9.9, 10.1, 11.2, 12.3],
      [3.05, 4.15, 6.25, 7.35, 8.45, 9.55, 13.65, 14.75, 15.85, 16.95, 17.05],
    );
    expect(result).toMatchObject({ u: 41, method: 'exact' });
    expect(result.pLess).toBeCloseTo(0.06677425414805951, 12);
    expect(result.pGreater).toBeCloseTo(0.9410359461510357, 12);
  });

  it('gives no evidence either way when every value is the same', () => {
    expect(mannWhitneyU([0, 0, 0], [0, 0, 0, 0])).toMatchObject({ pGreater: 1, pLess: 1, shift: 0 });
  });

  it('refuses empty or non-finite samples', () => {
    expect(() => mannWhitneyU([], [1])).toThrow(RangeError);
    expect(() => mannWhitneyU([1, Number.NaN], [1])).toThrow(RangeError);
  });

  it('is significant for a clear shift and not for a reversed one', () => {
    const low = [10, 11, 12, 13, 14, 15];
    const high = [20, 21, 22, 23, 24, 25];
    const result = mannWhitneyU(high, low);
    // Every arrangement but one has a smaller U: p = 1 / C(12, 6).
    expect(result.pGreater).toBeCloseTo(1 / 924, 14);
    expect(result.pLess).toBe(1);
  });
});

describe('hodgesLehmannShift', () => {
  it('is the median of all pairwise differences (the diabetes example: 7)', () => {
    // Differences males − females, sorted: −4 −1 −1 2 2 4 4 5 5 7 7 8 9 10 11 12 12 13 17 18 → median 7.
    expect(hodgesLehmannShift([19, 22, 16, 29, 24], [20, 11, 17, 12])).toBe(7);
  });

  it('recovers a constant shift', () => {
    expect(hodgesLehmannShift([3, 5, 9, 11], [1, 3, 7, 9])).toBe(2);
    expect(median([4, 1, 3])).toBe(3);
  });
});
