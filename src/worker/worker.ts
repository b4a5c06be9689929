import os from 'node:os';
import path from 'node:path';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
} from '@temporalio/worker';
import { createActivities } from '../activities';
import { projectRoot, type Config } from '../config';
import { japanColumns } from '../data/dataset';
import { Dvc } from '../data/dvc';
import type { Logger } from '../logger';
import { checkMlflowAtStart, mlflowClientFromConfig } from '../mlflow/from-config';
import { collectProvenance } from '../pipeline/provenance';
import { temporalConnectionOptions } from '../pipeline/temporal';
import { toolPaths } from '../stack/tools';
import { trainingTaskQueue } from '../workflows/queues';

let runtimeInstalled = false;
/**
 * The Temporal SDK logs at this level and, given an address (`host:port`), serves its Prometheus
 * metrics there (`temporal_*`: task slots, polls, activity and workflow latencies). Once per
 * process; later calls are ignored.
 */
export function installTemporalLogging(level: LogLevel, metricsAddress?: string): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger(level),
    ...(metricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } }
      : {}),
  });
}

/** The queues a worker process serves: the pipeline's (workflows and I/O steps) and/or training. */
export const workerQueues = ['pipeline', 'training'] as const;
export type WorkerQueue = (typeof workerQueues)[number];

export interface PipelineWorkerOptions {
  /** default both */
  queues?: readonly WorkerQueue[];
  /** training activities run at once by this process (each on its own thread); default: CPUs */
  concurrency?: number;
}

/** One or two SDK workers on one connection, run and shut down together. */
export class PipelineWorker {
  constructor(
    readonly workers: readonly Worker[],
    readonly queues: readonly string[],
  ) {}

  run(): Promise<void> {
    return Promise.all(this.workers.map((w) => w.run())).then(() => undefined);
  }

  shutdown(): void {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
  }

  getState(): string {
    return this.workers[0]?.getState() ?? 'STOPPED';
  }
}

/**
 * Connects to Temporal and creates the pipeline's workers: on the pipeline queue the workflow
 * and its I/O activities; on the training queue the model search's activities, at most
 * `concurrency` at a time. The caller runs them (`worker.run()`) and closes the connection.
 */
export async function createPipelineWorker(
  config: Config,
  log: Logger,
  options: PipelineWorkerOptions = {},
): Promise<{ worker: PipelineWorker; connection: NativeConnection }> {
  const queues = options.queues ?? workerQueues;
  const concurrency = options.concurrency ?? os.availableParallelism();
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`--concurrency must be a positive integer, got ${concurrency}`);
  const mlflow = mlflowClientFromConfig(config);
  await checkMlflowAtStart(mlflow, log);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const activities = createActivities({
    defaults: { dataPath: config.dataPath, dvcFile: config.dvcFile, columns: japanColumns },
    projectRoot,
    cacheDir: path.join(config.localDir, 'cache'),
    cacheMaxBytes: config.pipeline.cacheMaxBytes,
    dvc: new Dvc(path.join(config.toolsDir, 'venv', 'bin', 'dvc'), projectRoot, config.childEnv),
    mlflow,
    experimentName: config.mlflow.experimentName,
    registeredModel: config.mlflow.registeredModel,
    provenance: () =>
      collectProvenance(projectRoot, 'icecream worker: trainingPipeline', {
        dvc: toolPaths(config.toolsDir).dvc,
        temporal: toolPaths(config.toolsDir).temporal,
        mlflowVersion: async () => (await mlflow.checkServer()).raw,
      }),
  });
  const common = {
    connection,
    namespace: config.temporal.namespace,
    activities,
    // send heartbeats (the training progress) at least every 2 s instead of up to a minute
    maxHeartbeatThrottleInterval: '2 seconds',
  } as const;
  const workers: Worker[] = [];
  const names: string[] = [];
  if (queues.includes('pipeline')) {
    names.push(config.temporal.taskQueue);
    workers.push(
      await Worker.create({
        ...common,
        taskQueue: config.temporal.taskQueue,
        workflowsPath: path.join(__dirname, '..', 'workflows'),
      }),
    );
  }
  if (queues.includes('training')) {
    const taskQueue = trainingTaskQueue(config.temporal.taskQueue);
    names.push(taskQueue);
    workers.push(
      await Worker.create({
        ...common,
        taskQueue,
        maxConcurrentActivityTaskExecutions: concurrency,
      }),
    );
  }
  return { worker: new PipelineWorker(workers, names), connection };
}

/** Runs the pipeline worker until SIGINT/SIGTERM (the SDK shuts it down gracefully), then closes the connection. */
export async function runWorker(
  config: Config,
  log: Logger,
  options: PipelineWorkerOptions = {},
): Promise<void> {
  const metrics = config.workerMetricsPort
    ? `${config.api.metricsHost}:${config.workerMetricsPort}`
    : undefined;
  installTemporalLogging('WARN', metrics);
  const { worker, connection } = await createPipelineWorker(config, log, options);
  log.info(
    { address: config.temporal.address, taskQueues: worker.queues, metrics },
    'worker started',
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
    log.info({}, 'worker stopped');
  }
}
