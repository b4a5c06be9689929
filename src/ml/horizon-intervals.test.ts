import { describe, expect, it } from 'vitest';
import { crossValidate, expandingWindowSplits, sliceSeries } from './cv';
import { addPeriods, formatDay, parseDay } from './dates';
import {
  backtest,
  fitForecaster,
  forecast,
  halfWidthAt,
  horizonResiduals,
  type ForecasterConfig,
} from './forecaster';
import { horizonHalfWidths, minHorizonResiduals } from './intervals';
import type { Series } from './types';

/** Seeded N(0, 1) draws (xorshift32 + Box-Muller). */
function normals(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Monthly sales = a random-walk level + a temperature effect + noise: errors grow with the horizon. */
function randomWalkSeries(n: number, seed: number): Series {
  const z = normals(seed);
  const dates: string[] = [];
  const target = new Float64Array(n);
  const temperature = new Float64Array(n);
  let day = parseDay('1960-01-01');
  let level = 500;
  for (let i = 0; i < n; i++) {
    dates.push(formatDay(day));
    level += 15 * z();
    temperature[i] = 15 + 10 * Math.sin((2 * Math.PI * i) / 12 - Math.PI / 2) + z();
    target[i] = Math.max(0, level + 8 * temperature[i]! + 5 * z());
    day = addPeriods(day, 1, 'monthly');
  }
  return { dates, target, temperature, covariates: {}, frequency: 'monthly' };
}

const config: ForecasterConfig = {
  family: 'ridge',
  params: { alpha: 1 },
  features: { trend: false },
  seed: 1,
  coverage: 0.9,
};

describe('horizonHalfWidths', () => {
  it('takes the conformal quantile per horizon and keeps the widths non-decreasing', () => {
    const r = (scale: number) => Array.from({ length: 19 }, (_, i) => (i + 1) * scale);
    // n = 19, coverage 0.9: the ceil(20 * 0.9) = 18th smallest |r|
    const widths = horizonHalfWidths([r(1), r(3), r(2)], 0.9);
    expect(widths).toEqual([18, 54, 54]);
  });

  it('scales the last well-estimated width by sqrt(h / h0) where residuals are too few', () => {
    const many = Array.from({ length: 20 }, (_, i) => i + 1); // 19th smallest of 1..20 = 19
    const few = [1000]; // one residual: not used
    expect(minHorizonResiduals(0.9)).toBe(10);
    const widths = horizonHalfWidths([many, many, few, []], 0.9);
    expect(widths[1]).toBe(19);
    expect(widths[2]).toBeCloseTo(19 * Math.sqrt(3 / 2), 12);
    expect(widths[3]).toBeCloseTo(19 * Math.sqrt(4 / 2), 12);
  });

  it('refuses no residuals at the first horizon', () => {
    expect(() => horizonHalfWidths([[]], 0.9)).toThrow(RangeError);
  });
});

describe('per-horizon intervals', () => {
  const series = randomWalkSeries(480, 7);

  it('one step ahead, the recursive backtest is the ordinary one-step backtest', () => {
    const f = fitForecaster(sliceSeries(series, 0, 200), config);
    const res = horizonResiduals(f, series, 200, 220, 3);
    const one = backtest(f, series, 200, 220);
    expect(res[0]!.length).toBe(20);
    one.forEach((p, i) =>
      expect(res[0]![i]).toBeCloseTo(series.target[200 + i]! - p.prediction, 9),
    );
    // origins near the end reach fewer horizons
    expect(horizonResiduals(f, series, 478, 480, 3).map((r) => r.length)).toEqual([2, 1, 0]);
  });

  it('calibrated on rolling-origin backtests, widens with the horizon and covers about the nominal share of fresh stretches at every horizon', () => {
    // one stretch's coverage is noisy (overlapping windows are strongly correlated): average 20
    const H = 24;
    const seeds = Array.from({ length: 20 }, (_, i) => i + 1);
    const shares = new Array<number>(H).fill(0);
    let flatShare = 0;
    for (const seed of seeds) {
      const s = randomWalkSeries(480, seed);
      const dev = sliceSeries(s, 0, 300);
      const folds = expandingWindowSplits(300, { folds: 5, minTrain: 40 });
      const cv = crossValidate(dev, config, folds, { horizons: H });
      const byH = Array.from({ length: H }, (_, h) =>
        Float64Array.from(cv.flatMap((r) => Array.from(r.horizonResiduals![h]!))),
      );
      const residuals = Float64Array.from(cv.flatMap((r) => Array.from(r.residuals)));
      const f = fitForecaster(dev, config, { residuals, horizonResiduals: byH });
      const widths = f.interval.byHorizon!;
      expect(widths).toHaveLength(H);
      for (let h = 1; h < H; h++) expect(widths[h]!).toBeGreaterThanOrEqual(widths[h - 1]!);
      expect(widths[H - 1]!).toBeGreaterThan(2 * widths[0]!);
      expect(f.interval.nByHorizon![0]).toBe(residuals.length);
      // fresh origins after the training rows: the share of actuals inside, per horizon
      const fresh = horizonResiduals(f, s, 300, s.dates.length, H);
      fresh.forEach((res, h) => {
        const w = halfWidthAt(f.interval, h + 1);
        shares[h]! += res.filter((r) => Math.abs(r) <= w).length / res.length / seeds.length;
      });
      const far = fresh[H - 1]!;
      flatShare += far.filter((r) => Math.abs(r) <= f.interval.halfWidth).length / far.length;
    }
    for (const share of shares) {
      expect(share).toBeGreaterThan(0.82);
      expect(share).toBeLessThan(0.98);
    }
    // one one-step width for every horizon would cover far less two years ahead
    expect(flatShare / seeds.length).toBeLessThan(0.6);
  });

  it('forecast() gives each row the width of its horizon; a model without widths keeps one', () => {
    const dev = sliceSeries(series, 0, 300);
    const folds = expandingWindowSplits(300, { folds: 5, minTrain: 40 });
    const cv = crossValidate(dev, config, folds, { horizons: 24 });
    const byH = Array.from({ length: 24 }, (_, h) =>
      cv.flatMap((r) => Array.from(r.horizonResiduals![h]!)),
    );
    const f = fitForecaster(dev, config, { horizonResiduals: byH });
    const rows = [300, 311, 323].map((t) => ({
      date: series.dates[t]!,
      temperature: series.temperature[t]!,
    }));
    const p = forecast(f, dev, rows);
    const half = p.map((x) => x.upper - x.prediction);
    expect(half[0]).toBeCloseTo(f.interval.halfWidth, 9);
    expect(half[1]).toBeCloseTo(f.interval.byHorizon![11]!, 9);
    expect(half[2]).toBeCloseTo(f.interval.byHorizon![23]!, 9);
    expect(half[2]!).toBeGreaterThan(half[0]!);

    const single = { ...f.interval };
    delete single.byHorizon;
    delete single.nByHorizon;
    const old = forecast({ ...f, interval: single }, dev, rows);
    for (const x of old) expect(x.upper - x.prediction).toBeCloseTo(f.interval.halfWidth, 9);
  });

  it('without backtests given, calibrates the widths on its own split-conformal split', () => {
    const f = fitForecaster(sliceSeries(series, 0, 300), config);
    expect(f.interval.method).toBe('split-conformal');
    const widths = f.interval.byHorizon!;
    expect(widths).toHaveLength(24);
    for (let h = 1; h < 24; h++) expect(widths[h]!).toBeGreaterThanOrEqual(widths[h - 1]!);
    expect(widths[23]!).toBeGreaterThan(widths[0]!);
    expect(f.interval.nByHorizon![0]).toBe(f.interval.nResiduals);
  });
});
