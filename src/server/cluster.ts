import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { startMetricsServer, startServer, type ServerOptions } from './server';

/** The primary's message to the one worker that decides when there is no database. */
export const leaderMessage = { type: 'icecream:leader' } as const;

function isLeaderMessage(m: unknown): boolean {
  return (m as { type?: unknown } | null)?.type === leaderMessage.type;
}

/**
 * Runs the API as configured: one process, or with API_WORKERS=N > 1 a primary that forks N
 * processes sharing API_PORT (node:cluster), restarts one that dies, and serves the metrics of
 * all of them, summed, on METRICS_PORT. The forked processes run the same command (`icecream
 * serve` or `node dist/server/main.js`), which lands here and starts one server. Exactly one
 * process decides (canary actions, retraining on alarms): with PostgreSQL the holder of an
 * advisory lock, else the worker the primary designates (another one when it dies).
 * @returns a stop function that drains (each worker drains its own requests in flight)
 */
export async function serveApi(
  config: Config,
  log: Logger,
  options: Pick<ServerOptions, 'gate' | 'admin' | 'retrain'>,
): Promise<{ url: string; stop: () => Promise<void> }> {
  if (config.api.workers === 1 || cluster.isWorker) {
    let designated = !cluster.isWorker;
    if (cluster.isWorker)
      process.on('message', (m) => {
        if (isLeaderMessage(m)) designated = true;
      });
    const running = await startServer(config, log, {
      ...options,
      leads: () => designated,
      metricsEndpoint: !cluster.isWorker,
      onRegistry: (registry: Registry) => {
        if (cluster.isWorker) AggregatorRegistry.setRegistries([registry]);
      },
    });
    return { url: running.url, stop: running.close };
  }

  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let leader: Worker | undefined;
  const listening = new WeakSet<Worker>();
  // one listening worker decides; when it dies, another one (listening: its handler is set)
  const designate = (): void => {
    if (stopping || (leader && !leader.isDead())) return;
    leader = Object.values(cluster.workers ?? {}).find(
      (w): w is Worker => !!w && !w.isDead() && w.isConnected() && listening.has(w),
    );
    if (leader) {
      leader.send(leaderMessage);
      log.info({ pid: leader.process.pid }, 'API process designated to decide');
    }
  };
  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.once('listening', () => {
      listening.add(worker);
      designate();
    });
    worker.once('exit', (code, signal) => {
      if (leader === worker) leader = undefined;
      designate();
      if (stopping) return;
      log.error({ pid: worker.process.pid, code, signal }, 'API process died; starting another');
      setTimeout(fork, 1000).unref();
    });
    return worker;
  };
  const workers = Array.from({ length: config.api.workers }, fork);
  await Promise.all(
    workers.map((w) => new Promise<void>((resolve) => w.once('listening', () => resolve()))),
  );
  const metricsServer =
    config.api.metricsPort !== 0
      ? await startMetricsServer(
          config.api.metricsHost,
          config.api.metricsPort,
          () => aggregator.clusterMetrics(),
          aggregator.contentType,
        )
      : undefined;
  const url = `http://${config.api.host}:${config.api.port}`;
  log.info({ url, workers: workers.length }, 'API processes listening');
  return {
    url,
    stop: async () => {
      stopping = true;
      metricsServer?.close();
      const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
      await Promise.all(
        alive.map(
          (w) =>
            new Promise<void>((resolve) => {
              w.once('exit', () => resolve());
              w.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
