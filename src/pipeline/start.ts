import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Config } from '../config';
import { temporalConnectionOptions } from './temporal';
import type { PipelineProgress, TrainingPipelineInput, TrainingPipelineResult } from './types';

/** The pipeline workflow failed; `cause` holds Temporal's failure chain. */
export class PipelineFailedError extends Error {
  constructor(
    readonly workflowId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`training pipeline ${workflowId} failed: ${message}`, options);
    this.name = 'PipelineFailedError';
  }
}

function rootCause(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Starts `trainingPipeline` on Temporal and waits for its result, reporting progress from the
 * workflow's `progress` query about twice a second.
 * @throws PipelineFailedError with the innermost cause's message.
 */
export async function runTrainingPipeline(
  config: Config,
  input: TrainingPipelineInput,
  onProgress: (p: PipelineProgress, workflowId: string) => void = () => undefined,
  workflowId = `training-${new Date().toISOString().replace(/[:.]/g, '-')}`,
): Promise<{ workflowId: string; result: TrainingPipelineResult }> {
  const connection = await Connection.connect(temporalConnectionOptions(config));
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const handle = await client.workflow.start('trainingPipeline', {
      taskQueue: config.temporal.taskQueue,
      workflowId,
      args: [input],
    });
    let done = false;
    const poll = (async () => {
      while (!done) {
        try {
          const progress = await handle.query<PipelineProgress>('progress');
          // a long activity (the model search) reports its progress in heartbeats
          const pending = (await handle.describe()).raw.pendingActivities?.[0]?.heartbeatDetails
            ?.payloads;
          const beat = pending?.length
            ? defaultPayloadConverter.fromPayload<{
                done?: number;
                total?: number;
                stage?: string;
              }>(pending[0]!)
            : undefined;
          if (progress.current && beat?.total) {
            progress.currentDetail = `${beat.stage ?? ''} ${Math.round((100 * (beat.done ?? 0)) / beat.total)}%`;
          }
          onProgress(progress, workflowId);
        } catch {
          /* not started by a worker yet */
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    try {
      const result = (await handle.result()) as TrainingPipelineResult;
      done = true;
      await poll;
      onProgress(await handle.query<PipelineProgress>('progress'), workflowId); // the final state: every step done
      return { workflowId, result };
    } catch (err) {
      if (err instanceof WorkflowFailedError)
        throw new PipelineFailedError(workflowId, rootCause(err), { cause: err });
      throw err;
    } finally {
      done = true;
      await poll;
    }
  } finally {
    await connection.close();
  }
}
