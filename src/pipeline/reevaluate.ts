import path from 'node:path';
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
import type { MlflowClient } from '../mlflow/client';
import { MlflowNotFoundError } from '../mlflow/errors';
import { downloadBundle } from './record';
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
 * @throws RegistryActionError for an unknown version; ForecastInputError when the data does not
 *   fit the model (another frequency, missing covariates); BundleIntegrityError for a corrupt bundle.
 */
export async function evaluateStoredVersion(
  mlflow: MlflowClient,
  name: string,
  version: string,
  series: Series,
  cacheDir: string,
): Promise<StoredModelEvaluation> {
  const mv = await mlflow.getModelVersion(name, version).catch((err: unknown) => {
    throw err instanceof MlflowNotFoundError
      ? new RegistryActionError(`${name} has no version ${version}`)
      : err;
  });
  if (!mv.source) throw new RegistryActionError(`${name} version ${version} has no source`);
  const { forecaster } = await downloadBundle(
    mlflow,
    mv.source,
    path.join(cacheDir, `${name}-v${version}`),
  );
  const from = Math.max(1, warmupPeriods(forecaster.features));
  if (from >= series.dates.length) {
    throw new RegistryActionError(
      `the data has ${series.dates.length} rows; the model needs more than ${from} of look-back`,
    );
  }
  const predictions = backtest(forecaster, series, from);
  const actual = series.target.subarray(from);
  return {
    model: name,
    version,
    runId: mv.run_id ?? null,
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
