import { describe, expect, it } from 'vitest';
import {
  backtest,
  fitForecaster,
  forecast,
  ForecastInputError,
  historyFromForecaster,
  type ForecasterConfig,
} from './forecaster';
import { computeMetrics } from './metrics';
import { ModelUnavailableError } from './models';
import { ForecasterFormatError, parseForecaster, serializeForecaster } from './serialize';
import { syntheticSeries } from './testing';
import type { Series } from './types';

const config: ForecasterConfig = { family: 'ridge', params: { alpha: 1 }, seed: 1, coverage: 0.9 };
const slice = (s: Series, from: number, to: number): Series => {
  const covariates: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(s.covariates)) covariates[k] = v.slice(from, to);
  return {
    ...s,
    dates: s.dates.slice(from, to),
    target: s.target.slice(from, to),
    temperature: s.temperature.slice(from, to),
    covariates,
  };
};

describe('forecaster', () => {
  const series = syntheticSeries(96);
  const train = slice(series, 0, 84);

  it('beats the seasonal naive baseline on a temperature-driven series', () => {
    const f = fitForecaster(train, config);
    const preds = backtest(f, series, 84);
    const m = computeMetrics(
      series.target.subarray(84),
      preds.map((p) => p.prediction),
    );
    let naive = 0;
    for (let t = 84; t < 96; t++) naive += Math.abs(series.target[t]! - series.target[t - 12]!);
    expect(m.mae).toBeLessThan(naive / 12);
    for (const p of preds) expect(p.lower).toBeLessThanOrEqual(p.prediction);
    expect(preds[0]!.date).toBe(series.dates[84]);
  });

  it('forecasts past the history recursively and agrees with backtest on the first step', () => {
    const f = fitForecaster(train, config);
    const rows = [84, 85, 86].map((t) => ({
      date: series.dates[t]!,
      temperature: series.temperature[t]!,
      covariates: { rain: series.covariates.rain![t]! },
    }));
    const ahead = forecast(f, train, rows);
    const oneStep = backtest(f, series, 84, 85);
    expect(ahead[0]!.prediction).toBeCloseTo(oneStep[0]!.prediction, 9);
    expect(ahead.map((p) => p.date)).toEqual(series.dates.slice(84, 87));
  });

  it('serves from the history tail stored in the model alone', () => {
    const f = fitForecaster(train, config);
    const row = {
      date: series.dates[84]!,
      temperature: series.temperature[84]!,
      covariates: { rain: series.covariates.rain![84]! },
    };
    const fromTail = forecast(f, historyFromForecaster(f), [row]);
    const fromAll = forecast(f, train, [row]);
    expect(fromTail[0]!.prediction).toBeCloseTo(fromAll[0]!.prediction, 9);
  });

  it('rejects a date off the monthly grid and a row without enough history', () => {
    const f = fitForecaster(train, config);
    expect(() => forecast(f, train, [{ date: '2017-01-15', temperature: 10 }])).toThrow(
      ForecastInputError,
    );
    expect(() => forecast(f, train, [{ date: series.dates[3]!, temperature: 10 }])).toThrow(
      /earlier periods/,
    );
  });

  it('serializes byte-identically for the same data, config and seed, and round-trips', () => {
    const a = serializeForecaster(fitForecaster(train, config));
    const b = serializeForecaster(fitForecaster(slice(syntheticSeries(96), 0, 84), config));
    expect(a).toBe(b);
    const parsed = parseForecaster(a);
    expect(serializeForecaster(parsed)).toBe(a);
    const p1 = backtest(parsed, series, 84);
    const p2 = backtest(fitForecaster(train, config), series, 84);
    expect(p1).toEqual(p2);
  });

  it('refuses a tampered file, an unknown version and invalid JSON', () => {
    const text = serializeForecaster(fitForecaster(train, config));
    expect(() => parseForecaster(text.replace('"alpha":1', '"alpha":2'))).toThrow(
      /checksum mismatch/,
    );
    expect(() => parseForecaster(text.replace('"version":1', '"version":99'))).toThrow(
      ForecasterFormatError,
    );
    expect(() => parseForecaster(text.slice(0, 50))).toThrow(ForecasterFormatError);
  });

  it('covers about the requested share of a fresh stretch with its interval', () => {
    const long = syntheticSeries(1000, 'daily', 5);
    const f = fitForecaster(slice(long, 0, 800), { ...config, coverage: 0.8 });
    const preds = backtest(f, long, 800);
    let inside = 0;
    preds.forEach(
      (p, i) =>
        (inside += long.target[800 + i]! >= p.lower && long.target[800 + i]! <= p.upper ? 1 : 0),
    );
    expect(inside / preds.length).toBeGreaterThan(0.65);
    expect(f.interval.method).toBe('split-conformal');
  });

  for (const [family, params] of [
    ['lasso', { alpha: 0.5 }],
    ['elasticnet', { alpha: 0.5, l1Ratio: 0.5 }],
    ['tree', { maxDepth: 4 }],
    ['forest', { nTrees: 20, maxDepth: 6 }],
    ['gbm', { maxIter: 50, minSamplesLeaf: 5 }],
  ] as const) {
    it(`fits ${family}, and predicts identically after a serialize/parse round trip`, () => {
      const f = fitForecaster(train, { ...config, family, params });
      const again = parseForecaster(serializeForecaster(f));
      expect(backtest(again, series, 84)).toEqual(backtest(f, series, 84));
      expect(serializeForecaster(fitForecaster(train, { ...config, family, params }))).toBe(
        serializeForecaster(f),
      );
    });
  }

  it('anchored to the last value, a fully shrunk model predicts last value + mean change', () => {
    const f = fitForecaster(train, {
      ...config,
      params: { alpha: 1e12 },
      features: { anchor: 'last' },
    });
    const warm = f.training.rows - f.training.usedRows;
    let change = 0;
    for (let t = warm; t < 84; t++) change += train.target[t]! - train.target[t - 1]!;
    change /= 84 - warm;
    const p = backtest(f, series, 84, 86);
    expect(p[0]!.prediction).toBeCloseTo(series.target[83]! + change, 3);
    expect(p[1]!.prediction).toBeCloseTo(series.target[84]! + change, 3);
  });

  it('handles weekly data: 52-week lags, a forecast two weeks past the history', () => {
    const weekly = syntheticSeries(220, 'weekly', 9);
    const f = fitForecaster(slice(weekly, 0, 200), { ...config, features: { anchor: 'level' } });
    expect(f.features.lags).toContain(52);
    const rows = [200, 201].map((t) => ({
      date: weekly.dates[t]!,
      temperature: weekly.temperature[t]!,
    }));
    const p = forecast(f, slice(weekly, 0, 200), rows);
    expect(p.map((x) => x.date)).toEqual([weekly.dates[200], weekly.dates[201]]);
    const m = computeMetrics(
      weekly.target.subarray(200),
      backtest(f, weekly, 200).map((x) => x.prediction),
    );
    expect(m.mae).toBeLessThan(30);
  });

  it('reports a family that is not wired in by name', () => {
    expect(() => fitForecaster(train, { ...config, family: 'prophet' as never })).toThrow(
      ModelUnavailableError,
    );
  });

  it('rejects a series too short for its features', () => {
    expect(() => fitForecaster(slice(series, 0, 18), config)).toThrow(ForecastInputError);
  });
});
