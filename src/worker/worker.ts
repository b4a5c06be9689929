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
import type { Logger } from '../logger';
import { checkMlflowAtStart, mlflowClientFromConfig } from '../mlflow/from-config';
import { collectProvenance } from '../pipeline/provenance';
import { temporalConnectionOptions } from '../pipeline/temporal';
import { toolPaths } from '../stack/tools';

let runtimeInstalled = false;
/** The Temporal SDK logs at this level (once per process; later calls are ignored). */
export function installTemporalLogging(level: LogLevel): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger(level) });
}

/**
 * Connects to Temporal and creates the pipeline worker (workflows + activities on one task queue).
 * The caller runs it (`worker.run()` / `runUntil`) and closes the connection afterwards.
 */
export async function createPipelineWorker(
  config: Config,
  log: Logger,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  const mlflow = mlflowClientFromConfig(config);
  await checkMlflowAtStart(mlflow, log);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const activities = createActivities({
    defaults: { dataPath: config.dataPath, dvcFile: config.dvcFile, columns: japanColumns },
    projectRoot,
    workRoot: path.join(config.localDir, 'work'),
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
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: path.join(__dirname, '..', 'workflows'),
    activities,
    // send heartbeats (the training progress) at least every 2 s instead of up to a minute
    maxHeartbeatThrottleInterval: '2 seconds',
  });
  return { worker, connection };
}

/** Runs the pipeline worker until SIGINT/SIGTERM (the SDK shuts it down gracefully), then closes the connection. */
export async function runWorker(config: Config, log: Logger): Promise<void> {
  const { worker, connection } = await createPipelineWorker(config, log);
  log.info(
    { address: config.temporal.address, taskQueue: config.temporal.taskQueue },
    'worker started',
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
    log.info({}, 'worker stopped');
  }
}
