/* eslint-disable @typescript-eslint/require-await -- fake activities are async like the real ones */
import fs from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../src/activities';
import type { ModelFamily } from '../src/ml';
import type { PipelineProgress, TrainingPipelineResult } from '../src/pipeline/types';
import { installTemporalLogging } from '../src/worker/worker';
import { trainingTaskQueue } from '../src/workflows/queues';
import { startTestStack, type TestStack } from './helpers/stack';

// The workflow's own logic (order, retries, timeouts, cancellation, fan-out, the MLflow run's end)
// against a real Temporal dev server, with fake activities: no MLflow, no training.
const workflowsPath = path.join(__dirname, '..', 'src', 'workflows');
export const historiesDir = path.join(__dirname, 'histories');

const ref = (name: string) => ({ sha256: name.padEnd(64, '0'), size: 1, uri: `mem:/${name}` });
const metrics = { mae: 10, rmse: 12, mape: 0.1, smape: 0.1, r2: 0.5, n: 24 };

interface Calls {
  names: string[];
  closed: { status: string; error?: string }[];
  attempts: Record<string, number>;
  trialsCancelled: number;
}

/** Fake activities; `overrides` replace single ones for a scenario. */
function fakeActivities(calls: Calls, overrides: Partial<Activities> = {}): Activities {
  const track =
    <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      calls.names.push(name);
      calls.attempts[name] = Context.current().info.attempt;
      return fn(...args);
    };
  const base = {
    openRun: async (req: { workflowId: string; runId: string }) => ({
      workflowId: req.workflowId,
      runId: req.runId,
      mlflowRunId: 'mlflow-run',
      experimentId: '1',
      artifactUri: 'mem:/run',
    }),
    ingestDataset: async () => ({
      md5: 'a'.repeat(32),
      sha256: 'b'.repeat(64),
      size: 10,
      dataPath: 'data.csv',
      dvcFile: 'data.dvc',
    }),
    validateDataset: async () => ({
      series: ref('series'),
      rows: 100,
      frequency: 'monthly',
      from: '2000-01-01',
      to: '2008-04-01',
      covariates: [],
    }),
    splitDataset: async () => ({ trainRows: 76, holdoutRows: 24, holdoutFrom: '2006-05-01' }),
    planTraining: async () => ({
      plan: ref('plan'),
      chunks: [
        { family: 'ridge' as const, from: 0, to: 2 },
        { family: 'ridge' as const, from: 2, to: 3 },
        { family: 'tree' as const, from: 0, to: 3 },
      ],
      total: 6,
    }),
    runTrials: async (req: { chunk: { family: 'ridge' | 'tree'; from: number; to: number } }) => ({
      trials: ref(`trials-${req.chunk.family}-${req.chunk.from}`),
      count: req.chunk.to - req.chunk.from,
      best: { family: req.chunk.family, params: { a: req.chunk.from }, cvMae: 20 - req.chunk.from },
    }),
    fitFinal: async () => ({
      model: ref('model'),
      experiment: ref('experiment'),
      family: 'ridge' as const,
      params: { alpha: 1 },
      checksum: 'c'.repeat(64),
      cv: metrics,
    }),
    evaluateModel: async () => ({
      evaluation: ref('evaluation'),
      metrics,
      baselines: { lastValue: metrics, seasonalNaive: metrics, seasonalPeriod: 12 },
      coverage: { nominal: 0.9, empirical: 0.9 },
      champion: null,
    }),
    registerModel: async () => ({
      runId: 'mlflow-run',
      experimentId: '1',
      modelName: 'm',
      version: '1',
      artifactUri: 'mem:/run',
    }),
    promoteModel: async () => ({
      promoted: true,
      reason: 'first version: no production model yet',
      productionVersion: '1',
      previousVersion: null,
    }),
    closeRun: async (req: { status: string; error?: string }) => {
      calls.closed.push(req);
      return 'mlflow-run';
    },
  };
  const all = { ...base, ...overrides } as Record<string, (...args: unknown[]) => Promise<unknown>>;
  return Object.fromEntries(
    Object.entries(all).map(([name, fn]) => [name, track(name, fn)]),
  ) as unknown as Activities;
}

