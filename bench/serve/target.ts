/**
 * One server of the serving benchmark, started by bench/serve/run.ts under `taskset`:
 *   node target.js http|express|api PORT [--no-log] [--same-server] [--workers N]
 * - http: bare node:http, answers a constant (the ceiling);
 * - express: a bare Express app with express.json(), answering a constant (the framework's cost);
 *   `--same-server`: the same app served as ours is (src/server/http-server.ts), so that the
 *   ratio to it is our own per-request work alone;
 * - api: our createApp with authentication (an API key), metrics, request logging and the
 *   prediction log to PostgreSQL (DATABASE_URL) on, the default pipeline's model (build/ from
 *   `dvc repro`), wired as the service wires it;
 * - api --no-log: the same with the request log silent and no prediction log.
 */
import cluster from 'node:cluster';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import express from 'express';
import { repoRoot as projectRoot } from './root';
import { createLogger } from '../../src/logger';
import { readSeries } from '../../src/data/series-file';
import { parseForecaster } from '../../src/ml/serving';
import { createApp } from '../../src/server/app';
import { createHttpServer } from '../../src/server/http-server';
import { migrate } from '../../src/db/migrations';
import { createPool } from '../../src/db/pool';
import { createLive } from '../../src/server/live';
import { createMetrics } from '../../src/server/metrics';
import { PostgresLiveStore } from '../../src/server/pg-live-store';
import { ModelHolder, toServingModel } from '../../src/server/model-holder';
import { benchGate } from './gate';

const [variant = 'api', portText = '0', ...flags] = process.argv.slice(2);
const port = Number(portText);
const workers = Number(flags[flags.indexOf('--workers') + 1] ?? 1) || 1;
const constant = JSON.stringify({ prediction: 1234.56, model_version: '1' });

function listen(server: http.Server): void {
  // as the service sets it (src/server/server.ts): no idle keep-alive socket closes under a
  // generator that is about to reuse it, for every server alike
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1', () => process.send?.('listening'));
}

async function main(): Promise<void> {
  // a stop runs the exit handlers (the request log's last lines are written)
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => process.exit(0));
  if (flags.includes('--workers') && workers > 1 && cluster.isPrimary) {
    for (let i = 0; i < workers; i++) cluster.fork();
    let up = 0;
    cluster.on('listening', () => ++up === workers && process.send?.('listening'));
    return;
  }
  if (variant === 'http') {
    listen(
      http.createServer((req, res) => {
        req.resume();
        req.on('end', () =>
          res.writeHead(200, { 'content-type': 'application/json' }).end(constant),
        );
      }),
    );
    return;
  }
  if (variant === 'express') {
    const app = express();
    app.use(express.json());
    app.post('/v1/predict', (_req, res) => {
      res.json(JSON.parse(constant));
    });
    listen(flags.includes('--same-server') ? createHttpServer(app) : http.createServer(app));
    return;
  }
  const forecaster = parseForecaster(
    fs.readFileSync(path.join(projectRoot, 'build/train/forecaster.json'), 'utf8'),
  );
  const history = readSeries(path.join(projectRoot, 'build/validate/series.json'));
  const ref = {
    name: 'ice-cream-sales',
    version: '1',
    source: '',
    digest: '0'.repeat(64),
    runId: undefined,
    aliases: ['production'],
  };
  const model = toServingModel({ ref, dir: '', digest: ref.digest, forecaster, history });
  // the service's request log, as src/server/main.ts makes it: buffered, to stderr, which
  // run.ts makes a pipe that it drains, as a container runtime does
  const log = createLogger(flags.includes('--no-log') ? 'silent' : 'info', 'api', {
    buffered: true,
  });
  const models = new ModelHolder(
    'production',
    { resolve: () => Promise.resolve(ref), fetch: () => Promise.resolve(model) },
    log,
  );
  await models.refresh();
  const metrics = createMetrics();
  const noLog = flags.includes('--no-log');
  const database = process.env.DATABASE_URL;
  const store =
    !noLog && database
      ? new PostgresLiveStore(createPool(database), log, (n) => metrics.predictionLogDropped.inc(n))
      : undefined;
  if (store) await migrate(store.pool);
  const live = createLive({
    production: models,
    metrics,
    log,
    ...(store ? { sink: store, store } : noLog ? { sink: { record: () => true } } : {}),
  });
  const app = createApp({
    models,
    live,
    log,
    metrics,
    gate: benchGate(metrics),
    limits: { maxBatch: 1000, maxBodyBytes: 256 * 1024 },
  });
  listen(createHttpServer(app));
}

void main();
