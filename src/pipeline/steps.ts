/**
 * The pipeline's steps on files: each reads references (paths) and writes its output next to
 * them. Temporal activities and the offline `icecream` commands that `dvc repro` runs both call
 * these, so the two paths cannot drift apart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadDataset, type ColumnMap } from '../data/dataset';
import { runExperiment, type ExperimentProgress } from '../ml/experiment';
import {
  availableFamilies,
  backtest,
  computeMetrics,
  dieboldMariano,
  empiricalCoverage,
  fitForecaster,
  forecasterChecksum,
  naiveBaselines,
  parseForecaster,
  seasonalPeriod,
  serializeForecaster,
  sliceSeries,
  type Forecaster,
  type Metrics,
  type Series,
} from '../ml';
import { readSeries, writeSeries } from '../data/series-file';
import type {
  ChampionComparison,
  EvaluateResult,
  EvaluationReport,
  SplitResult,
  TrainResult,
  TrainingPipelineInput,
  ValidateResult,
} from './types';

/** A request the pipeline cannot run as given (e.g. a holdout larger than the data). Not retryable. */
export class PipelineInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineInputError';
  }
}

export const defaultTraining = { seed: 42, coverage: 0.9 };

/** Loads and validates the CSV, writes the validated series to `<outDir>/series.json`. */
export async function validateStep(
  dataPath: string,
  columns: ColumnMap,
  outDir: string,
): Promise<ValidateResult> {
  const series = await loadDataset(dataPath, columns);
  fs.mkdirSync(outDir, { recursive: true });
  const seriesFile = path.join(outDir, 'series.json');
  writeSeries(seriesFile, series);
  return {
    seriesFile,
    rows: series.dates.length,
    frequency: series.frequency,
    from: series.dates[0] ?? '',
    to: series.dates[series.dates.length - 1] ?? '',
    covariates: Object.keys(series.covariates),
  };
}

/** Keeps the last `holdout` rows (default two seasons) out of training. */
export function splitStep(seriesFile: string, holdout?: number): SplitResult {
  const series = readSeries(seriesFile);
  const n = series.dates.length;
  const h = holdout ?? 2 * seasonalPeriod(series.frequency);
  if (!Number.isInteger(h) || h < 1)
    throw new PipelineInputError(`holdout must be a positive integer, got ${h}`);
  if (n - h < 3 * seasonalPeriod(series.frequency)) {
    throw new PipelineInputError(
      `holdout of ${h} rows leaves ${n - h} of ${n} rows for training; need at least ${3 * seasonalPeriod(series.frequency)}`,
    );
  }
  return { trainRows: n - h, holdoutRows: h, holdoutFrom: series.dates[n - h] ?? '' };
}

export type TrainOptions = Pick<
  TrainingPipelineInput,
  'family' | 'params' | 'families' | 'budget' | 'folds' | 'seed' | 'coverage'
>;

/**
 * Fits a forecaster on the training rows (the holdout is never seen). With `family` and `params`
 * it fits exactly that; otherwise it selects a family and its hyperparameters by expanding-window
 * CV (`runExperiment`) and writes the selection report to `<outDir>/experiment.json`.
 * Writes `<outDir>/forecaster.json`.
 */
export function trainStep(
  seriesFile: string,
  split: SplitResult,
  options: TrainOptions,
  outDir: string,
  onProgress?: (p: ExperimentProgress) => void,
): TrainResult {
  const train = sliceSeries(readSeries(seriesFile), 0, split.trainRows);
  const seed = options.seed ?? defaultTraining.seed;
  const coverage = options.coverage ?? defaultTraining.coverage;
  fs.mkdirSync(outDir, { recursive: true });
  let forecaster: Forecaster;
  let experimentFile: string | null = null;
  let cv: Metrics | null = null;
  if (options.family && options.params) {
    forecaster = fitForecaster(train, {
      family: options.family,
      params: options.params,
      seed,
      coverage,
    });
  } else {
    const { report, forecaster: chosen } = runExperiment(
      train,
      {
        families: options.family ? [options.family] : (options.families ?? availableFamilies()),
        holdout: 0, // the pipeline's own holdout stays untouched for evaluate and promotion
        seed,
        coverage,
        ...(options.budget !== undefined ? { budget: options.budget } : {}),
        ...(options.folds !== undefined ? { folds: options.folds } : {}),
      },
      onProgress,
    );
    forecaster = chosen;
    cv = report.chosen.cv;
    experimentFile = path.join(outDir, 'experiment.json');
    fs.writeFileSync(experimentFile, `${JSON.stringify(report)}\n`);
  }
  const modelFile = path.join(outDir, 'forecaster.json');
  fs.writeFileSync(modelFile, serializeForecaster(forecaster));
  return {
    modelFile,
    family: forecaster.config.family,
    params: forecaster.config.params,
    checksum: forecasterChecksum(forecaster),
    experimentFile,
    cv,
  };
}