describe('trainingPipeline workflow (fake activities, real Temporal dev server)', () => {
  let stack: TestStack;
  let env: TestWorkflowEnvironment;
  let queue = 0;
  let workflowBundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    installTemporalLogging('WARN');
    workflowBundle = await bundleWorkflowCode({ workflowsPath });
    stack = await startTestStack(['temporal']);
    env = await TestWorkflowEnvironment.createFromExistingServer({
      address: stack.config.temporal.address,
    });
  });

  afterAll(async () => {
    await env?.teardown();
    await stack?.stop();
  });

  /** Runs the workflow with workers on a fresh pair of queues; returns the handle's outcome. */
  async function run(
    overrides: Partial<Activities>,
    during: (handle: ReturnType<typeof env.client.workflow.getHandle>) => Promise<void> = () =>
      Promise.resolve(),
    saveAs?: string,
  ) {
    const taskQueue = `wf-test-${process.pid}-${++queue}`;
    const calls: Calls = { names: [], closed: [], attempts: {}, trialsCancelled: 0 };
    const activities = fakeActivities(calls, overrides);
    const common = { connection: env.nativeConnection, activities } as const;
    const pipeline = await Worker.create({ ...common, taskQueue, workflowBundle });
    const training = await Worker.create({ ...common, taskQueue: trainingTaskQueue(taskQueue) });
    const workflowId = `wf-${taskQueue}`;
    const outcome = await training.runUntil(
      pipeline.runUntil(async () => {
        const handle = await env.client.workflow.start('trainingPipeline', {
          taskQueue,
          workflowId,
          args: [{ reason: 'workflow test' }],
        });
        await during(handle);
        const result = await handle.result().then(
          (r: TrainingPipelineResult) => ({ ok: true as const, result: r }),
          (error: unknown) => ({ ok: false as const, error }),
        );
        const progress = await handle.query<PipelineProgress>('progress');
        if (saveAs && process.env.ICECREAM_WRITE_HISTORIES) {
          fs.mkdirSync(historiesDir, { recursive: true });
          // binary protobuf: the SDK's JSON history reader trips over its two protobufjs copies
          fs.writeFileSync(
            path.join(historiesDir, `${saveAs}.binpb`),
            temporal.api.history.v1.History.encode(await handle.fetchHistory()).finish(),
          );
        }
        return { ...result, progress };
      }),
    );
    return { calls, outcome };
  }

  it('runs the steps in order, fans the trials out and reports the search in its progress', async () => {
    const { calls, outcome } = await run({}, undefined, 'training-pipeline-completed');
    expect(outcome.ok).toBe(true);
    expect(calls.names.filter((n) => n !== 'runTrials')).toEqual([
      'openRun',
      'ingestDataset',
      'validateDataset',
      'splitDataset',
      'planTraining',
      'fitFinal',
      'evaluateModel',
      'registerModel',
      'promoteModel',
    ]);
    expect(calls.names.filter((n) => n === 'runTrials')).toHaveLength(3);
    expect(outcome.progress.completed).toHaveLength(7);
    expect(outcome.progress.trials).toEqual({
      done: 6,
      total: 6,
      best: { family: 'ridge', params: { a: 2 }, cvMae: 18 },
    });
    expect(calls.closed).toEqual([]); // register ends the run FINISHED itself
  });

  it('retries a transient activity failure and completes', async () => {
    let attempts = 0;
    const { calls, outcome } = await run({
      validateDataset: async () => {
        if (++attempts < 3)
          throw Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' });
        return {
          series: ref('series'),
          rows: 100,
          frequency: 'monthly',
          from: '2000-01-01',
          to: '2008-04-01',
          covariates: [],
        };
      },
    });
    expect(outcome.ok).toBe(true);
    expect(calls.attempts.validateDataset).toBe(3);
  });

  it('fails at once on a non-retryable failure, ends the MLflow run FAILED and registers nothing', async () => {
    const { calls, outcome } = await run(
      {
        validateDataset: () =>
          Promise.reject(
            ApplicationFailure.create({
              message: 'validate: data.csv is invalid (2 problems): line 3: negative sales',
              type: 'DatasetValidationError',
              nonRetryable: true,
            }),
          ),
      },
      undefined,
      'training-pipeline-failed',
    );
    expect(outcome.ok).toBe(false);
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause?.message).toMatch(
      /^validate: data\.csv is invalid .*negative sales/,
    );
    expect(calls.attempts.validateDataset).toBe(1);
    expect(calls.names).not.toContain('registerModel');
    expect(calls.closed).toEqual([
      {
        runId: expect.any(String) as string,
        status: 'FAILED',
        error: 'validate: data.csv is invalid (2 problems): line 3: negative sales',
      },
    ]);
  });

  it('retries a trial whose worker stopped heartbeating, on the next attempt', async () => {
    const { calls, outcome } = await run({
      runTrials: async (req: { chunk: { family: ModelFamily; from: number; to: number } }) => {
        const ctx = Context.current();
        if (req.chunk.family === 'tree' && ctx.info.attempt === 1) {
          // a dead worker: no heartbeat until the heartbeat timeout (20 s) gives up on it
          await ctx.sleep(40_000).catch(() => undefined);
        }
        return {
          trials: ref('t'),
          count: req.chunk.to - req.chunk.from,
          best: null,
        };
      },
    });
    expect(outcome.ok).toBe(true);
    expect(calls.names.filter((n) => n === 'runTrials').length).toBe(4);
  }, 60_000);

  it('cancels cleanly: the running trials see the cancellation and the MLflow run ends KILLED', async () => {
    let cancelled = 0;
    let started = 0;
    const { calls, outcome } = await run(
      {
        runTrials: async () => {
          const ctx = Context.current();
          started++;
          const beat = setInterval(() => ctx.heartbeat('training'), 200);
          try {
            await ctx.cancelled;
          } catch (err) {
            cancelled++;
            throw err;
          } finally {
            clearInterval(beat);
          }
          throw new Error('not reached');
        },
      },
      async (handle) => {
        for (let i = 0; i < 100 && started < 3; i++) await new Promise((r) => setTimeout(r, 100));
        await handle.cancel();
      },
      'training-pipeline-cancelled',
    );
    expect(outcome.ok).toBe(false);
    expect(cancelled).toBe(3);
    expect(calls.closed).toMatchObject([{ status: 'KILLED', error: 'cancelled during train' }]);
  });
});
