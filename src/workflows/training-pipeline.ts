import {
  ApplicationFailure,
  defineQuery,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type {
  PipelineProgress,
  PipelineStep,
  TrainingPipelineInput,
  TrainingPipelineResult,
} from '../pipeline/types';

type Activities = ReturnType<typeof createActivities>;

// I/O steps: short attempts, retried with backoff for about five minutes (an MLflow restart,
// a locked SQLite store); permanent errors are marked non-retryable by the activities.
const io = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 9,
  },
});
// Training can take long; it heartbeats, so a dead worker is noticed within the heartbeat timeout.
const compute = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 6,
  },
});

/** Current step and completed steps, for progress bars (`temporal workflow query --type progress`). */
export const progressQuery = defineQuery<PipelineProgress>('progress');

/**
 * ingest -> validate -> split -> train -> evaluate -> register -> promote.
 * Takes one JSON object (all fields optional) and passes only references between activities
 * (paths, hashes, run ids); the data never enters workflow history.
 */
export async function trainingPipeline(
  input: TrainingPipelineInput = {},
): Promise<TrainingPipelineResult> {
  const steps: PipelineStep[] = [
    'ingest',
    'validate',
    'split',
    'train',
    'evaluate',
    'register',
    'promote',
  ];
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

  const { workflowId, runId } = workflowInfo();
  const work = { workflowId, runId };
  const data = await step(
    'ingest',
    () => io.ingestDataset(input),
    (r) => `md5 ${r.md5}`,
  );
  const valid = await step(
    'validate',
    () => io.validateDataset({ ...work, data, columns: input.columns }),
    (r) => `${r.rows} ${r.frequency} rows, ${r.from}..${r.to}`,
  );
  const split = await step(
    'split',
    () => io.splitDataset({ seriesFile: valid.seriesFile, holdout: input.holdout }),
    (r) => `${r.trainRows} train / ${r.holdoutRows} holdout rows`,
  );
  const trained = await step(
    'train',
    () => compute.trainModel({ ...work, seriesFile: valid.seriesFile, split, input }),
    (r) => `${r.family} trained`,
  );
  const evaluation = await step(
    'evaluate',
    () =>
      compute.evaluateModel({
        ...work,
        seriesFile: valid.seriesFile,
        split,
        modelFile: trained.modelFile,
      }),
    (r) =>
      `holdout MAE ${r.metrics.mae.toFixed(2)} (seasonal naive ${r.baselines.seasonalNaive.mae.toFixed(2)})`,
  );
  const registered = await step(
    'register',
    () => io.registerModel({ ...work, input, data, valid, split, trained, evaluation }),
    (r) => `${r.modelName} v${r.version}`,
  );
  const promoted = await step(
    'promote',
    () =>
      io.promoteModel({
        ...work,
        registered,
        evaluation,
        policy: {
          ...(input.minImprovement !== undefined ? { minImprovement: input.minImprovement } : {}),
          ...(input.maxPValue !== undefined ? { maxPValue: input.maxPValue } : {}),
        },
      }),
    (r) => r.reason,
  );
  if (!registered.version)
    throw ApplicationFailure.nonRetryable(
      'registration returned no model version',
      'RegistrationFailed',
    );
  return {
    dataMd5: data.md5,
    rows: valid.rows,
    metrics: evaluation.metrics,
    baselines: evaluation.baselines,
    register: registered,
    promote: promoted,
  };
}
