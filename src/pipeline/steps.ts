/**
 * The pipeline's steps. Each has a form on values (series, forecaster text), which the Temporal
 * activities call on content-addressed inputs, and a thin form on files, which the offline
 * `icecream step ...` commands that `dvc repro` runs call. Both share the same code, so the two
 * paths cannot drift apart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadDataset, type ColumnMap } from '../data/dataset';
import {
  finishExperiment,
  planExperiment,
  runExperiment,
  runTrials,
  type ExperimentOptions,
  type ExperimentPlan,
  type ExperimentProgress,
  type ExperimentReport,
} from '../ml/experiment';
import type { Trial } from '../ml/search';
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
  type ModelFamily,
  type Series,
} from '../ml';
import { readSeries, writeSeries } from '../data/series-file';
import type {
  ChampionComparison,
  EvaluateResult,
  EvaluationReport,
  SplitResult,
  TrainingPipelineInput,
} from './types';

/** A request the pipeline cannot run as given (e.g. a holdout larger than the data). Not retryable. */
export class PipelineInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineInputError';
  }
}

export const defaultTraining = { seed: 42, coverage: 0.9 };

/** What validation reports about a series (without the rows). */
export function describeSeries(series: Series) {
  return {
    rows: series.dates.length,
    frequency: series.frequency,
    from: series.dates[0] ?? '',
    to: series.dates[series.dates.length - 1] ?? '',
    covariates: Object.keys(series.covariates),
  };
}

/** Loads and validates the CSV, writes the validated series to `<outDir>/series.json`. */
export async function validateStep(dataPath: string, columns: ColumnMap, outDir: string) {
  const series = await loadDataset(dataPath, columns);
  fs.mkdirSync(outDir, { recursive: true });
  const seriesFile = path.join(outDir, 'series.json');
  writeSeries(seriesFile, series);
  return { seriesFile, ...describeSeries(series) };
}

