import { describe, expect, it } from 'vitest';
import fixture from '../../test/fixtures/ml/timeseries-split.json';
import { CrossValidationError, crossValidate, expandingWindowSplits } from './cv';
import { syntheticSeries } from './testing';

describe('expandingWindowSplits', () => {
  for (const c of fixture.cases) {
    it(`matches scikit-learn TimeSeriesSplit for n=${c.n}, folds=${c.folds}, horizon=${c.horizon}, gap=${c.gap}`, () => {
      const folds = expandingWindowSplits(c.n, {
        folds: c.folds,
        gap: c.gap,
        minTrain: 1,
        ...(c.horizon ? { horizon: c.horizon } : {}),
      });
      expect(folds).toEqual(c.expected);
    });
  }

  it('refuses more folds than the rows allow, naming the numbers', () => {
    expect(() => expandingWindowSplits(30, { folds: 5 })).toThrow(CrossValidationError);
    expect(() => expandingWindowSplits(30, { folds: 5 })).toThrow(
      /first fold would train on 5 rows \(need 12/,
    );
  });
});

describe('crossValidate', () => {
  it('scores each fold out of sample on exactly its test rows', () => {
    const s = syntheticSeries(120);
    const folds = expandingWindowSplits(120, { folds: 3, horizon: 12 });
    const results = crossValidate(
      s,
      { family: 'ridge', params: { alpha: 1 }, seed: 0, coverage: 0.9 },
      folds,
    );
    expect(results.map((r) => r.metrics.n)).toEqual([12, 12, 12]);
    expect(results[2]!.predictions[0]!.date).toBe(s.dates[108]);
    const r = results[0]!;
    expect(r.residuals[0]).toBeCloseTo(s.target[84]! - r.predictions[0]!.prediction, 9);
  });
});
