import { analyzeErrors, type ErrorAnalysis, type ScoredRow } from './analysis';
import { naiveBaselines, naivePredictions } from './baselines';
import { crossValidate, expandingWindowSplits, pooledMetrics, sliceSeries, type Fold } from './cv';
import { resolveFeatureSpec, warmupPeriods, type FeatureSpec } from './features';
import {
  backtest,
  fitForecaster,
  horizonOf,
  type Forecaster,
  type ForecasterConfig,
  type IntervalInfo,
} from './forecaster';
import { empiricalCoverage } from './intervals';
import type { Regressor } from './matrix';
import { computeMetrics } from './metrics';
import { availableFamilies, modelFromJson } from './models';
import { DEFAULT_SPACES, candidates, type SearchSpace, type Trial } from './search';
import type { Frequency, Metrics, ModelFamily, Prediction, Series } from './types';

/** Options of `runExperiment`; every field has a default. */
export interface ExperimentOptions {
  /** Families to compare (default: every family wired in). */
  families?: ModelFamily[];
  /** CV folds (default 5). */
  folds?: number;
  /** Rows per CV test fold (default: scikit-learn TimeSeriesSplit's n / (folds + 1)). */
  horizon?: number;
  /** Rows between training end and test start in each fold (default 0). */
  gap?: number;
  /** Rows at the end kept untouched until the final check (default: 12 monthly, 13 weekly, 28 daily; 0 disables). */
  holdout?: number;
  /** Candidates per family (default 20). */
  budget?: number;
  strategy?: 'grid' | 'random' | 'auto';
  seed?: number;
  /** Interval coverage (default 0.9). */
  coverage?: number;
  /** Base feature overrides for every candidate. */
  features?: Partial<FeatureSpec>;
  /** Per-family search spaces replacing the defaults. */
  spaces?: Partial<Record<ModelFamily, SearchSpace>>;
  /** Refit the chosen configuration on every row (holdout included) for the returned forecaster (default true). */
  refitOnAll?: boolean;
}

/** Progress of a running experiment; `done` reaches `total` at the end. */
export interface ExperimentProgress {
  done: number;
  total: number;
  stage: string;
}

/** Result of one family in the comparison. */
export interface FamilyReport {
  family: ModelFamily;
  /** best candidate (null when every candidate failed) */
  best: {
    params: Record<string, number>;
    features: Partial<FeatureSpec>;
    cv: Metrics;
    folds: Metrics[];
  } | null;
  trials: Trial[];
  error?: string;
}

/** Naive baselines on the same rows as the models. */
export interface BaselineReport {
  lastValue: Metrics;
  seasonalNaive: Metrics;
  seasonalPeriod: number;
  /** per CV fold, same order as `protocol.folds` */
  folds?: { lastValue: Metrics; seasonalNaive: Metrics }[];
}

/** JSON-safe report of a whole comparison (numbers finite, no typed arrays). */
export interface ExperimentReport {
  dataset: { rows: number; from: string; to: string; frequency: Frequency; covariates: string[] };
  protocol: {
    folds: Fold[];
    holdout: { from: string; to: string; rows: number } | null;
    budget: number;
    seed: number;
    coverage: number;
    metric: 'mae';
  };
  baselines: { cv: BaselineReport; holdout: BaselineReport | null };
  families: FamilyReport[];
  chosen: {
    family: ModelFamily;
    params: Record<string, number>;
    features: Partial<FeatureSpec>;
    cv: Metrics;
  };
  holdout: {
    metrics: Metrics;
    coverage: { nominal: number; empirical: number };
    predictions: Prediction[];
  } | null;
  interval: IntervalInfo;
  /** on every out-of-sample prediction of the chosen configuration (CV folds, then holdout) */
  errorAnalysis: ErrorAnalysis;
  /** out-of-sample rows behind the error analysis and plots */
  outOfSample: ScoredRow[];
  featureImportance: { name: string; importance: number }[];
}

function defaultHoldout(frequency: Frequency): number {
  return frequency === 'monthly' ? 12 : frequency === 'weekly' ? 13 : 28;
}

