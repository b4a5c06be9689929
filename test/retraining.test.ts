// Drift to retraining on real components: Temporal dev server + MLflow server, the real worker and
// the real prediction server. Requests from a warmer world make the drift monitor alarm check
// after check; the episode starts exactly one `trainingPipeline` run, which completes and leaves
// an MLflow run tagged with the drift as its reason.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { japanColumns, parseDataset } from '../src/data/dataset';
import { createLogger } from '../src/logger';
import type { MlflowClient } from '../src/mlflow/client';
import { mlflowClientFromConfig } from '../src/mlflow/from-config';
import { fromKeyValues } from '../src/mlflow/validation';
import { runTrainingPipeline } from '../src/pipeline/start';
import { temporalConnectionOptions } from '../src/pipeline/temporal';
import type { TrainingPipelineResult } from '../src/pipeline/types';
import type { Gate } from '../src/server/routes/types';
import { startServer, type RunningServer } from '../src/server/server';
import { servingWiring } from '../src/serving-admin';
import { simulate } from '../src/simulate/replay';
import { createPipelineWorker, installTemporalLogging } from '../src/worker/worker';
import { startTestStack, type TestStack } from './helpers/stack';

const openCheck: ReturnType<Gate['require']> = (_req, res, next) => {
  res.locals.principal = { id: 'shop', kind: 'key', scopes: [] };
  next();
};
const openGate: Gate = { require: () => openCheck, requireAny: () => openCheck };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('sustained drift retrains once', () => {
  let stack: TestStack;
  let stopWorker: (() => Promise<void>) | undefined;
  let server: RunningServer | undefined;
  let connection: Connection | undefined;
  let client: Client;
  let mlflow: MlflowClient;

  beforeAll(async () => {
    stack = await startTestStack(['temporal', 'mlflow'], {
      DRIFT_CHECK_SECONDS: '0.5',
      DRIFT_SUSTAINED_CHECKS: '2',
      DRIFT_MIN_ROWS: '12',
      // only drift alarms here
      LIVE_MAE_RETRAIN_RATIO: '0',
      // a small search keeps the retraining run quick (and different from the first run)
      RETRAIN_INPUT: '{"seed":8,"families":["ridge"],"budget":2,"folds":3}',
      MODEL_REFRESH_SECONDS: '3600',
      METRICS_PORT: '0',
    });
    mlflow = mlflowClientFromConfig(stack.config);
    installTemporalLogging('WARN');
    const w = await createPipelineWorker(stack.config, createLogger('warn'));
    const running = w.worker.run();
    stopWorker = async () => {
      w.worker.shutdown();
      await running;
      await w.connection.close();
    };
    connection = await Connection.connect(temporalConnectionOptions(stack.config));
    client = new Client({ connection, namespace: stack.config.temporal.namespace });
    // the model in production: a first run of the pipeline (promoted by hand when the tree is dirty)
    const first: { result: TrainingPipelineResult } = await runTrainingPipeline(
      stack.config,
      { seed: 7, families: ['ridge'], budget: 2, folds: 3 },
      () => undefined,
    );
    await mlflow.setAlias(
      stack.config.mlflow.registeredModel,
      'production',
      first.result.register.version,
    );
    server = await startServer(stack.config, createLogger('silent'), {
      gate: () => openGate,
      ...servingWiring(stack.config),
      metricsEndpoint: false,
    });
    expect(server.models.current?.version).toBe(first.result.register.version);
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await connection?.close();
    await stopWorker?.();
    await stack?.stop();
  });

  it('starts exactly one retraining workflow for the episode, which completes with the reason on its MLflow run', async () => {
    const file = stack.config.dataPath;
    const series = parseDataset(await readFile(file, 'utf8'), japanColumns, file);
    const summary = await simulate({
      url: server!.url,
      series,
      periods: 24,
      speed: Infinity,
      degrade: { at: series.dates[0]!, temperatureShift: 15, salesFactor: 1 },
    });
    expect(summary.degradedPeriods).toBe(24);

    // the monitor's own loop checks every 0.5 s: wait for the episode and several more alarms
    const drifted = new Set<string>();
    const deadline = Date.now() + 60_000;
    while (drifted.size < 6 && Date.now() < deadline) {
      const snap = server!.live.drift();
      if (snap.checkedAt && snap.features.find((f) => f.feature === 'temperature')?.drifted)
        drifted.add(snap.checkedAt);
      await sleep(100);
    }
    expect(drifted.size).toBeGreaterThanOrEqual(6);
    const episode = server!.live.driftMonitor.openEpisode;
    expect(episode).toMatch(/^drift-/);

    const handle = client.workflow.getHandle(`retrain-${episode}`);
    const result = (await handle.result()) as TrainingPipelineResult;
    expect(result.register.runId).toMatch(/^[0-9a-f]{32}$/);

    // Temporal: one retraining workflow in all, for this episode
    const ids: string[] = [];
    for await (const wf of client.workflow.list({ query: `WorkflowType = 'trainingPipeline'` }))
      ids.push(wf.workflowId);
    expect(ids.filter((id) => id.startsWith('retrain-'))).toEqual([`retrain-${episode}`]);

    // MLflow: the run that trained for the episode says why
    const run = await mlflow.getRun(result.register.runId);
    const tags = fromKeyValues(run.data?.tags ?? []);
    expect(tags['icecream.reason']).toMatch(
      /^drift of model v1 in 2 checks in a row: temperature: /,
    );
  }, 240_000);
});
