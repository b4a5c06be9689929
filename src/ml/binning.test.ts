import { describe, expect, it } from 'vitest';
import { binFeatures, binOf } from './binning';
import { matrix } from './matrix';
import { mulberry32 } from './tree-random';

describe('binFeatures', () => {
  it('gives one bin per distinct value with midpoint edges when there are few values', () => {
    const X = matrix(6, 1, Float64Array.from([3, 1, 2, 3, 1, 10]));
    const b = binFeatures(X, 255, 0);
    expect(Array.from(b.edges[0]!)).toEqual([1.5, 2.5, 6.5]);
    expect(Array.from(b.codes)).toEqual([2, 0, 1, 2, 0, 3]);
    expect(b.nBins[0]).toBe(4);
  });

  it('cuts a continuous column into maxBins quantile bins of near-equal size', () => {
    const rng = mulberry32(5);
    const n = 10_000;
    const X = matrix(
      n,
      1,
      Float64Array.from({ length: n }, () => rng()),
    );
    const b = binFeatures(X, 10, 0);
    expect(b.nBins[0]).toBe(10);
    const counts = new Array<number>(10).fill(0);
    b.codes.forEach((c) => counts[c]!++);
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThanOrEqual(1);
  });

  it('maps every value to the first edge at or above it, for clustered and heavy-tailed data, in both layouts', () => {
    const rng = mulberry32(9);
    const n = 5000;
    const data = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      data[2 * i] = Math.exp(8 * rng()) * (rng() < 0.5 ? -1 : 1);
      data[2 * i + 1] = rng() < 0.9 ? Math.round(rng() * 1e6) / 1e6 : 1e9 * rng();
    }
    const X = matrix(n, 2, data);
    const cols = binFeatures(X, 255, 1);
    const rows = binFeatures(X, 255, 1, 'rows');
    for (let f = 0; f < 2; f++) {
      for (let i = 0; i < n; i++) {
        const want = binOf(cols.edges[f]!, data[2 * i + f]!);
        expect(cols.codes[f * n + i]).toBe(want);
        expect(rows.codes[i * 2 + f]).toBe(want);
      }
    }
  });

  it('takes quantile edges from a subsample of a large column and still maps every row exactly', () => {
    const rng = mulberry32(2);
    const n = 60_000;
    const X = matrix(
      n,
      1,
      Float64Array.from({ length: n }, () => rng() * 100),
    );
    const b = binFeatures(X, 255, 3);
    expect(b.nBins[0]).toBe(255);
    const counts = new Array<number>(255).fill(0);
    for (let i = 0; i < n; i++) {
      expect(b.codes[i]).toBe(binOf(b.edges[0]!, X.data[i]!));
      counts[b.codes[i]!]!++;
    }
    // Sample quantiles: every bin holds about n / 255 = 235 rows.
    for (const c of counts) expect(c).toBeGreaterThan(150);
    expect(Array.from(binFeatures(X, 255, 3).edges[0]!)).toEqual(Array.from(b.edges[0]!));
  });

  it('bins only the selected rows when given a row index', () => {
    const X = matrix(4, 1, Float64Array.from([5, 1, 7, 3]));
    const b = binFeatures(X, 255, 0, 'columns', Int32Array.from([1, 3]));
    expect(Array.from(b.edges[0]!)).toEqual([2]);
    expect(Array.from(b.codes)).toEqual([0, 1]);
  });

  it('rejects maxBins outside 2..255', () => {
    const X = matrix(1, 1, Float64Array.from([1]));
    expect(() => binFeatures(X, 256, 0)).toThrow(/maxBins/);
    expect(() => binFeatures(X, 1, 0)).toThrow(/maxBins/);
  });
});
