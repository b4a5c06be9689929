import {
  type ActivityOptions,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { trainingTaskQueue } from './queues';
import type {
  PipelineProgress,
  PipelineStep,
  RunRef,
  TrainingPipelineInput,
  ReproductionResult,
  TrainingPipelineResult,
  TrialsResult,
} from '../pipeline/types';

type Activities = ReturnType<typeof createActivities>;

/** The workflow type name, for clients, schedules and triggers. */
export const trainingPipelineName = 'trainingPipeline';

// I/O steps: short attempts, retried with backoff for about five minutes (an MLflow restart,
// a locked SQLite store); permanent errors are marked non-retryable by the activities.
const io = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 12,
  },
});
// Training and evaluation heartbeat every few seconds: a dead worker is noticed within 20 s and
// the attempt is retried on another one; a cancelled attempt stops its training thread.
const computeOptions: ActivityOptions = {
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 6,
  },
};
const compute = proxyActivities<Activities>(computeOptions);

/** Current step and completed steps, for progress bars (`temporal workflow query --type progress`). */
export const progressQuery = defineQuery<PipelineProgress>('progress');

/** The innermost message of a failure chain (ActivityFailure -> ApplicationFailure -> ...). */
function rootMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/**
 * ingest -> validate -> split -> train -> evaluate -> register -> promote.
 * Takes one JSON object (all fields optional) and passes only references between activities
 * (digests, URIs, run ids); the data never enters workflow history. The MLflow run opens at the
 * first step and ends FINISHED (register), FAILED (with the error) or KILLED (cancelled).
 * A reproduction (`input.reproduces`) stops after evaluate: it registers nothing.
 */
export async function trainingPipeline(
  input: TrainingPipelineInput = {},
): Promise<TrainingPipelineResult | ReproductionResult> {
  const steps: PipelineStep[] = input.reproduces
    ? ['ingest', 'validate', 'split', 'train', 'evaluate']
    : ['ingest', 'validate', 'split', 'train', 'evaluate', 'register', 'promote'];
  const progress: PipelineProgress = { steps, completed: [], current: null, detail: '' };
  setHandler(progressQuery, () => progress);
  const step = async <T>(
    name: PipelineStep,
    run: () => Promise<T>,
    describe: (r: T) => string,
  ): Promise<T> => {
    progress.current = name;
    const result = await run();
    progress.completed.push(name);
    progress.detail = describe(result);
    progress.current = null;
    return result;
  };

  const { workflowId, runId, taskQueue } = workflowInfo();
  // the model search's activities go to the training queue, served by any number of workers
  const training = proxyActivities<Activities>({
    ...computeOptions,
    taskQueue: trainingTaskQueue(taskQueue),
  });
  try {
    const { run, data } = await step(
      'ingest',
      async () => {
        const run: RunRef = await io.openRun({ workflowId, runId, input });
        return { run, data: await io.ingestDataset({ run, input }) };
      },
      (r) => `md5 ${r.data.md5}, MLflow run ${r.run.mlflowRunId}`,
    );
    const valid = await step(
      'validate',
      () => io.validateDataset({ run, data, columns: input.columns }),
      (r) => `${r.rows} ${r.frequency} rows, ${r.from}..${r.to}`,
    );
    const split = await step(
      'split',
      () => io.splitDataset({ run, series: valid.series, holdout: input.holdout }),
      (r) => `${r.trainRows} train / ${r.holdoutRows} holdout rows`,
    );
    const trained = await step(
      'train',
      async () => {
        const { plan, chunks, total } = await training.planTraining({
          run,
          series: valid.series,
          split,
          input,
        });
        const search = { done: 0, total, best: null as TrialsResult['best'] };
        progress.trials = search;
        // every chunk of trials is an activity on the training queue: any worker polling it
        // takes one, up to its own concurrency
        const parts = await Promise.all(
          chunks.map(async (chunk) => {
            const r = await training.runTrials({
              run,
              series: valid.series,
              split,
              plan: plan!,
              chunk,
            });
            search.done += r.count;
            if (r.best && (!search.best || r.best.cvMae < search.best.cvMae)) search.best = r.best;
            return { chunk, trials: r.trials };
          }),
        );
        return training.fitFinal({ run, series: valid.series, split, input, plan, trials: parts });
      },
      (r) => `${r.family} trained`,
    );
    const evaluation = await step(
      'evaluate',
      () => compute.evaluateModel({ run, series: valid.series, split, model: trained.model }),
      (r) =>
        `holdout MAE ${r.metrics.mae.toFixed(2)} (seasonal naive ${r.baselines.seasonalNaive.mae.toFixed(2)})`,
    );
    if (input.reproduces) {
      await io.closeRun({ runId, status: 'FINISHED' });
      return {
        reproduces: input.reproduces,
        mlflowRunId: run.mlflowRunId,
        dataMd5: data.md5,
        rows: valid.rows,
        metrics: evaluation.metrics,
        baselines: evaluation.baselines,
        coverage: evaluation.coverage,
        cv: trained.cv,
      };
    }
    const registered = await step(
      'register',
      () => io.registerModel({ run, input, data, valid, split, trained, evaluation }),
      (r) => `${r.modelName} v${r.version}`,
    );
    const promoted = await step(
      'promote',
      () =>
        io.promoteModel({
          run,
          workflowId,
          registered,
          evaluation,
          policy: {
            ...(input.minImprovement !== undefined ? { minImprovement: input.minImprovement } : {}),
            ...(input.maxPValue !== undefined ? { maxPValue: input.maxPValue } : {}),
          },
        }),
      (r) => r.reason,
    );
    return {
      dataMd5: data.md5,
      rows: valid.rows,
      metrics: evaluation.metrics,
      baselines: evaluation.baselines,
      register: registered,
      promote: promoted,
    };
  } catch (err) {
    const failedStep = progress.current ?? 'pipeline';
    const cancelled = isCancellation(err);
    const root = rootMessage(err);
    const message = cancelled
      ? `cancelled during ${failedStep}`
      : root.startsWith(`${failedStep}: `)
        ? root
        : `${failedStep}: ${root}`;
    // the run's end is recorded even when the workflow is being cancelled
    await CancellationScope.nonCancellable(() =>
      io.closeRun({ runId, status: cancelled ? 'KILLED' : 'FAILED', error: message }),
    ).catch(() => undefined);
    if (cancelled) throw err;
    throw ApplicationFailure.create({
      message,
      type: 'PipelineStepFailed',
      nonRetryable: true,
      ...(err instanceof Error ? { cause: err } : {}),
    });
  }
}
