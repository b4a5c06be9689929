import { randomUUID } from 'node:crypto';
import { type Client, isGrpcServiceError } from '@temporalio/client';
import {
  defaultPayloadConverter,
  encodeWorkflowIdConflictPolicy,
  encodeWorkflowIdReusePolicy,
} from '@temporalio/common';
import type { Config } from '../config';
import type { RetrainRequest, RetrainResult, RetrainTrigger } from '../retraining';
import { withTemporalClient } from './client';
import { checkPipelineInput } from './pipeline-input';

/** A retraining request that can never succeed as given (retrying does not help). */
export class RetrainRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetrainRequestError';
  }
}

const EPISODE_KEY = /^[A-Za-z0-9._:-]{1,200}$/;
const MAX_REASON = 1000;
const GRPC_ALREADY_EXISTS = 6; // gRPC status code

/**
 * The workflow id of an alarm episode's training run: `retrain-<episodeKey>`.
 * @throws RetrainRequestError for an empty key, one over 200 characters or one with other
 *   characters than letters, digits and `._:-`.
 */
export function retrainWorkflowId(episodeKey: string): string {
  if (!EPISODE_KEY.test(episodeKey)) {
    throw new RetrainRequestError(
      `invalid episode key ${JSON.stringify(episodeKey)}: use 1 to 200 letters, digits or ._:- (e.g. drift-temperature-2026-12-02)`,
    );
  }
  return `retrain-${episodeKey}`;
}

/**
 * Starts `trainingPipeline` for an alarm episode, or joins the run already started for it.
 *
 * The workflow id is `retrain-<episodeKey>`. While that run is open, further calls join it
 * (conflict policy USE_EXISTING; Temporal decides atomically, so concurrent alarms start one run).
 * After it closed, a call joins it too when it completed, and starts a new run when it failed,
 * was cancelled, terminated or timed out (reuse policy ALLOW_DUPLICATE_FAILED_ONLY): a new alarm
 * episode needs a new key. The reason goes into the input's `reason`, which the pipeline records
 * on its MLflow run.
 *
 * Uses the service call directly (the SDK's `workflow.start` does not report whether the
 * server started a run or used the existing one); the input is encoded with the default
 * payload converter, as the project's clients and workers use.
 * @throws RetrainRequestError for a bad episode key, reason or input.
 */
export async function startOrJoinRetraining(
  client: Client,
  taskQueue: string,
  req: RetrainRequest,
): Promise<RetrainResult> {
  const workflowId = retrainWorkflowId(req.episodeKey);
  const reason = typeof req.reason === 'string' ? req.reason.trim() : '';
  if (!reason || reason.length > MAX_REASON) {
    throw new RetrainRequestError(
      `invalid retraining reason: give 1 to ${MAX_REASON} characters saying why (got ${reason.length})`,
    );
  }
  let input;
  try {
    input = { ...checkPipelineInput(req.input ?? {}, 'retraining input'), reason };
  } catch (err) {
    throw new RetrainRequestError(err instanceof Error ? err.message : String(err));
  }
  try {
    const res = await client.workflowService.startWorkflowExecution({
      namespace: client.options.namespace,
      identity: client.options.identity,
      requestId: randomUUID(),
      workflowId,
      workflowType: { name: 'trainingPipeline' },
      taskQueue: { name: taskQueue },
      input: { payloads: [defaultPayloadConverter.toPayload(input)] },
      workflowIdConflictPolicy: encodeWorkflowIdConflictPolicy('USE_EXISTING') ?? null,
      workflowIdReusePolicy: encodeWorkflowIdReusePolicy('ALLOW_DUPLICATE_FAILED_ONLY') ?? null,
    });
    return { workflowId, runId: res.runId, started: res.started };
  } catch (err) {
    // the episode's run completed: the reuse policy refuses a second one, so join it
    if (isGrpcServiceError(err) && Number(err.code) === GRPC_ALREADY_EXISTS) {
      const { runId } = await client.workflow.getHandle(workflowId).describe();
      return { workflowId, runId, started: false };
    }
    throw err;
  }
}

/**
 * A `RetrainTrigger` on the configured Temporal: one short connection per call, so the caller
 * (the prediction service) holds no Temporal state between alarms. Every run gets RETRAIN_INPUT's
 * fields (a request's own input wins).
 * @throws PipelineInputError at once when RETRAIN_INPUT is not a valid pipeline input.
 */
export function temporalRetrainTrigger(config: Config): RetrainTrigger {
  const defaults = checkPipelineInput(config.retrain.input, 'RETRAIN_INPUT');
  return (req) =>
    withTemporalClient(config, (client) =>
      startOrJoinRetraining(client, config.temporal.taskQueue, {
        ...req,
        input: { ...defaults, ...req.input },
      }),
    );
}
