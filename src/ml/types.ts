/** Sampling frequency of a series, inferred from its dates. */
export type Frequency = 'daily' | 'weekly' | 'monthly';

/**
 * A validated, gap-free time series: one row per period, sorted ascending, unique dates.
 * Every array has the same length as `dates`.
 */
export interface Series {
  /** ISO `YYYY-MM-DD`; monthly data uses the first of the month. */
  dates: string[];
  /** Sales (the target), >= 0. */
  target: Float64Array;
  /** Temperature in deg C. */
  temperature: Float64Array;
  /** Extra numeric columns known at prediction time (precipitation, humidity, holiday flag...). */
  covariates: Record<string, Float64Array>;
  frequency: Frequency;
}

/** One row to predict: what a user knows in advance (the date, the temperature forecast, known covariates). */
export interface FeatureRow {
  date: string;
  /** deg C */
  temperature: number;
  covariates?: Record<string, number>;
}

/** Model families the engine can fit. */
export const MODEL_FAMILIES = ['ridge', 'lasso', 'elasticnet', 'tree', 'forest', 'gbm'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

/** One-step-ahead prediction with its interval (same units as the target). */
export interface Prediction {
  date: string;
  prediction: number;
  lower: number;
  upper: number;
  /** the row's feature vector (in `Forecaster.featureNames` order), only when asked for */
  features?: Float64Array;
}

/**
 * Point-forecast accuracy. `mape` and `smape` are percentages; `mape` skips rows whose actual is 0.
 * `r2` is 0 when the actuals are constant.
 */
export interface Metrics {
  mae: number;
  rmse: number;
  mape: number;
  smape: number;
  r2: number;
  n: number;
}
