import { describe, expect, it } from 'vitest';
import {
  DriftInputError,
  driftReport,
  kolmogorovQ,
  ksTwoSample,
  normalizedWasserstein,
  psi,
  quantile,
  wasserstein,
} from './drift';

// Reference values computed with scipy 1.17.1 / numpy 2.4.6 (the project's .tools venv):
//   scipy.stats.ks_2samp(a, b, method='asymp' | 'exact'), scipy.stats.wasserstein_distance(a, b),
//   scipy.stats.kstwobign.sf(x), numpy.std(a) (ddof = 0).
const a = [
  12.1, 14.3, 15.0, 16.2, 17.8, 18.1, 19.4, 20.0, 21.3, 22.7, 23.1, 24.8, 25.5, 26.0, 27.9, 28.4,
  29.1, 30.6, 31.2, 33.0,
];
const b = [
  15.2, 18.9, 20.4, 21.0, 22.2, 23.5, 24.1, 25.0, 25.9, 26.8, 27.3, 28.0, 28.8, 29.5, 30.1, 31.0,
  31.7, 32.4, 33.3, 34.1, 35.0, 35.9, 36.4, 37.2, 38.8,
];
const frac = (v: number): number => v - Math.floor(v);
/** low-discrepancy sample: start + width * frac(i * step), i = 1..n (same formula in numpy) */
const golden = (n: number, start: number, width: number, step: number): number[] =>
  Array.from({ length: n }, (_, k) => start + width * frac((k + 1) * step));

describe('two-sample Kolmogorov-Smirnov', () => {
  it('matches scipy ks_2samp on small samples (D exact, p close to the exact p)', () => {
    const r = ksTwoSample(a, b);
    expect(r.statistic).toBeCloseTo(0.35, 12);
    // scipy: exact 0.10461, asymp 0.10413
    expect(r.pValue).toBeGreaterThan(0.095);
    expect(r.pValue).toBeLessThan(0.115);
  });

  it('matches scipy on 1200 vs 500 rows with a clear shift', () => {
    const r = ksTwoSample(golden(1200, 20, 10, 0.6180339887), golden(500, 21.5, 10, 0.4142135624));
    expect(r.statistic).toBeCloseTo(0.15383333333333332, 10);
    // scipy asymp 9.2529e-08, exact 9.4053e-08
    expect(r.pValue).toBeGreaterThan(7e-8);
    expect(r.pValue).toBeLessThan(1.2e-7);
  });

  it('finds no evidence against equal distributions for a tiny shift', () => {
    const r = ksTwoSample(golden(300, 10, 10, 0.6180339887), golden(200, 10.3, 10, 0.7548776662));
    expect(r.statistic).toBeCloseTo(0.03833333333333333, 10);
    expect(r.pValue).toBeCloseTo(0.992, 2); // scipy asymp 0.99177, exact 0.99271
  });

  it('is 0 with p = 1 for identical samples, and handles ties', () => {
    expect(ksTwoSample([1, 2, 2, 3], [1, 2, 2, 3])).toEqual({ statistic: 0, pValue: 1 });
    expect(ksTwoSample([1, 1, 1, 1], [2, 2, 2, 2]).statistic).toBe(1);
  });

  it('computes the Kolmogorov survival function like scipy.stats.kstwobign.sf', () => {
    expect(kolmogorovQ(0.5)).toBeCloseTo(0.9639452436648751, 9);
    expect(kolmogorovQ(1.0)).toBeCloseTo(0.26999967167735456, 9);
    expect(kolmogorovQ(1.36)).toBeCloseTo(0.049485876755377876, 9);
    expect(kolmogorovQ(2.0)).toBeCloseTo(0.0006709252557796953, 12);
  });
});

describe('Wasserstein-1 distance', () => {
  it('matches scipy.stats.wasserstein_distance and its normalisation by numpy.std', () => {
    expect(wasserstein(a, b)).toBeCloseTo(5.675, 10);
    expect(normalizedWasserstein(a, b)).toBeCloseTo(0.949800771755678, 10);
    const x = golden(1200, 20, 10, 0.6180339887);
    const y = golden(500, 21.5, 10, 0.4142135624);
    expect(wasserstein(x, y)).toBeCloseTo(1.5025383351664785, 8);
    expect(normalizedWasserstein(x, y)).toBeCloseTo(0.5206954513488327, 8);
  });

  it('is the shift for a translated sample and 0 for the same one', () => {
    expect(wasserstein([1, 2, 3], [3, 4, 5])).toBeCloseTo(2, 12);
    expect(wasserstein([1, 2, 3], [3, 2, 1])).toBe(0);
  });
});

