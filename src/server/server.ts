import http, { type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { MlflowError, MlflowUnavailableError } from '../mlflow/errors';
import { checkMlflowAtStart, mlflowClientFromConfig } from '../mlflow/from-config';
import { BundleIntegrityError } from '../model-store/bundle';
import { modelStoreFromConfig } from '../model-store/from-config';
import { ModelStoreError, type ModelStore } from '../model-store/store';
import type { AdminActions } from './admin';
import { createApp } from './app';
import { createHttpServer } from './http-server';
import type { RetrainTrigger } from './drift-monitor';
import { createPool } from '../db/pool';
import { AdvisoryLockLeadership, fixedLeadership, type Leadership } from './leader';
import { createLive, type Live } from './live';
import { migrateWhenReachable, PostgresLiveStore } from './pg-live-store';
import { createMetrics, type Metrics } from './metrics';
import { ModelHolder, toServingModel, type LoadFailure } from './model-holder';
import type { Gate } from './routes/types';

export const productionAlias = 'production';
export const stagingAlias = 'staging';

function classifyLoadError(err: unknown): LoadFailure {
  if (err instanceof MlflowUnavailableError) return 'registry_unreachable';
  if (err instanceof ModelStoreError || err instanceof BundleIntegrityError) return 'rejected';
  if (err instanceof MlflowError) return 'download';
  return 'other';
}

/** A holder of `alias` fed by the model store, reporting to the metrics. */
export function holderFor(
  store: ModelStore,
  alias: string,
  log: Logger,
  metrics: Metrics,
  maxHorizon: number | undefined,
): ModelHolder {
  return new ModelHolder(
    alias,
    {
      resolve: () => store.resolve({ alias }),
      fetch: async (ref) => toServingModel(await store.fetch(ref), maxHorizon),
    },
    log,
    {
      attempt: () => metrics.modelLoadAttempts.inc({ alias }),
      failure: (reason) => metrics.modelLoadFailures.inc({ alias, reason }),
      registry: (up) => metrics.registryUp.set(up ? 1 : 0),
      loaded: (m, previous) => {
        if (previous)
          metrics.modelInfo.remove({
            alias,
            name: previous.name,
            version: previous.version,
            digest: previous.digest,
          });
        metrics.modelInfo.set({ alias, name: m.name, version: m.version, digest: m.digest }, 1);
        if (m.holdoutMae !== null)
          metrics.holdoutMae.set({ model_version: m.version }, m.holdoutMae);
      },
    },
    classifyLoadError,
  );
}

/** A plain node:http server answering GET /metrics from `metrics()`, for a local Prometheus. */
export async function startMetricsServer(
  host: string,
  port: number,
  metrics: () => Promise<string>,
  contentType: string,
): Promise<Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
      return;
    }
    metrics().then(
      (text) => res.writeHead(200, { 'content-type': contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export interface RunningServer {
  server: Server;
  models: ModelHolder;
  live: Live;
  metrics: Metrics;
  /** Whether this process decides (canary actions, retraining on alarms). */
  leadership: Leadership;
  url: string;
  /** Drains: readiness 503, no new connections, requests in flight finish (until the deadline). */
  close: () => Promise<void>;
}

export interface ServerOptions {
  /** Authentication and authorisation; gets the metrics to count refusals. */
  gate: (metrics: Metrics) => Gate;
  /** Serve the open metrics port from this process (not in a cluster worker: the primary does). */
  metricsEndpoint?: boolean;
  /** Called with the registry so a cluster worker can report to the primary. */
  onRegistry?: (registry: Registry) => void;
  /** Release control through the registry governance (promote, roll back, audit). */
  admin?: AdminActions;
  /** Starts (or joins) retraining for a sustained drift or live-MAE episode. */
  retrain?: RetrainTrigger;
  /**
   * Without PostgreSQL, whether this process decides (a cluster worker: the one the primary
   * designated); default: it does. With PostgreSQL an advisory lock decides instead, across every
   * process sharing the database.
   */
  leads?: () => boolean;
}

/**
 * Starts one API process: loads the `production` model (retrying in the background until one
 * exists), listens on config.api, re-checks the alias every MODEL_REFRESH_SECONDS, and serves the
 * open metrics endpoint on METRICS_PORT.
 */
export async function startServer(
  config: Config,
  log: Logger,
  options: ServerOptions,
): Promise<RunningServer> {
  const mlflow = mlflowClientFromConfig(config);
  await checkMlflowAtStart(mlflow, log);
  const metrics = createMetrics();
  options.onRegistry?.(metrics.registry);
  const store = modelStoreFromConfig(config, mlflow);
  const models = holderFor(store, productionAlias, log, metrics, config.api.maxHorizon);
  const staging = holderFor(store, stagingAlias, log, metrics, config.api.maxHorizon);
  await Promise.all([models.refresh(), staging.refresh()]);
  models.start(config.api.modelRefreshSeconds);
  staging.start(config.api.modelRefreshSeconds);
  let stopped = false;
  const pgStore =
    config.live.store === 'postgres'
      ? new PostgresLiveStore(
          createPool(config.postgres.url, { applicationName: 'icecream-api' }, (err) =>
            log.warn({ err: err.message }, 'idle database connection lost'),
          ),
          log,
          (n) => metrics.predictionLogDropped.inc(n),
        )
      : undefined;
  if (pgStore) metrics.predictionLog.buffered = () => pgStore.buffered;
  let leadership: Leadership;
  let firstTry: Promise<void> = Promise.resolve();
  if (pgStore) {
    const lock = new AdvisoryLockLeadership(pgStore.pool, config.mlflow.registeredModel, log);
    firstTry = lock.tick();
    lock.start(5);
    leadership = lock;
  } else leadership = fixedLeadership(options.leads ?? (() => true));
  const live = createLive({
    production: models,
    staging,
    metrics,
    log,
    ...(pgStore ? { sink: pgStore, store: pgStore } : {}),
    actions: options.admin,
    traffic: { mode: config.canary.mode, canaryShare: config.canary.share },
    windows: config.live.windows,
    updateSeconds: config.live.updateSeconds,
    analysisSeconds: config.canary.analysisSeconds,
    analysisWindowMs: config.canary.windowSeconds * 1000,
    policy: {
      minRequests: config.canary.minRequests,
      minLabels: config.canary.minLabels,
      p99Ratio: config.canary.p99Ratio,
      p99MaxSeconds: config.canary.p99MaxSeconds,
    },
    drift: {
      checkSeconds: config.drift.checkSeconds,
      windowPeriods: config.drift.windowPeriods,
      sustainedChecks: config.drift.sustainedChecks,
      thresholds: { minCurrent: config.drift.minRows },
      retrain: options.retrain,
    },
    liveMaeAlarm: { ...config.live.retrain, retrain: options.retrain },
    decides: () => leadership.isLeader(),
  });
  live.traffic.report();
  live.start();
  const database = pgStore
    ? migrateWhenReachable(pgStore.pool, log, () => stopped)
        .then(async (ok) => {
          if (!ok) return;
          // the live sales history survives restarts and is shared by every process
          for (const row of await pgStore.liveSales()) live.history.setActual(row.date, row.sales);
        })
        .catch((err: unknown) =>
          log.error({ err }, 'database not usable; predictions are buffered'),
        )
    : Promise.resolve();
  // wait a little for the schema, the live history and the first try for leadership, not for a
  // database that is down; a referenced timer: nothing else keeps the process alive before it listens
  let waited: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all([database, firstTry]),
    new Promise((resolve) => (waited = setTimeout(resolve, 5000))),
  ]);
  clearTimeout(waited);
  let draining = false;
  const gate = options.gate(metrics);
  const app = createApp({
    models,
    live,
    log,
    metrics,
    gate,
    limits: { maxBatch: config.api.maxBatch, maxBodyBytes: config.api.maxBodyBytes },
    draining: () => draining,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = createHttpServer(app);
    s.once('error', reject);
    s.listen(config.api.port, config.api.host, () => resolve(s));
  });
  server.keepAliveTimeout = 65_000; // longer than common proxies' idle timeouts
  const metricsServer =
    options.metricsEndpoint !== false && config.api.metricsPort !== 0
      ? await startMetricsServer(
          config.api.metricsHost,
          config.api.metricsPort,
          () => metrics.registry.metrics(),
          metrics.registry.contentType,
        )
      : undefined;
  const url = `http://${config.api.host}:${config.api.port}`;
  log.info({ url, model: models.current?.version ?? null }, 'prediction server listening');
  return {
    server,
    models,
    live,
    metrics,
    leadership,
    url,
    close: async () => {
      draining = true;
      stopped = true;
      await live.stop();
      await Promise.all([models.stop(), staging.stop()]);
      metricsServer?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = setTimeout(() => server.closeAllConnections(), config.api.shutdownMs);
      await closed;
      clearTimeout(deadline);
      await gate.close?.();
      await leadership.stop();
      // after the last request: write what is buffered, then close the pool
      await pgStore?.close();
    },
  };
}
