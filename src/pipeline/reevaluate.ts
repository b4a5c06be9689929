import {
  backtest,
  computeMetrics,
  empiricalCoverage,
  naiveBaselines,
  warmupPeriods,
  type Metrics,
  type Prediction,
  type Series,
} from '../ml';
import type { ModelStore } from '../model-store/store';
import { RegistryActionError } from './registry';
import type { BaselineMetrics } from './types';

export interface StoredModelEvaluation {
  model: string;
  version: string;
  runId: string | null;
  family: string;
  /** rows scored: all but the first ones, which lack the model's look-back */
  from: string;
  to: string;
  rows: number;
  metrics: Metrics;
  baselines: BaselineMetrics;
  coverage: { nominal: number; empirical: number };
  predictions: Prediction[];
}

/**
 * Re-evaluates any registered version on any dataset: downloads and verifies its bundle, then
 * predicts every row one step ahead from the actuals before it (rows without enough look-back
 * are skipped), next to the naive baselines on the same rows.
 * @throws ModelStoreError for an unknown or unverifiable version; ForecastInputError when the data does not
 *   fit the model (another frequency, missing covariates); BundleIntegrityError for a corrupt bundle; RegistryActionError when the data is too short.
 */
export async function evaluateStoredVersion(
  store: ModelStore,
  version: string,
  series: Series,
): Promise<StoredModelEvaluation> {
  const model = await store.load({ version });
  if (!model) throw new RegistryActionError(`${store.registeredModel} has no version ${version}`);
  const { forecaster, ref } = model;
  const from = Math.max(1, warmupPeriods(forecaster.features));
  if (from >= series.dates.length) {
    throw new RegistryActionError(
      `the data has ${series.dates.length} rows; the model needs more than ${from} of look-back`,
    );
  }
  const predictions = backtest(forecaster, series, from);
  const actual = series.target.subarray(from);
  return {
    model: ref.name,
    version,
    runId: ref.runId ?? null,
    family: forecaster.config.family,
    from: series.dates[from]!,
    to: series.dates[series.dates.length - 1]!,
    rows: predictions.length,
    metrics: computeMetrics(
      actual,
      predictions.map((p) => p.prediction),
    ),
    baselines: naiveBaselines(series, from),
    coverage: {
      nominal: forecaster.interval.coverage,
      empirical: empiricalCoverage(
        actual,
        predictions.map((p) => p.lower),
        predictions.map((p) => p.upper),
      ),
    },
    predictions,
  };
}
