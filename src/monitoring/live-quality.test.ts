import { describe, expect, it } from 'vitest';
import { liveQuality, liveQualityWindow } from './live-quality';

describe('liveQuality', () => {
  // errors (actual - prediction): +10, -20, +30, 0 -> MAE 15, RMSE sqrt(1400/4) = 18.7083, bias 5
  const rows = [
    { time: 1_000, prediction: 100, actual: 110, lower: 95, upper: 115 },
    { time: 2_000, prediction: 100, actual: 80, lower: 90, upper: 110 },
    { time: 3_000, prediction: 50, actual: 80, lower: null, upper: null },
    { time: 4_000, prediction: 70, actual: 70, lower: 60, upper: 70 },
  ];

  it('computes MAE, RMSE, bias and the coverage of the rows that had an interval', () => {
    const q = liveQuality(rows);
    expect(q.n).toBe(4);
    expect(q.mae).toBe(15);
    expect(q.rmse).toBeCloseTo(Math.sqrt(350), 12);
    expect(q.bias).toBe(5);
    expect(q.withInterval).toBe(3);
    expect(q.coverage).toBeCloseTo(2 / 3, 12); // 110 in [95,115], 80 not in [90,110], 70 in [60,70]
  });

  it('keeps only the rows of the window (now - window, now]', () => {
    const q = liveQualityWindow(rows, 4_000, 2_000);
    expect(q.n).toBe(2);
    expect(q.mae).toBe(15); // errors +30 and 0
  });

  it('returns NaN, not 0, when nothing is labelled', () => {
    const q = liveQuality([]);
    expect(q.n).toBe(0);
    expect(Number.isNaN(q.mae)).toBe(true);
    expect(Number.isNaN(q.coverage)).toBe(true);
  });
});