/** Holdout predictions and metrics of a forecaster, one step ahead with the actual history. */
export function scoreOnHoldout(
  forecaster: Forecaster,
  series: Series,
  split: SplitResult,
): EvaluationReport {
  const predictions = backtest(forecaster, series, split.trainRows);
  const actual = Array.from(series.target.subarray(split.trainRows));
  const metrics = computeMetrics(
    actual,
    predictions.map((p) => p.prediction),
  );
  return {
    metrics,
    baselines: naiveBaselines(series, split.trainRows),
    coverage: {
      nominal: forecaster.interval.coverage,
      empirical: empiricalCoverage(
        actual,
        predictions.map((p) => p.lower),
        predictions.map((p) => p.upper),
      ),
    },
    holdout: predictions,
    actual,
  };
}

/**
 * Scores the trained model on the holdout next to the naive baselines, and the current production
 * model on the same holdout when there is one. Writes `<outDir>/evaluation.json`.
 */
export function evaluateStep(
  seriesFile: string,
  split: SplitResult,
  modelFile: string,
  outDir: string,
  champion: { version: string; forecaster: Forecaster } | null,
): EvaluateResult {
  const series = readSeries(seriesFile);
  const report = scoreOnHoldout(parseForecaster(fs.readFileSync(modelFile, 'utf8')), series, split);
  fs.mkdirSync(outDir, { recursive: true });
  const evaluationFile = path.join(outDir, 'evaluation.json');
  fs.writeFileSync(evaluationFile, `${JSON.stringify(report, null, 2)}\n`);
  let comparison: ChampionComparison | null = null;
  if (champion) {
    const theirs = scoreOnHoldout(champion.forecaster, series, split);
    const errors = (r: EvaluationReport) => r.holdout.map((p, i) => r.actual[i]! - p.prediction);
    comparison = {
      version: champion.version,
      metrics: theirs.metrics,
      significance: dieboldMariano(errors(report), errors(theirs)),
    };
  }
  return {
    evaluationFile,
    metrics: report.metrics,
    baselines: report.baselines,
    coverage: report.coverage,
    champion: comparison,
  };
}

/** When a new version may replace production. */
export interface PromotionPolicy {
  /** relative holdout-MAE gain required, e.g. 0.02 = 2% better */
  minImprovement: number;
  /** one-sided Diebold-Mariano p-value below which the gain counts as real */
  maxPValue: number;
}

export const defaultPromotionPolicy: PromotionPolicy = { minImprovement: 0.02, maxPValue: 0.05 };

/**
 * The promotion rule: the first version always goes to production; a later one only when its
 * holdout MAE beats the production model's on the same holdout by at least `minImprovement`
 * (relative). Returns the decision and a sentence saying why.
 */
export function promotionDecision(
  evaluation: Pick<EvaluateResult, 'metrics' | 'champion'>,
  policy: PromotionPolicy = defaultPromotionPolicy,
): { promote: boolean; reason: string } {
  const { champion, metrics } = evaluation;
  if (!champion) return { promote: true, reason: 'first version: no production model yet' };
  const gain = (champion.metrics.mae - metrics.mae) / champion.metrics.mae;
  const p = champion.significance.pValue;
  const summary =
    `holdout MAE ${metrics.mae.toFixed(2)} vs production v${champion.version} ${champion.metrics.mae.toFixed(2)} ` +
    `(${(gain * 100).toFixed(1)}% better, ${(policy.minImprovement * 100).toFixed(1)}% required; ` +
    `Diebold-Mariano p = ${p.toFixed(3)}, ${policy.maxPValue} required, n = ${champion.significance.n})`;
  if (gain <= policy.minImprovement)
    return { promote: false, reason: `not enough gain: ${summary}` };
  if (!(p < policy.maxPValue))
    return { promote: false, reason: `gain not significant: ${summary}` };
  return { promote: true, reason: `beats production: ${summary}` };
}
