import client from 'prom-client';

/** Sub-millisecond buckets: a prediction takes tens of microseconds. */
export const durationBuckets = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/**
 * The service's Prometheus metrics, on a registry of their own (one per app, so tests can build
 * several). Names follow Prometheus conventions (base units, `_total` counters); see the README's
 * metrics table. Label values are bounded: route templates, status codes, model versions.
 */
export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new client.Registry();
  if (options.defaultMetrics !== false) client.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  /** What `icecream_prediction_log_buffered` reads when scraped (the prediction log sets it). */
  const predictionLog = { buffered: (): number => 0 };
  return {
    registry,
    predictionLog,
    httpDuration: new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request to response, by route template, method, status and model version.',
      labelNames: ['route', 'method', 'status', 'model_version'] as const,
      buckets: durationBuckets,
      registers,
    }),
    predictions: new client.Counter({
      name: 'icecream_predictions_total',
      help: 'Rows predicted, by model version and traffic arm.',
      labelNames: ['model_version', 'variant'] as const,
      registers,
    }),
    errors: new client.Counter({
      name: 'icecream_http_errors_total',
      help: 'Error responses, by error code.',
      labelNames: ['code'] as const,
      registers,
    }),
    authFailures: new client.Counter({
      name: 'icecream_auth_failures_total',
      help: 'Requests refused by authentication, authorisation or the rate limit, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    modelLoadAttempts: new client.Counter({
      name: 'icecream_model_load_attempts_total',
      help: 'Checks of a registry alias (each may load a new model).',
      labelNames: ['alias'] as const,
      registers,
    }),
    modelLoadFailures: new client.Counter({
      name: 'icecream_model_load_failures_total',
      help: 'Failed model loads (the current model kept serving), by alias and reason.',
      labelNames: ['alias', 'reason'] as const,
      registers,
    }),
    modelInfo: new client.Gauge({
      name: 'icecream_model_info',
      help: 'The model each alias serves (value 1).',
      labelNames: ['alias', 'name', 'version', 'digest'] as const,
      registers,
    }),
    registryUp: new client.Gauge({
      name: 'icecream_registry_up',
      help: 'Whether the last registry check reached MLflow (1) or not (0).',
      registers,
    }),
    liveMae: new client.Gauge({
      name: 'icecream_live_mae',
      help: 'Mean absolute error of the predictions that received an actual, by model version and window.',
      labelNames: ['model_version', 'window'] as const,
      registers,
    }),
    liveRmse: new client.Gauge({
      name: 'icecream_live_rmse',
      help: 'Root mean squared error of the predictions that received an actual, by model version and window.',
      labelNames: ['model_version', 'window'] as const,
      registers,
    }),
    liveCoverage: new client.Gauge({
      name: 'icecream_live_interval_coverage',
      help: 'Share of actuals inside the prediction interval, by model version and window.',
      labelNames: ['model_version', 'window'] as const,
      registers,
    }),
    holdoutMae: new client.Gauge({
      name: 'icecream_holdout_mae',
      help: "MAE on the training run's untouched holdout (the version's holdout_mae tag).",
      labelNames: ['model_version'] as const,
      registers,
    }),
    driftScore: new client.Gauge({
      name: 'icecream_drift_score',
      help: 'Drift of recent inputs and predictions from the training reference, by feature and statistic.',
      labelNames: ['feature', 'statistic'] as const,
      registers,
    }),
    driftDetected: new client.Gauge({
      name: 'icecream_drift_detected',
      help: '1 when the last drift check found drift in the feature, else 0.',
      labelNames: ['feature'] as const,
      registers,
    }),
    predictionLogBuffered: new client.Gauge({
      name: 'icecream_prediction_log_buffered',
      help: 'Prediction records waiting to be written.',
      registers,
      collect() {
        this.set(predictionLog.buffered());
      },
    }),
    predictionLogDropped: new client.Counter({
      name: 'icecream_prediction_log_dropped_total',
      help: 'Prediction records lost (buffer full).',
      registers,
    }),
    feedback: new client.Counter({
      name: 'icecream_feedback_total',
      help: 'Actuals received, by result (created, duplicate, corrected, accepted).',
      labelNames: ['result'] as const,
      registers,
    }),
    canaryShare: new client.Gauge({
      name: 'icecream_canary_traffic_share',
      help: 'Share of clients each model version answers.',
      labelNames: ['version'] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
