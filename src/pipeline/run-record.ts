/**
 * The MLflow run of one pipeline execution, from its first step to its end: opened RUNNING with
 * provenance and the resolved input, each step's output recorded as digest tags
 * (`icecream.step.<step>.sha256|.md5|.size|.uri`), ended FINISHED, FAILED (with the error) or
 * KILLED (cancelled). Every call is idempotent: the run is found again by its Temporal run id.
 */
import type { MlflowClient } from '../mlflow/client';
import type { Run } from '../mlflow/types';
import type { ContentRef, RunRef, TrainingPipelineInput } from './types';

export const runTags = {
  workflowId: 'temporal.workflow_id',
  runId: 'temporal.run_id',
  reason: 'icecream.reason',
  error: 'icecream.error',
  status: 'icecream.status',
  /** on a run that re-creates another (`icecream reproduce --temporal`): that run's id */
  reproduces: 'icecream.reproduces',
} as const;

/** Artifact path of the run's resolved input and config. */
export const inputArtifact = 'pipeline/request.json';

export const stepTag = (step: string, field: 'sha256' | 'md5' | 'size' | 'uri') =>
  `icecream.step.${step}.${field}`;

export type RunEndStatus = 'FINISHED' | 'FAILED' | 'KILLED';

/** The pipeline's MLflow run for a Temporal run id, if it was opened. */
export async function findRun(
  mlflow: MlflowClient,
  experimentName: string,
  temporalRunId: string,
): Promise<Run | undefined> {
  const experiment = await mlflow.tryGetExperimentByName(experimentName);
  if (!experiment?.experiment_id) return undefined;
  const found = await mlflow.searchRuns({
    experimentIds: [experiment.experiment_id],
    filter: `tags."${runTags.runId}" = '${temporalRunId.replace(/'/g, '')}'`,
    maxResults: 1,
  });
  return found.runs?.[0];
}

/**
 * Opens (or finds again, on a retry) the run: RUNNING, tagged with the Temporal ids, the reason
 * and the provenance of the worker that starts it; the input as given and as resolved (defaults
 * filled in) as the artifact `pipeline/request.json` (register writes the fully resolved configuration, `pipeline/input.json`, that reproduce reads).
 */
export async function openRun(
  mlflow: MlflowClient,
  req: {
    workflowId: string;
    runId: string;
    input: TrainingPipelineInput;
    resolved: Record<string, unknown>;
    provenance: Record<string, string>;
  },
  experimentName: string,
): Promise<RunRef> {
  const { experimentId } = await mlflow.ensureExperiment(experimentName);
  const run =
    (await findRun(mlflow, experimentName, req.runId)) ??
    (await mlflow.createRun({
      experimentId,
      runName: req.workflowId.slice(0, 200),
      startTime: Date.now(),
      tags: {
        [runTags.workflowId]: req.workflowId,
        [runTags.runId]: req.runId,
        ...(req.input.reason ? { [runTags.reason]: req.input.reason.slice(0, 4000) } : {}),
        ...(req.input.force ? { 'icecream.force': 'true' } : {}),
        ...(req.input.reproduces ? { [runTags.reproduces]: req.input.reproduces } : {}),
        ...req.provenance,
      },
    }));
  const mlflowRunId = run.info?.run_id;
  const artifactUri = run.info?.artifact_uri;
  if (!mlflowRunId || !artifactUri)
    throw new Error('MLflow returned a run without run_id or artifact_uri');
  await mlflow.uploadArtifact(
    artifactUri,
    inputArtifact,
    `${JSON.stringify({ input: req.input, resolved: req.resolved }, null, 2)}\n`,
  );
  return { workflowId: req.workflowId, runId: req.runId, mlflowRunId, experimentId, artifactUri };
}

/** Records what a step produced as tags on the run. */
export async function recordStep(
  mlflow: MlflowClient,
  run: RunRef,
  step: string,
  output: Partial<ContentRef> & { md5?: string },
  extraTags: Record<string, string> = {},
): Promise<void> {
  const tags: Record<string, string> = { ...extraTags };
  if (output.sha256) tags[stepTag(step, 'sha256')] = output.sha256;
  if (output.md5) tags[stepTag(step, 'md5')] = output.md5;
  if (output.size !== undefined) tags[stepTag(step, 'size')] = String(output.size);
  if (output.uri) tags[stepTag(step, 'uri')] = output.uri;
  await mlflow.logBatch({ runId: run.mlflowRunId, tags });
}

/**
 * Ends the run with `status` (FAILED with the error as a tag and in the run's description).
 * A run already ended is left alone; no run (the first step never got that far) is not an error.
 * @returns the MLflow run id, or null when there was no run
 */
export async function closeRun(
  mlflow: MlflowClient,
  req: { runId: string; status: RunEndStatus; error?: string | undefined },
  experimentName: string,
): Promise<string | null> {
  const run = await findRun(mlflow, experimentName, req.runId);
  const id = run?.info?.run_id;
  if (!id) return null;
  if (run.info?.status && run.info.status !== 'RUNNING') return id;
  const tags: Record<string, string> = { [runTags.status]: req.status };
  if (req.error) {
    tags[runTags.error] = req.error.slice(0, 4000);
    tags['mlflow.note.content'] =
      `**${req.status === 'KILLED' ? 'Cancelled' : 'Failed'}**: ${req.error.slice(0, 4000)}`;
  }
  await mlflow.logBatch({ runId: id, tags });
  await mlflow.endRun(id, req.status);
  return id;
}
