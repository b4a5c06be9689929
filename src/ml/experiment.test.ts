import { describe, expect, it } from 'vitest';
import { CrossValidationError } from './cv';
import { runExperiment, type ExperimentProgress } from './experiment';
import { canonicalJson, serializeForecaster } from './serialize';
import { syntheticSeries } from './testing';

describe('runExperiment', () => {
  const s = syntheticSeries(120, 'monthly', 3);
  const space = { params: { alpha: { values: [0.1, 1, 10] } }, features: [{}] };
  const options = {
    families: ['ridge', 'lasso'] as const,
    budget: 3,
    folds: 3,
    seed: 7,
    spaces: { ridge: space, lasso: space },
  };

  it('compares families on CV, reports baselines next to them and checks the choice on the holdout', () => {
    const progress: ExperimentProgress[] = [];
    const { report, forecaster } = runExperiment(
      s,
      { ...options, families: [...options.families] },
      (p) => progress.push(p),
    );
    expect(report.families.map((f) => f.family)).toEqual(['ridge', 'lasso']);
    const best = Math.min(...report.families.map((f) => f.best!.cv.mae));
    expect(report.chosen.cv.mae).toBe(best);
    expect(report.chosen.cv.mae).toBeLessThan(report.baselines.cv.seasonalNaive.mae);
    expect(report.protocol.holdout).toEqual({ from: s.dates[108], to: s.dates[119], rows: 12 });
    expect(report.holdout!.metrics.n).toBe(12);
    expect(report.holdout!.coverage.nominal).toBe(0.9);
    expect(report.baselines.cv.folds).toHaveLength(3);
    expect(report.interval.method).toBe('cv-residuals');
    // per-horizon widths from the folds' rolling origins, 24 months for monthly data
    const widths = forecaster.interval.byHorizon!;
    expect(widths).toHaveLength(24);
    expect(widths[23]!).toBeGreaterThanOrEqual(widths[0]!);
    expect(forecaster.interval.nByHorizon![0]).toBe(forecaster.interval.nResiduals);
    expect(report.errorAnalysis.byMonth.length).toBe(12);
    expect(report.featureImportance.length).toBe(forecaster.featureNames.length);
    expect(forecaster.training.to).toBe(s.dates[119]);
    expect(progress.at(-1)!.done).toBe(progress.at(-1)!.total);
    // JSON-safe: finite numbers only, survives a round trip
    expect(() => canonicalJson(report)).not.toThrow();
  });

  it('is deterministic: same data, options and seed give the same report and model bytes', () => {
    const a = runExperiment(s, { ...options, families: [...options.families] });
    const b = runExperiment(s, { ...options, families: [...options.families] });
    expect(canonicalJson(a.report)).toBe(canonicalJson(b.report));
    expect(serializeForecaster(a.forecaster)).toBe(serializeForecaster(b.forecaster));
  });

  it('refuses too few rows for the requested folds', () => {
    expect(() =>
      runExperiment(syntheticSeries(40), { folds: 10, families: ['ridge'], budget: 1 }),
    ).toThrow(CrossValidationError);
  });
});