/** Normalised feature importance: |standardised coefficient| for linear models, impurity decrease for trees. */
export function featureImportance(
  model: Regressor,
  names: string[],
): { name: string; importance: number }[] {
  const json = model.toJSON() as { standardizedCoef?: number[] };
  const withImp = model as Regressor & { featureImportances?: Float64Array };
  let raw: ArrayLike<number> | null = null;
  if (Array.isArray(json.standardizedCoef)) raw = json.standardizedCoef.map((v) => Math.abs(v));
  else if (withImp.featureImportances) raw = withImp.featureImportances;
  if (!raw) return [];
  let total = 0;
  for (let i = 0; i < raw.length; i++) total += raw[i]!;
  return names
    .map((name, i) => ({ name, importance: total > 0 ? raw[i]! / total : 0 }))
    .sort((a, b) => b.importance - a.importance || (a.name < b.name ? -1 : 1));
}

/** One hyperparameter candidate of a family. */
export interface Candidate {
  params: Record<string, number>;
  features: Partial<FeatureSpec>;
}

/**
 * Everything the search decides before fitting anything: the holdout, the CV folds and every
 * family's candidate list. Deterministic for the same series and options, and JSON-safe, so the
 * trials can be evaluated anywhere (other threads, other hosts) and put back together by
 * {@link finishExperiment} with the same result as {@link runExperiment}.
 */
export interface ExperimentPlan {
  rows: number;
  holdout: number;
  folds: Fold[];
  budget: number;
  seed: number;
  coverage: number;
  features: Partial<FeatureSpec> | null;
  refitOnAll: boolean;
  families: { family: ModelFamily; candidates: Candidate[] }[];
}

/** Plans the comparison (see {@link ExperimentPlan}). Throws CrossValidationError when the rows are too few. */
export function planExperiment(series: Series, options: ExperimentOptions = {}): ExperimentPlan {
  const n = series.dates.length;
  const seed = options.seed ?? 0;
  const budget = options.budget ?? 20;
  const holdout = Math.max(
    0,
    Math.min(options.holdout ?? defaultHoldout(series.frequency), Math.floor(n / 4)),
  );
  const dev = sliceSeries(series, 0, n - holdout);
  // every fold must train on at least the features' look-back plus a few rows
  const minTrain = warmupPeriods(resolveFeatureSpec(dev, options.features)) + 8;
  const folds = expandingWindowSplits(dev.dates.length, {
    folds: options.folds ?? 5,
    minTrain,
    ...(options.horizon !== undefined ? { horizon: options.horizon } : {}),
    ...(options.gap !== undefined ? { gap: options.gap } : {}),
  });
  return {
    rows: n,
    holdout,
    folds,
    budget,
    seed,
    coverage: options.coverage ?? 0.9,
    features: options.features ?? null,
    refitOnAll: options.refitOnAll !== false,
    families: (options.families ?? availableFamilies()).map((family) => ({
      family,
      candidates: candidates(
        options.spaces?.[family] ?? DEFAULT_SPACES[family],
        budget,
        options.strategy ?? 'auto',
        seed,
      ),
    })),
  };
}

function candidateConfig(
  plan: ExperimentPlan,
  family: ModelFamily,
  cand: Candidate,
): ForecasterConfig {
  return {
    family,
    params: cand.params,
    features: { ...plan.features, ...cand.features },
    seed: plan.seed,
    coverage: plan.coverage,
  };
}

function devSeries(series: Series, plan: ExperimentPlan): Series {
  if (series.dates.length !== plan.rows)
    throw new RangeError(
      `the plan is for ${plan.rows} rows, the series has ${series.dates.length}`,
    );
  return sliceSeries(series, 0, plan.rows - plan.holdout);
}

/**
 * Evaluates candidates [from, to) of one family of the plan by CV: one trial each, in order. A
 * candidate that fails to fit is kept with its error and no metrics.
 */
