/**
 * What a process that only predicts needs from the engine: parse a serialized forecaster and
 * forecast from a history. The prediction server and the model store import this module, never
 * the package index, so they do not load the search, the experiment runner or the plots.
 */
export type { Frequency, Series, FeatureRow, Prediction } from './types';
export type { FeatureSpec } from './features';
export { featureNames, isCalendarFeature, warmupPeriods } from './features';
export { addPeriods, formatDay, parseDay, periodsBetween } from './dates';
export type { Forecaster, IntervalInfo, ForecastOptions } from './forecaster';
export { forecast, ForecastInputError, horizonOf } from './forecaster';
export {
  parseForecaster,
  ForecasterFormatError,
  FORECASTER_FORMAT,
  FORECASTER_FORMAT_VERSION,
} from './serialize';
export type { FeatureSketch, TrainingReference } from './reference';
export { parseTrainingReference, ReferenceFormatError, trainingReference } from './reference';
