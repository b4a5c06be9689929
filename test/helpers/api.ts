import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../src/logger';
import { fitForecaster } from '../../src/ml';
import type { Series } from '../../src/ml';
import { syntheticSeries } from '../../src/ml/testing';
import { createApp } from '../../src/server/app';
import { createHttpServer } from '../../src/server/http-server';
import { RateLimiter, createAuth, type FileKeyStore } from '../../src/server/auth';
import { createJwtVerifier } from '../../src/server/auth/jwt';
import { createMetrics, type Metrics } from '../../src/server/metrics';
import { ModelHolder, toServingModel } from '../../src/server/model-holder';
import type { Gate } from '../../src/server/routes/types';
import type { TestIssuer } from './jwks';

/**
 * The prediction API as the server builds it (the real app, routes, error handler and metrics)
 * with a ridge model fitted on a synthetic monthly series, behind `gate`, on a free loopback port.
 */
export async function listenApi(
  gate: Gate | ((metrics: Metrics) => Gate),
  log: Logger,
  series: Series = syntheticSeries(60),
): Promise<{ url: string; metrics: Metrics; close: () => Promise<void> }> {
  const digest = 'd'.repeat(64);
  const model = toServingModel({
    ref: { name: 'ice-cream-sales', version: '1', source: 's', digest, runId: 'r1', aliases: [] },
    dir: '/nowhere',
    digest,
    forecaster: fitForecaster(series, {
      family: 'ridge',
      params: { alpha: 1 },
      seed: 1,
      coverage: 0.9,
    }),
    history: series,
  });
  const models = new ModelHolder(
    'production',
    {
      resolve: () =>
        Promise.resolve({
          name: model.name,
          version: model.version,
          source: 's',
          digest,
          runId: 'r1',
          aliases: [],
        }),
      fetch: () => Promise.resolve(model),
    },
    log,
  );
  await models.refresh();
  const metrics = createMetrics({ defaultMetrics: false });
  const theGate = typeof gate === 'function' ? gate(metrics) : gate;
  const app = createApp({
    models,
    log,
    metrics,
    gate: theGate,
    limits: { maxBatch: 100, maxBodyBytes: 64 * 1024 },
  });
  const server = await new Promise<Server>((resolve) => {
    const s = createHttpServer(app).listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    metrics,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await theGate.close?.();
    },
  };
}

/**
 * The service's gate for the load and fuzz tests: API keys from `keys`, JWTs from the test
 * issuer (RS256 and ES256), a rate limit no test reaches, failures counted in the metrics.
 */
export function keysAndJwtGate(keys: FileKeyStore, issuer: TestIssuer): (metrics: Metrics) => Gate {
  return (metrics) =>
    createAuth({
      keys,
      jwt: createJwtVerifier({
        jwksUrl: issuer.jwksUrl,
        issuer: issuer.issuer,
        audience: issuer.audience,
        algorithms: ['RS256', 'ES256'],
      }),
      rateLimiter: new RateLimiter(1_000_000, 1_000_000),
      onFailure: (reason) => metrics.authFailures.inc({ reason }),
    });
}