describe('PSI on reference-quantile bins', () => {
  const reference = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  /** current sample with the given number of rows in each quartile of 1..100 */
  const byQuartile = (counts: number[]): number[] =>
    counts.flatMap((c, q) => Array.from({ length: c }, () => q * 25 + 10));

  it('is the textbook value for shares 10/20/30/40% against 25% each', () => {
    // sum (c - r) ln(c / r) = 0.15 ln 2.5 + 0.05 ln 1.25 + 0.05 ln 1.2 + 0.15 ln 1.6 = 0.2282175
    const r = psi(reference, byQuartile([10, 20, 30, 40]), { bins: 4 });
    expect(r.edges).toEqual([25.75, 50.5, 75.25]); // numpy.quantile(1..100, [.25, .5, .75])
    expect(r.referenceShares).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(r.currentShares).toEqual([0.1, 0.2, 0.3, 0.4]);
    expect(r.psi).toBeCloseTo(0.2282175, 6);
  });

  it('replaces an empty bin share by epsilon', () => {
    // bin 1 empty: (1e-4 - .25) ln(1e-4 / .25) + 3 * (1/3 - .25) ln((1/3) / .25)
    const expected = (1e-4 - 0.25) * Math.log(1e-4 / 0.25) + 3 * (1 / 3 - 0.25) * Math.log(4 / 3);
    expect(psi(reference, byQuartile([0, 10, 10, 10]), { bins: 4 }).psi).toBeCloseTo(expected, 12);
  });

  it('is 0 for the reference itself and merges tied quantile edges', () => {
    expect(psi(reference, reference).psi).toBeCloseTo(0, 12);
    const tied = psi([1, 1, 1, 1, 1, 1, 1, 1, 2, 3], [1, 2, 3]);
    expect(tied.edges.length).toBeLessThan(9);
  });
});

describe('driftReport', () => {
  it('uses KS for a reference of at most 1000 rows and flags p < 0.05', () => {
    const drifted = driftReport(golden(300, 10, 10, 0.618034), golden(200, 14, 10, 0.754878));
    expect(drifted).toMatchObject({ method: 'ks', drift: true, enough: true });
    expect(drifted.pValue).toBeLessThan(0.05);
    const stable = driftReport(
      golden(300, 10, 10, 0.6180339887),
      golden(200, 10.3, 10, 0.7548776662),
    );
    expect(stable).toMatchObject({ method: 'ks', drift: false });
    expect(stable.psi).toBeLessThan(0.1);
  });

  it('uses the normalised Wasserstein distance above 1000 reference rows, drift from 0.1', () => {
    const r = driftReport(golden(1200, 20, 10, 0.6180339887), golden(500, 21.5, 10, 0.4142135624));
    expect(r).toMatchObject({ method: 'wasserstein', drift: true, pValue: null, threshold: 0.1 });
    expect(r.statistic).toBeCloseTo(0.5206954513488327, 8);
    expect(r.psiAlert).toBe(true);
    const tiny = driftReport(
      golden(1200, 20, 10, 0.6180339887),
      golden(500, 20.1, 10, 0.4142135624),
    );
    expect(tiny).toMatchObject({ method: 'wasserstein', drift: false });
  });

  it('treats a quantile sketch as the larger sample it stands for', () => {
    const full = golden(1200, 20, 10, 0.6180339887);
    const sorted = Float64Array.from(full).sort();
    const sketch = Array.from({ length: 101 }, (_, i) => quantile(sorted, i / 100));
    const current = golden(500, 21.5, 10, 0.4142135624);
    const r = driftReport(sketch, current, {}, full.length);
    expect(r).toMatchObject({ method: 'wasserstein', drift: true, referenceSize: 1200 });
    // the sketch's distance is close to the full sample's (0.5207, above)
    expect(r.statistic).toBeCloseTo(0.5207, 1);
    // KS: the same statistic, a p-value from the effective size of the full sample
    const ks = driftReport(sketch, current.slice(0, 40));
    const asFull = driftReport(sketch, current.slice(0, 40), { maxReferenceForKs: 5000 }, 1200);
    expect(asFull.statistic).toBe(ks.statistic);
    expect(asFull.pValue!).toBeLessThan(ks.pValue!);
  });

  it('makes no drift call on fewer current rows than minCurrent, and says so', () => {
    const r = driftReport(golden(300, 10, 10, 0.618034), [40, 41, 42]);
    expect(r).toMatchObject({ enough: false, drift: false });
    expect(r.reason).toMatch(/only 3 current rows/);
  });

  it('rejects an empty sample or a non-number, naming which and where', () => {
    expect(() => driftReport([], [1])).toThrow(DriftInputError);
    expect(() => driftReport([1, 2], [1, Number.NaN])).toThrow(/current: value NaN at index 1/);
  });
});

describe('quantile', () => {
  it('interpolates linearly like numpy.quantile', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 1, 5], 0.99)).toBeCloseTo(9.9, 12);
  });
});