export function runTrials(
  series: Series,
  plan: ExperimentPlan,
  family: ModelFamily,
  from = 0,
  to = Infinity,
  onTrial?: (done: number) => void,
  errors?: unknown[],
): Trial[] {
  const dev = devSeries(series, plan);
  const list = plan.families.find((f) => f.family === family)?.candidates ?? [];
  const trials: Trial[] = [];
  list.slice(from, Math.min(to, list.length)).forEach((cand) => {
    try {
      const results = crossValidate(dev, candidateConfig(plan, family, cand), plan.folds);
      trials.push({
        params: cand.params,
        features: cand.features,
        cv: pooledMetrics(results, dev),
        folds: results.map((r) => r.metrics),
      });
    } catch (e) {
      errors?.push(e);
      trials.push({
        params: cand.params,
        features: cand.features,
        cv: null,
        folds: [],
        error: (e as Error).message,
      });
    }
    onTrial?.(trials.length);
  });
  return trials;
}

/**
 * The whole comparison: expanding-window CV over the rows before the holdout, a seeded search per
 * family, naive baselines on the same rows, the family with the lowest pooled CV MAE chosen, its
 * interval calibrated from its CV residuals (split conformal), then a single check on the untouched
 * holdout. Returns a JSON-safe report and the chosen fitted forecaster (refit on every row unless
 * `refitOnAll` is false). Throws CrossValidationError when the rows are too few for the folds, and
 * the first family's error when no family can be fitted.
 */
export function runExperiment(
  series: Series,
  options: ExperimentOptions = {},
  onProgress?: (p: ExperimentProgress) => void,
): { report: ExperimentReport; forecaster: Forecaster } {
  const plan = planExperiment(series, options);
  const total = plan.families.length * plan.budget + 2;
  let done = 0;
  onProgress?.({ done: 0, total, stage: 'starting' });
  const errors: unknown[] = [];
  const trials = plan.families.map(({ family }) => {
    let seen = 0;
    const out = runTrials(
      series,
      plan,
      family,
      0,
      Infinity,
      (d) => {
        done += d - seen;
        seen = d;
        onProgress?.({ done: Math.min(done, total), total, stage: `searching ${family}` });
      },
      errors,
    );
    done += plan.budget - seen;
    onProgress?.({ done: Math.min(done, total), total, stage: `searched ${family}` });
    return out;
  });
  // in-process, the first error keeps its class (the distributed path only has its message)
  if (errors.length && !trials.some((t) => t.some((x) => x.cv))) throw errors[0];
  return finishExperiment(series, plan, trials, (stage) => {
    done += 1;
    onProgress?.({ done: Math.min(done, total), total, stage });
  });
}

/**
 * Puts the trials of a plan back together (one list per family, in the plan's order, candidates
 * in order): the best candidate per family (lowest CV MAE, first on ties), the chosen family,
 * its interval from its CV residuals, the holdout check and the report. Same result whether the
 * trials ran here or elsewhere.
 */
