import { describe, expect, it } from 'vitest';
import { buildDesign, timelineOf } from './features';
import { fitForecaster } from './forecaster';
import {
  parseTrainingReference,
  ReferenceFormatError,
  trainingReference,
  type TrainingReference,
} from './reference';
import { syntheticSeries } from './testing';
import type { Series } from './types';

const series = syntheticSeries(72);
const f = fitForecaster(series, { family: 'ridge', params: { alpha: 1 }, seed: 1, coverage: 0.9 });

describe('trainingReference', () => {
  it('sketches quantiles with linear interpolation, like numpy.quantile', () => {
    // numpy.quantile(np.arange(1, 12), [0, .25, .5, .75, 1]) = [1, 3.5, 6, 8.5, 11]
    const s: Series = {
      ...series,
      dates: series.dates.slice(0, 11),
      target: Float64Array.from({ length: 11 }, (_, i) => 11 - i),
      temperature: Float64Array.from({ length: 11 }, (_, i) => i + 1),
      covariates: { rain: series.covariates.rain!.slice(0, 11) },
    };
    const ref = trainingReference(f, s, 5);
    expect(ref.features.find((x) => x.feature === 'temperature')).toEqual({
      feature: 'temperature',
      n: 11,
      quantiles: [1, 3.5, 6, 8.5, 11],
    });
    expect(ref.features.find((x) => x.feature === 'target')!.quantiles).toEqual([
      1, 3.5, 6, 8.5, 11,
    ]);
  });

  it("sketches the temperature, the sales and every model feature that is not the date's", () => {
    const ref = trainingReference(f, series);
    const names = ref.features.map((x) => x.feature);
    expect(names.slice(0, 2)).toEqual(['temperature', 'target']);
    expect(names).toContain('sales_lag_1');
    expect(names).toContain('temp_lag_12');
    expect(names).toContain('cov_rain');
    for (const gone of ['temp', 'month_2', 'fourier_sin_1', 'trend_years'])
      expect(names).not.toContain(gone);
    // the lag-1 feature over the rows with complete features: sales of rows warmup-1 .. n-2
    const lag = ref.features.find((x) => x.feature === 'sales_lag_1')!;
    expect(lag.n).toBe(f.training.usedRows);
    expect(lag.quantiles).toHaveLength(101);
    const design = buildDesign(f.features, timelineOf(f.features, series));
    const first = design.index[0]!;
    const lagged = Array.from(series.target.subarray(first - 1, series.dates.length - 1));
    expect(lag.quantiles[0]).toBeCloseTo(Math.min(...lagged), 3);
    expect(lag.quantiles[100]).toBeCloseTo(Math.max(...lagged), 3);
    for (let i = 1; i < 101; i++)
      expect(lag.quantiles[i]!).toBeGreaterThanOrEqual(lag.quantiles[i - 1]!);
    // deterministic and JSON-safe
    expect(JSON.stringify(trainingReference(f, series))).toBe(JSON.stringify(ref));
  });

  it('parses its own output and refuses another shape or version', () => {
    const ref = JSON.parse(JSON.stringify(trainingReference(f, series))) as TrainingReference;
    expect(parseTrainingReference(ref)).toEqual(ref);
    expect(() => parseTrainingReference({ ...ref, version: 2 })).toThrow(/version 2/);
    expect(() => parseTrainingReference({ format: 'x' })).toThrow(ReferenceFormatError);
    expect(() =>
      parseTrainingReference({ ...ref, features: [{ feature: 'a', n: 1, quantiles: [] }] }),
    ).toThrow(/"a"/);
  });
});
