/**
 * Public API of the forecasting engine (pure: arrays in, values out; no I/O).
 * See README.md in this folder for the pieces and how they fit.
 */
export type { Frequency, Series, FeatureRow, ModelFamily, Prediction, Metrics } from './types';
export { MODEL_FAMILIES } from './types';
export type { FeatureSpec } from './features';
export { defaultFeatureSpec, featureNames, warmupPeriods } from './features';
export type {
  Forecaster,
  ForecasterConfig,
  IntervalInfo,
  HistoryTail,
  FitOptions,
  ForecastOptions,
} from './forecaster';
export {
  fitForecaster,
  forecast,
  backtest,
  historyFromForecaster,
  ForecastInputError,
  horizonOf,
  horizonResiduals,
  halfWidthAt,
} from './forecaster';
export { computeMetrics } from './metrics';
export { naiveBaselines, naivePredictions, seasonalPeriod } from './baselines';
export {
  serializeForecaster,
  parseForecaster,
  forecasterChecksum,
  canonicalJson,
  ForecasterFormatError,
  FORECASTER_FORMAT,
  FORECASTER_FORMAT_VERSION,
} from './serialize';
export { inferFrequency } from './dates';
export {
  sliceSeries,
  expandingWindowSplits,
  crossValidate,
  pooledMetrics,
  CrossValidationError,
  type CvOptions,
  type Fold,
  type FoldResult,
} from './cv';
export {
  runExperiment,
  featureImportance,
  type ExperimentOptions,
  type ExperimentProgress,
  type ExperimentReport,
  type FamilyReport,
  type BaselineReport,
} from './experiment';
export {
  searchFamily,
  candidates,
  DEFAULT_SPACES,
  type SearchSpace,
  type SearchOptions,
  type SearchResult,
  type Trial,
  type ParamRange,
} from './search';
export { analyzeErrors, type ErrorAnalysis, type ScoredRow, type GroupError } from './analysis';
export {
  experimentPlots,
  predictedVsActualSvg,
  residualsVsTemperatureSvg,
  barChartSvg,
} from './plots';
export { fitModel, modelFromJson, availableFamilies, ModelUnavailableError } from './models';
export { conformalHalfWidth, empiricalCoverage, horizonHalfWidths } from './intervals';
export {
  trainingReference,
  parseTrainingReference,
  type TrainingReference,
  type FeatureSketch,
} from './reference';
export type { Matrix, Regressor, ModelJson } from './matrix';
export { dieboldMariano, studentTCdf, type DieboldMarianoResult } from './significance';