export function finishExperiment(
  series: Series,
  plan: ExperimentPlan,
  trials: Trial[][],
  onStage?: (stage: string) => void,
): { report: ExperimentReport; forecaster: Forecaster } {
  const n = series.dates.length;
  const { seed, coverage, budget, holdout, folds } = plan;
  const dev = devSeries(series, plan);
  const familyReports: FamilyReport[] = [];
  let chosen: { family: ModelFamily; best: Trial } | null = null;
  let firstError: string | null = null;
  plan.families.forEach(({ family }, i) => {
    const list = trials[i] ?? [];
    let best: Trial | null = null;
    for (const t of list) if (t.cv && (!best || t.cv.mae < best.cv!.mae)) best = t;
    if (!best) {
      const error = list.find((t) => t.error)?.error ?? `no ${family} candidate could be fitted`;
      firstError ??= error;
      familyReports.push({ family, best: null, trials: [], error });
      return;
    }
    const b: Trial = best;
    familyReports.push({
      family,
      best: { params: b.params, features: b.features, cv: b.cv!, folds: b.folds },
      trials: list,
    });
    if (!chosen || b.cv!.mae < chosen.best.cv!.mae) chosen = { family, best: b };
  });
  if (!chosen) throw new Error(firstError ?? 'no model family could be fitted');
  const picked: { family: ModelFamily; best: Trial } = chosen;
  const config: ForecasterConfig = candidateConfig(plan, picked.family, picked.best);
  // the chosen candidate's out-of-sample predictions, again (deterministic: the same as its trial)
  const choice = {
    family: picked.family,
    best: picked.best,
    bestFolds: crossValidate(dev, config, folds, { horizons: horizonOf(series.frequency) }),
  };

  // baselines on exactly the CV test rows, pooled and per fold
  const cvRows = folds.flatMap((f) =>
    Array.from({ length: f.testEnd - f.testStart }, (_, i) => f.testStart + i),
  );
  const pooledBaseline = (rows: number[], s: Series): BaselineReport => {
    const naive = rows.map((t) => naivePredictions(s, t, t + 1));
    const actual = rows.map((t) => s.target[t]!);
    return {
      lastValue: computeMetrics(
        actual,
        naive.map((p) => p.lastValue[0]!),
      ),
      seasonalNaive: computeMetrics(
        actual,
        naive.map((p) => p.seasonalNaive[0]!),
      ),
      seasonalPeriod: naive[0]!.seasonalPeriod,
    };
  };
  const cvBaselines: BaselineReport = {
    ...pooledBaseline(cvRows, dev),
    folds: folds.map((f) => naiveBaselines(dev, f.testStart, f.testEnd)),
  };

  // the chosen configuration, its interval calibrated on its own CV residuals
  const residuals = Float64Array.from(choice.bestFolds.flatMap((r) => Array.from(r.residuals)));
  // per horizon, pooled over the folds' rolling origins
  const horizonResiduals = Array.from({ length: horizonOf(series.frequency) }, (_, h) =>
    Float64Array.from(choice.bestFolds.flatMap((r) => Array.from(r.horizonResiduals?.[h] ?? []))),
  );
  const devModel = fitForecaster(dev, config, { residuals, horizonResiduals });
  onStage?.('fitted chosen model');

  const outOfSample: ScoredRow[] = [];
  for (const r of choice.bestFolds) {
    r.predictions.forEach((p, i) => {
      const t = r.fold.testStart + i;
      outOfSample.push({
        date: p.date,
        actual: dev.target[t]!,
        prediction: p.prediction,
        temperature: dev.temperature[t]!,
        source: 'cv',
      });
    });
  }
  let holdoutReport: ExperimentReport['holdout'] = null;
  let holdoutBaselines: BaselineReport | null = null;
  if (holdout > 0) {
    const preds = backtest(devModel, series, n - holdout);
    const actual = series.target.subarray(n - holdout);
    holdoutReport = {
      metrics: computeMetrics(
        actual,
        preds.map((p) => p.prediction),
      ),
      coverage: {
        nominal: coverage,
        empirical: empiricalCoverage(
          actual,
          preds.map((p) => p.lower),
          preds.map((p) => p.upper),
        ),
      },
      predictions: preds,
    };
    holdoutBaselines = naiveBaselines(series, n - holdout);
    preds.forEach((p, i) =>
      outOfSample.push({
        date: p.date,
        actual: actual[i]!,
        prediction: p.prediction,
        temperature: series.temperature[n - holdout + i]!,
        source: 'holdout',
      }),
    );
  }
  const forecaster =
    !plan.refitOnAll || holdout === 0
      ? devModel
      : fitForecaster(series, config, { residuals, horizonResiduals });
  onStage?.('done');

  const report: ExperimentReport = {
    dataset: {
      rows: n,
      from: series.dates[0]!,
      to: series.dates[n - 1]!,
      frequency: series.frequency,
      covariates: Object.keys(series.covariates).sort(),
    },
    protocol: {
      folds,
      holdout:
        holdout > 0
          ? { from: series.dates[n - holdout]!, to: series.dates[n - 1]!, rows: holdout }
          : null,
      budget,
      seed,
      coverage,
      metric: 'mae',
    },
    baselines: { cv: cvBaselines, holdout: holdoutBaselines },
    families: familyReports,
    chosen: {
      family: choice.family,
      params: choice.best.params,
      features: choice.best.features,
      cv: choice.best.cv!,
    },
    holdout: holdoutReport,
    interval: forecaster.interval,
    errorAnalysis: analyzeErrors(outOfSample, series.frequency),
    outOfSample,
    featureImportance: featureImportance(modelFromJson(forecaster.model), forecaster.featureNames),
  };
  return { report, forecaster };
}
