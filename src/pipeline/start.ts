import path from 'node:path';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
} from '@temporalio/client';
import {
  ApplicationFailure,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  defaultPayloadConverter,
} from '@temporalio/common';
import { projectRoot, type Config } from '../config';
import { japanColumns } from '../data/dataset';
import { readDvcFile } from '../data/dvc';
import { codeVersion } from './provenance';
import { pipelineWorkflowId, resolveInput } from './run-key';
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

/**
 * What failed: the workflow's own failure message (it names the step and the root problem), else
 * the innermost cause's.
 */
function rootCause(err: unknown): string {
  if (err instanceof Error && err.cause instanceof ApplicationFailure) return err.cause.message;
  let e: unknown = err;
  while (e instanceof Error && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/**
 * The workflow id of a training request: derived from the pinned data md5 (read from the .dvc
 * file), the resolved input and the code version, so the same request maps to the same id.
 */
export async function trainingWorkflowId(
  config: Config,
  input: TrainingPipelineInput,
): Promise<string> {
  const defaults = { dataPath: config.dataPath, dvcFile: config.dvcFile, columns: japanColumns };
  const { md5 } = readDvcFile(path.resolve(projectRoot, input.dvcFile ?? defaults.dvcFile));
  return pipelineWorkflowId(
    md5,
    resolveInput(input, defaults, projectRoot),
    await codeVersion(projectRoot),
  );
}

/**
 * Starts `trainingPipeline` on Temporal, or joins the run already started for the same request:
 * the id comes from {@link trainingWorkflowId}; a running one is joined (conflict policy
 * USE_EXISTING), a completed one is not started again (reuse policy ALLOW_DUPLICATE_FAILED_ONLY)
 * and its result is returned. `input.force` trains again anyway. Waits for the result, reporting
 * progress from the workflow's `progress` query about twice a second.
 * @throws PipelineFailedError with the innermost cause's message.
 */
export async function runTrainingPipeline<R = TrainingPipelineResult>(
  config: Config,
  input: TrainingPipelineInput,
  onProgress: (p: PipelineProgress, workflowId: string) => void = () => undefined,
  id?: string,
): Promise<{ workflowId: string; result: R; reused: boolean }> {
  const workflowId = id ?? (await trainingWorkflowId(config, input));
  const connection = await Connection.connect(temporalConnectionOptions(config));
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    let reused = false;
    const handle = await client.workflow
      .start('trainingPipeline', {
        taskQueue: config.temporal.taskQueue,
        workflowId,
        args: [input],
        workflowIdReusePolicy: input.force
          ? WorkflowIdReusePolicy.ALLOW_DUPLICATE
          : WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      })
      .catch((err: unknown) => {
        // a completed run of the same request: its result is the answer
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          reused = true;
          return client.workflow.getHandle(workflowId);
        }
        throw err;
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
          if (progress.current === 'train' && progress.trials) {
            const { done, total, best } = progress.trials;
            progress.currentDetail = `trials ${done}/${total}${best ? `, best so far ${best.family} CV MAE ${best.cvMae.toFixed(2)}` : ''}`;
          } else if (progress.current && beat?.total) {
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
      // R: TrainingPipelineResult, or ReproductionResult for an input with `reproduces`
      const result = (await handle.result()) as R;
      done = true;
      await poll;
      onProgress(await handle.query<PipelineProgress>('progress'), workflowId); // the final state: every step done
      return { workflowId, result, reused };
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
