import { describe, expect, it } from 'vitest';
import reference from '../../test/fixtures/ml/diebold-mariano.json';
import { dieboldMariano, studentTCdf } from './significance';

describe('Diebold-Mariano test', () => {
  // statistics and p-values computed with numpy + scipy by scripts/reference/diebold_mariano.py
  it.each(reference.cases.map((c, i) => [i, c] as const))(
    'matches the scipy reference, case %i',
    (_i, c) => {
      const r = dieboldMariano(c.errorsA, c.errorsB, {
        horizon: c.horizon,
        loss: c.loss as 'absolute' | 'squared',
      });
      expect(r.statistic).toBeCloseTo(c.statistic, 9);
      expect(r.pValue).toBeCloseTo(c.pValue, 9);
    },
  );

  it('finds no difference between identical forecasts', () => {
    const e = [1, -2, 3, -4, 5];
    expect(dieboldMariano(e, e)).toMatchObject({ statistic: 0, pValue: 0.5 });
  });

  it('rejects unpaired or too short inputs', () => {
    expect(() => dieboldMariano([1, 2, 3], [1, 2])).toThrow(RangeError);
    expect(() => dieboldMariano([1, 2], [1, 2])).toThrow(/at least 3/);
    expect(() => dieboldMariano([1, NaN, 3], [1, 2, 3])).toThrow(/non-finite/);
  });
});

describe("Student's t CDF", () => {
  it('matches table values', () => {
    // two-sided 95% critical values: t(0.975; 10) = 2.228139, t(0.975; 1) = 12.706205
    expect(studentTCdf(2.228139, 10)).toBeCloseTo(0.975, 6);
    expect(studentTCdf(12.706205, 1)).toBeCloseTo(0.975, 6);
    expect(studentTCdf(0, 7)).toBe(0.5);
    expect(studentTCdf(-1.812461, 10)).toBeCloseTo(0.05, 6);
  });
});
