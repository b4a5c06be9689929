import { describe, expect, it } from 'vitest';
import { computeMetrics } from './metrics';
import { naiveBaselines } from './baselines';
import { syntheticSeries } from './testing';

describe('computeMetrics', () => {
  it('matches the scikit-learn documentation examples', () => {
    // sklearn.metrics docs: y_true = [3, -0.5, 2, 7], y_pred = [2.5, 0.0, 2, 8]
    // mean_absolute_error 0.5, mean_squared_error 0.375, r2_score 0.948..., mean_absolute_percentage_error 0.3273...
    const m = computeMetrics([3, -0.5, 2, 7], [2.5, 0, 2, 8]);
    expect(m.mae).toBeCloseTo(0.5, 12);
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.375), 12);
    expect(m.r2).toBeCloseTo(0.9486081370449679, 12);
    expect(m.mape).toBeCloseTo(32.73809523809524, 10);
    expect(m.n).toBe(4);
  });

  it('computes sMAPE with 0/0 counted as a perfect prediction', () => {
    // 2|a-p|/(|a|+|p|): 2*1/(1+2)=2/3 and 0/0 -> 0; mean 1/3 -> 33.33%
    expect(computeMetrics([1, 0], [2, 0]).smape).toBeCloseTo(100 / 3, 10);
  });

  it('skips zero actuals in MAPE and reports r2 0 for constant actuals', () => {
    const m = computeMetrics([0, 10, 10], [1, 11, 9]);
    expect(m.mape).toBeCloseTo(10, 12);
    expect(computeMetrics([5, 5], [4, 6]).r2).toBe(0);
  });

  it('rejects mismatched lengths', () => {
    expect(() => computeMetrics([1, 2], [1])).toThrow(RangeError);
  });
});

describe('naiveBaselines', () => {
  it('scores last value and same-month-last-year on a monthly series', () => {
    const s = syntheticSeries(40);
    const b = naiveBaselines(s, 30, 40);
    let last = 0;
    let seasonal = 0;
    for (let t = 30; t < 40; t++) {
      last += Math.abs(s.target[t]! - s.target[t - 1]!);
      seasonal += Math.abs(s.target[t]! - s.target[t - 12]!);
    }
    expect(b.seasonalPeriod).toBe(12);
    expect(b.lastValue.mae).toBeCloseTo(last / 10, 10);
    expect(b.seasonalNaive.mae).toBeCloseTo(seasonal / 10, 10);
  });
});
