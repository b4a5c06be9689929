import { describe, expect, it } from 'vitest';
import { inferFrequency } from './dates';
import { conformalHalfWidth, empiricalCoverage } from './intervals';

describe('conformalHalfWidth', () => {
  it('takes the ceil((n + 1) * coverage)-th smallest absolute residual (Lei et al. 2018)', () => {
    // |r| = 1..9, n = 9, coverage 0.8: ceil(10 * 0.8) = 8 -> 8
    expect(conformalHalfWidth([-1, 2, -3, 4, -5, 6, -7, 8, -9], 0.8)).toBe(8);
    // coverage 0.5: ceil(5) = 5 -> 5
    expect(conformalHalfWidth([9, 8, 7, 6, 5, 4, 3, 2, 1], 0.5)).toBe(5);
  });

  it('falls back to the largest residual when there are too few for the coverage', () => {
    expect(conformalHalfWidth([1, 2, 3], 0.9)).toBe(3);
  });

  it('rejects a coverage outside (0, 1)', () => {
    expect(() => conformalHalfWidth([1], 1)).toThrow(RangeError);
  });
});

describe('empiricalCoverage', () => {
  it('counts actuals inside their interval, bounds included', () => {
    expect(empiricalCoverage([1, 5, 10, 3], [0, 5, 11, 0], [2, 6, 12, 3])).toBe(0.75);
  });
});

describe('inferFrequency', () => {
  it('recognises daily, weekly and monthly spacing, tolerating one gap', () => {
    expect(inferFrequency(['2020-01-01', '2020-01-02', '2020-01-03', '2020-01-05'])).toBe('daily');
    expect(inferFrequency(['2020-01-06', '2020-01-13', '2020-01-20'])).toBe('weekly');
    expect(inferFrequency(['2020-01', '2020-02', '2020-03', '2020-05'])).toBe('monthly');
    expect(() => inferFrequency(['2020-01-01', '2021-01-01'])).toThrow(
      /not daily, weekly or monthly/,
    );
  });
});
