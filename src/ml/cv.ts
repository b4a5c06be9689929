import { backtest, fitForecaster, horizonResiduals, type ForecasterConfig } from './forecaster';
import { computeMetrics } from './metrics';
import type { Metrics, Prediction, Series } from './types';

/** Options for expanding-window time-series cross-validation. */
export interface CvOptions {
  /** Number of folds (>= 1). */
  folds: number;
  /** Rows per test fold; default floor(n / (folds + 1)) like scikit-learn's TimeSeriesSplit. */
  horizon?: number;
  /** Rows left out between the end of training and the start of each test fold (default 0). */
  gap?: number;
  /** Fewest training rows accepted for the first fold (default 12). */
  minTrain?: number;
}

/** One fold: train on rows [0, trainEnd), test on rows [testStart, testEnd). */
export interface Fold {
  trainEnd: number;
  testStart: number;
  testEnd: number;
}

/** Not enough rows for the requested folds/horizon/gap (fix the options or the data; retrying will not help). */
export class CrossValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CrossValidationError';
  }
}

/**
 * Expanding-window splits over n rows, the last fold ending at row n (scikit-learn TimeSeriesSplit
 * semantics with test_size = horizon and gap). Throws CrossValidationError when the first fold would
 * train on fewer than `minTrain` rows.
 */
export function expandingWindowSplits(n: number, options: CvOptions): Fold[] {
  const { folds } = options;
  if (!Number.isInteger(folds) || folds < 1)
    throw new CrossValidationError(`folds must be a positive integer, got ${folds}`);
  const horizon = options.horizon ?? Math.floor(n / (folds + 1));
  const gap = options.gap ?? 0;
  const minTrain = options.minTrain ?? 12;
  if (horizon < 1) throw new CrossValidationError(`${n} rows are too few for ${folds} folds`);
  const firstTest = n - folds * horizon;
  if (firstTest - gap < minTrain) {
    throw new CrossValidationError(
      `${n} rows are too few for ${folds} folds of ${horizon} rows with a gap of ${gap}: the first fold would train on ${firstTest - gap} rows (need ${minTrain}: the features look back and the model needs rows to learn from)`,
    );
  }
  const out: Fold[] = [];
  for (let k = 0; k < folds; k++) {
    const testStart = firstTest + k * horizon;
    out.push({ trainEnd: testStart - gap, testStart, testEnd: testStart + horizon });
  }
  return out;
}

/** Slice of a series, rows [from, to). */
export function sliceSeries(s: Series, from: number, to: number): Series {
  const covariates: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(s.covariates)) covariates[k] = v.slice(from, to);
  return {
    dates: s.dates.slice(from, to),
    target: s.target.slice(from, to),
    temperature: s.temperature.slice(from, to),
    covariates,
    frequency: s.frequency,
  };
}

/** Out-of-sample result of one fold. */
export interface FoldResult {
  fold: Fold;
  metrics: Metrics;
  predictions: Prediction[];
  /** actual - prediction per test row */
  residuals: Float64Array;
  /**
   * With `horizons`: errors of recursive forecasts from every test row of the fold as an origin
   * (entry h - 1: h periods ahead, up to the series' end); see `horizonResiduals`.
   */
  horizonResiduals?: Float64Array[];
}

/**
 * Fits `config` on each fold's training rows and scores one-step-ahead predictions on its test
 * rows. Interval calibration is skipped inside the folds (cheap); the residuals returned are what
 * calibrates the final model. With `horizons` (H), each fold's model also forecasts recursively
 * up to H periods from every test row as an origin (rolling origins), for per-horizon intervals.
 * Throws like fitForecaster.
 */
export function crossValidate(
  series: Series,
  config: ForecasterConfig,
  folds: Fold[],
  options: { horizons?: number } = {},
): FoldResult[] {
  return folds.map((fold) => {
    const f = fitForecaster(sliceSeries(series, 0, fold.trainEnd), config, { calibrate: false });
    const predictions = backtest(f, series, fold.testStart, fold.testEnd);
    const actual = series.target.subarray(fold.testStart, fold.testEnd);
    const residuals = Float64Array.from(predictions, (p, i) => actual[i]! - p.prediction);
    const byHorizon = options.horizons
      ? {
          horizonResiduals: horizonResiduals(
            f,
            series,
            fold.testStart,
            fold.testEnd,
            options.horizons,
          ),
        }
      : {};
    return {
      ...byHorizon,
      fold,
      metrics: computeMetrics(
        actual,
        Float64Array.from(predictions, (p) => p.prediction),
      ),
      predictions,
      residuals,
    };
  });
}

/** Pools fold results: metrics over every test row of every fold. */
export function pooledMetrics(results: FoldResult[], series: Series): Metrics {
  const actual: number[] = [];
  const pred: number[] = [];
  for (const r of results) {
    r.predictions.forEach((p, i) => {
      actual.push(series.target[r.fold.testStart + i]!);
      pred.push(p.prediction);
    });
  }
  return computeMetrics(actual, pred);
}
