import { describe, expect, it } from 'vitest';
import {
  anchorValue,
  buildDesign,
  featureNames,
  resolveFeatureSpec,
  timelineOf,
  warmupPeriods,
} from './features';
import { syntheticSeries } from './testing';
import type { Series } from './types';

function copy(s: Series): Series {
  const covariates: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(s.covariates)) covariates[k] = Float64Array.from(v);
  return {
    ...s,
    dates: [...s.dates],
    target: Float64Array.from(s.target),
    temperature: Float64Array.from(s.temperature),
    covariates,
  };
}

describe('features', () => {
  for (const frequency of ['monthly', 'weekly', 'daily'] as const) {
    it(`never lets a later row change an earlier row's features (${frequency})`, () => {
      const n = frequency === 'weekly' ? 140 : 120;
      const base = syntheticSeries(n, frequency, 7);
      const spec = resolveFeatureSpec(base, {
        temperatureKnots: [20],
        temperaturePowers: 3,
        anchor: 'level',
      });
      const ref = buildDesign(spec, timelineOf(spec, base));
      const p = ref.X.cols;
      let seed = 3;
      for (let trial = 0; trial < 25; trial++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        const j = warmupPeriods(spec) + (seed % (n - warmupPeriods(spec)));
        const changed = copy(base);
        for (let k = j; k < n; k++) {
          changed.target[k] = changed.target[k]! * 3 + 100;
          changed.temperature[k] = changed.temperature[k]! - 17;
          changed.covariates.rain![k] = 999;
        }
        const tl = timelineOf(spec, changed);
        const d = buildDesign(spec, tl);
        const refTl = timelineOf(spec, base);
        for (let r = 0; r < ref.index.length && ref.index[r]! < j; r++) {
          for (let c = 0; c < p; c++) expect(d.X.data[r * p + c]).toBe(ref.X.data[r * p + c]);
          expect(anchorValue(spec, tl, ref.index[r]!)).toBe(
            anchorValue(spec, refTl, ref.index[r]!),
          );
        }
      }
    });
  }

  it('starts the design after the longest look-back and names every column', () => {
    const s = syntheticSeries(60);
    const spec = resolveFeatureSpec(s);
    const d = buildDesign(spec, timelineOf(spec, s));
    expect(warmupPeriods(spec)).toBe(13);
    expect(d.index[0]).toBe(13);
    expect(d.X.rows).toBe(60 - 13);
    expect(d.X.cols).toBe(featureNames(spec).length);
    expect(d.names).toContain('sales_lag_12');
    expect(d.names).toContain('cov_rain');
  });

  it('computes lags and moving averages from earlier rows only', () => {
    const s = syntheticSeries(40);
    const spec = resolveFeatureSpec(s, { lags: [1, 12], movingAverages: [3], covariates: [] });
    const d = buildDesign(spec, timelineOf(spec, s));
    const names = d.names;
    const row = d.index.indexOf(20);
    const at = (name: string) => d.X.data[row * d.X.cols + names.indexOf(name)];
    expect(at('sales_lag_1')).toBe(s.target[19]);
    expect(at('sales_lag_12')).toBe(s.target[8]);
    expect(at('sales_ma_3')).toBeCloseTo((s.target[17]! + s.target[18]! + s.target[19]!) / 3, 10);
    expect(at('temp')).toBe(s.temperature[20]);
    expect(at('temp_lag_12')).toBe(s.temperature[8]);
  });
});
