/**
 * Public API of the forecasting engine (pure: arrays in, values out; no I/O).
 * See README.md in this folder for the pieces and how they fit.
 */
export type { Frequency, Series, FeatureRow, ModelFamily, Prediction, Metrics } from './types';
export { MODEL_FAMILIES } from './types';
export type { FeatureSpec } from './features';
export { defaultFeatureSpec, featureNames, warmupPeriods } from './features';
export type { Forecaster, ForecasterConfig, IntervalInfo, HistoryTail, FitOptions } from './forecaster';
export { fitForecaster, forecast, backtest, historyFromForecaster, ForecastInputError } from './forecaster';
export { computeMetrics } from './metrics';
export { naiveBaselines, naivePredictions, seasonalPeriod } from './baselines';
export { serializeForecaster, parseForecaster, forecasterChecksum, canonicalJson, ForecasterFormatError, FORECASTER_FORMAT, FORECASTER_FORMAT_VERSION } from './serialize';
export { inferFrequency } from './dates';
export { sliceSeries } from './cv';
export { fitModel, modelFromJson, availableFamilies, ModelUnavailableError } from './models';
export { conformalHalfWidth, empiricalCoverage } from './intervals';
export type { Matrix, Regressor, ModelJson } from './matrix';
export { dieboldMariano, studentTCdf, type DieboldMarianoResult } from './significance';