/** Keeps the last `holdout` rows (default two seasons) out of training. */
export function splitSeries(series: Series, holdout?: number): SplitResult {
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

/** {@link splitSeries} on a series file. */
export function splitStep(seriesFile: string, holdout?: number): SplitResult {
  return splitSeries(readSeries(seriesFile), holdout);
}

export type TrainOptions = Pick<
  TrainingPipelineInput,
  'family' | 'params' | 'families' | 'budget' | 'folds' | 'seed' | 'coverage'
>;

/** What training produced, as values: the serialized forecaster and the selection report. */
export interface TrainedModel {
  forecasterText: string;
  /** JSON of the model-selection report, when a search ran */
  experimentText: string | null;
  family: ModelFamily;
  params: Record<string, number>;
  checksum: string;
  cv: Metrics | null;
}

/**
 * Fits a forecaster on the training rows (the holdout is never seen). With `family` and `params`
 * it fits exactly that; otherwise it selects a family and its hyperparameters by expanding-window
 * CV (`runExperiment`). Deterministic for a seed: same series, split and options give the same
 * forecaster text, byte for byte.
 */
export function trainSeries(
  series: Series,
  split: SplitResult,
  options: TrainOptions,
  onProgress?: (p: ExperimentProgress) => void,
): TrainedModel {
  const train = sliceSeries(series, 0, split.trainRows);
  const seed = options.seed ?? defaultTraining.seed;
  const coverage = options.coverage ?? defaultTraining.coverage;
  let forecaster: Forecaster;
  let report: ExperimentReport | null = null;
  if (options.family && options.params) {
    forecaster = fitForecaster(train, {
      family: options.family,
      params: options.params,
      seed,
      coverage,
    });
  } else {
    const result = runExperiment(train, experimentOptions(options), onProgress);
    forecaster = result.forecaster;
    report = result.report;
  }
  return trainedModel(forecaster, report);
}

function trainedModel(forecaster: Forecaster, report: ExperimentReport | null): TrainedModel {
  return {
    forecasterText: serializeForecaster(forecaster),
    experimentText: report ? `${JSON.stringify(report)}\n` : null,
    family: forecaster.config.family,
    params: forecaster.config.params,
    checksum: forecasterChecksum(forecaster),
    cv: report ? report.chosen.cv : null,
  };
}

/** The model search the pipeline runs for these options (its own holdout stays untouched). */
export function experimentOptions(options: TrainOptions): ExperimentOptions {
  return {
    families: options.family ? [options.family] : (options.families ?? availableFamilies()),
    holdout: 0, // the pipeline's own holdout stays untouched for evaluate and promotion
    seed: options.seed ?? defaultTraining.seed,
    coverage: options.coverage ?? defaultTraining.coverage,
    ...(options.budget !== undefined ? { budget: options.budget } : {}),
    ...(options.folds !== undefined ? { folds: options.folds } : {}),
  };
}

/** A slice of one family's candidates, evaluated by one `runTrials` activity. */
export interface TrialChunk {
  family: ModelFamily;
  from: number;
  to: number;
}

/**
 * Rough relative cost of a trial per family on the shipped data (boosting rounds, and coordinate
 * descent at small penalties, dominate). It only orders the chunks, never changes a result.
 */
const trialCost: Record<ModelFamily, number> = {
  gbm: 6,
  lasso: 3,
  elasticnet: 2,
  forest: 1.5,
  tree: 0.2,
  ridge: 0.2,
};

/**
 * The search of {@link trainSeries}, planned so that its trials can run as separate activities:
 * null when the options fix the configuration (nothing to search). Each family's candidates are
 * cut into about four chunks, so that workers share the slow families too, and the chunks come
 * costliest first (longest-processing-time-first: the cheap ones fill the gaps at the end, so
 * the workers finish together).
 */
export function planTraining(
  series: Series,
  split: SplitResult,
  options: TrainOptions,
): { plan: ExperimentPlan; chunks: TrialChunk[]; total: number } | null {
  if (options.family && options.params) return null;
  const plan = planExperiment(sliceSeries(series, 0, split.trainRows), experimentOptions(options));
  const chunks: TrialChunk[] = [];
  for (const { family, candidates } of plan.families) {
    const size = Math.max(1, Math.ceil(candidates.length / 4));
    for (let from = 0; from < candidates.length; from += size)
      chunks.push({ family, from, to: Math.min(candidates.length, from + size) });
  }
  const cost = (c: TrialChunk) => (trialCost[c.family] ?? 1) * (c.to - c.from);
  chunks.sort((a, b) => cost(b) - cost(a)); // stable: plan order among equals
  return { plan, chunks, total: plan.families.reduce((n, f) => n + f.candidates.length, 0) };
}

/** One chunk of trials of a planned search. */
export function trainTrials(
  series: Series,
  split: SplitResult,
  plan: ExperimentPlan,
  chunk: TrialChunk,
  onTrial?: (done: number) => void,
): Trial[] {
  return runTrials(
    sliceSeries(series, 0, split.trainRows),
    plan,
    chunk.family,
    chunk.from,
    chunk.to,
    onTrial,
  );
}

/**
 * The chosen model of a planned search from its trials (one list per family, in plan order):
 * the same forecaster, byte for byte, as {@link trainSeries} with the same options.
 */
export function trainFinal(
  series: Series,
  split: SplitResult,
  options: TrainOptions,
  plan: ExperimentPlan | null,
  trials: Trial[][],
): TrainedModel {
  if (!plan) return trainSeries(series, split, options);
  const { report, forecaster } = finishExperiment(
    sliceSeries(series, 0, split.trainRows),
    plan,
    trials,
  );
  return trainedModel(forecaster, report);
}

/**
 * {@link trainSeries} on files: writes `<outDir>/forecaster.json` and, when a search ran,
 * `<outDir>/experiment.json`.
 */
export function trainStep(
  seriesFile: string,
  split: SplitResult,
  options: TrainOptions,
  outDir: string,
  onProgress?: (p: ExperimentProgress) => void,
) {
  const trained = trainSeries(readSeries(seriesFile), split, options, onProgress);
  fs.mkdirSync(outDir, { recursive: true });
  const modelFile = path.join(outDir, 'forecaster.json');
  fs.writeFileSync(modelFile, trained.forecasterText);
  let experimentFile: string | null = null;
  if (trained.experimentText) {
    experimentFile = path.join(outDir, 'experiment.json');
    fs.writeFileSync(experimentFile, trained.experimentText);
  }
  const { family, params, checksum, cv } = trained;
  return { modelFile, experimentFile, family, params, checksum, cv };
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

/** Fewest holdout rows on which a comparison with the production model means something. */
export const minComparisonRows = 6;

/**
 * The production model against the new one, fairly: only the holdout rows dated after the end of
 * the production model's own training window count (it may have been trained on later data than
 * this run's training rows, holdout rows included). Too few such rows: says so, compares nothing.
 */
export function compareWithChampion(
  ours: EvaluationReport,
  champion: { version: string; forecaster: Forecaster },
  series: Series,
  split: SplitResult,
): ChampionComparison {
  const trainedTo = champion.forecaster.training.to;
  let first = split.trainRows;
  while (first < series.dates.length && series.dates[first]! <= trainedTo) first++;
  const rows = series.dates.length - first;
  const base = { version: champion.version, trainedTo, rows, from: series.dates[first] ?? null };
  if (rows < minComparisonRows) {
    return {
      ...base,
      metrics: null,
      challenger: null,
      significance: null,
      insufficient: `only ${rows} of ${split.holdoutRows} holdout rows are after the end of production v${champion.version}'s training window (${trainedTo}); at least ${minComparisonRows} are needed to compare`,
    };
  }
  const theirs = scoreOnHoldout(champion.forecaster, series, { ...split, trainRows: first });
  const offset = first - split.trainRows;
  const actual = ours.actual.slice(offset);
  const mine = ours.holdout.slice(offset).map((p) => p.prediction);
  const errors = (predicted: number[]) => predicted.map((p, i) => actual[i]! - p);
  return {
    ...base,
    metrics: theirs.metrics,
    challenger: computeMetrics(actual, mine),
    significance: dieboldMariano(errors(mine), errors(theirs.holdout.map((p) => p.prediction))),
  };
}

/**
 * Scores the trained model on the holdout next to the naive baselines, and the current production
 * model on the holdout rows after its own training window when there is one.
 */
export function evaluateSeries(
  series: Series,
  split: SplitResult,
  forecasterText: string,
  champion: { version: string; forecaster: Forecaster } | null,
): { report: EvaluationReport; champion: ChampionComparison | null } {
  const report = scoreOnHoldout(parseForecaster(forecasterText), series, split);
  return {
    report,
    champion: champion ? compareWithChampion(report, champion, series, split) : null,
  };
}

/** {@link evaluateSeries} on files, without a champion. Writes `<outDir>/evaluation.json`. */
export function evaluateStep(
  seriesFile: string,
  split: SplitResult,
  modelFile: string,
  outDir: string,
) {
  const { report } = evaluateSeries(
    readSeries(seriesFile),
    split,
    fs.readFileSync(modelFile, 'utf8'),
    null,
  );
  fs.mkdirSync(outDir, { recursive: true });
  const evaluationFile = path.join(outDir, 'evaluation.json');
  fs.writeFileSync(evaluationFile, evaluationJson(report));
  return {
    evaluationFile,
    metrics: report.metrics,
    baselines: report.baselines,
    coverage: report.coverage,
  };
}

/** The evaluation report as written to `evaluation.json`. */
export function evaluationJson(report: EvaluationReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
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
  const { champion } = evaluation;
  if (!champion) return { promote: true, reason: 'first version: no production model yet' };
  if (champion.insufficient || !champion.metrics || !champion.challenger || !champion.significance)
    return {
      promote: false,
      reason: `no fair comparison with production v${champion.version}: ${champion.insufficient ?? 'no common rows'}`,
    };
  const theirs = champion.metrics.mae;
  const ours = champion.challenger.mae;
  const gain = (theirs - ours) / theirs;
  const p = champion.significance.pValue;
  const summary =
    `MAE ${ours.toFixed(2)} vs production v${champion.version} ${theirs.toFixed(2)} on the ${champion.rows} holdout rows after its training window ` +
    `(${(gain * 100).toFixed(1)}% better, ${(policy.minImprovement * 100).toFixed(1)}% required; ` +
    `Diebold-Mariano p = ${p.toFixed(3)}, ${policy.maxPValue} required, n = ${champion.significance.n})`;
  if (gain <= policy.minImprovement)
    return { promote: false, reason: `not enough gain: ${summary}` };
  if (!(p < policy.maxPValue))
    return { promote: false, reason: `gain not significant: ${summary}` };
  return { promote: true, reason: `beats production: ${summary}` };
}
