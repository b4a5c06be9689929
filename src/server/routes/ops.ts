import type { Registry } from 'prom-client';
import { HttpError } from '../errors';
import type { ModelHolder } from '../model-holder';
import { health, modelInfo, readiness } from '../schemas';
import type { RouteSpec } from './types';

export interface OpsDeps {
  models: ModelHolder;
  registry: Registry;
  /** True once SIGTERM started draining: readiness answers 503 so proxies stop sending. */
  draining: () => boolean;
}

/** Health, readiness, metrics and the loaded model's description. */
export function opsRoutes(deps: OpsDeps): RouteSpec[] {
  const live = { status: 'ok', pid: process.pid };
  return [
    {
      method: 'get',
      path: '/healthz',
      summary: 'Liveness: the process answers',
      scope: null,
      responses: { 200: { description: 'Alive.', schema: health } },
      handler: (_req, res) => {
        res.json(live);
      },
    },
    {
      method: 'get',
      path: '/readyz',
      summary: 'Readiness: a model is loaded and the process is not draining',
      scope: null,
      responses: {
        200: { description: 'Ready.', schema: readiness },
        503: { description: 'Not ready (no model yet, or draining).', schema: readiness },
      },
      handler: (_req, res) => {
        const model = deps.models.current;
        if (deps.draining()) {
          res.status(503).json({ status: 'draining', reason: 'shutting down' });
        } else if (!model) {
          res.status(503).json({
            status: 'not ready',
            reason: deps.models.lastError ?? 'no production model loaded yet',
          });
        } else {
          res.json({
            status: 'ready',
            model: { name: model.name, version: model.version, loaded_at: model.loadedAt },
          });
        }
      },
    },
    {
      method: 'get',
      path: '/ping',
      summary: "MLflow scoring server's liveness check",
      scope: null,
      responses: { 200: { description: 'Alive (empty body).' } },
      handler: (_req, res) => {
        res.status(200).end();
      },
    },
    {
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics (also open on METRICS_PORT, bound to loopback)',
      scope: 'metrics',
      responses: {
        200: { description: 'Prometheus text exposition format.', contentType: 'text/plain' },
      },
      handler: async (_req, res) => {
        res.type(deps.registry.contentType).send(await deps.registry.metrics());
      },
    },
    {
      method: 'get',
      path: '/v1/model',
      summary: 'The loaded model: version, digest, aliases, features, history and horizon',
      scope: 'predict',
      responses: {
        200: { description: 'The model that answers /v1/predict.', schema: modelInfo },
        503: { description: 'No model loaded yet.' },
      },
      handler: (_req, res) => {
        const m = deps.models.current;
        if (!m) throw new HttpError(503, 'not_ready', 'no production model is loaded yet');
        const spec = m.forecaster.features;
        res.json({
          name: m.name,
          version: m.version,
          digest: m.digest,
          aliases: m.aliases,
          run_id: m.runId ?? null,
          loaded_at: m.loadedAt,
          family: m.forecaster.config.family,
          frequency: spec.frequency,
          features: m.forecaster.featureNames,
          feature_spec: spec,
          history: {
            first_date: m.history.dates[0] ?? '',
            last_date: m.lastDate,
            rows: m.history.dates.length,
          },
          horizon: { periods: m.maxHorizon, last_date: m.lastForecastDate },
          interval_coverage: m.forecaster.interval.coverage,
          interval: {
            coverage: m.forecaster.interval.coverage,
            method: m.forecaster.interval.method,
            half_width: m.forecaster.interval.halfWidth,
            half_width_by_horizon: m.forecaster.interval.byHorizon ?? null,
          },
        });
      },
    },
  ];
}
