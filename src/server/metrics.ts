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
  return {
    registry,
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
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
