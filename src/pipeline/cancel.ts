import {
  type Client,
  WorkflowNotFoundError,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';

/** Cancelling a workflow failed for a reason the user can act on. */
export class CancelError extends Error {
  constructor(
    readonly workflowId: string,
    message: string,
  ) {
    super(message);
    this.name = 'CancelError';
  }
}

export interface CancelResult {
  workflowId: string;
  runId: string;
  /** Status after waiting: `CANCELLED` once the workflow stopped, `RUNNING` if it did not in time. */
  status: WorkflowExecutionStatusName;
}

/**
 * Requests cancellation of a workflow's latest run (the training pipeline then stops its
 * activities and marks its MLflow run KILLED) and waits up to `waitMs` for it to close.
 * @throws CancelError when no such workflow exists or it already closed.
 */
export async function cancelWorkflow(
  client: Client,
  workflowId: string,
  { waitMs = 60_000, pollMs = 250 }: { waitMs?: number; pollMs?: number } = {},
): Promise<CancelResult> {
  const handle = client.workflow.getHandle(workflowId);
  let runId: string | undefined;
  try {
    const before = await handle.describe();
    runId = before.runId;
    if (before.status.name !== 'RUNNING') {
      throw new CancelError(
        workflowId,
        `workflow ${workflowId} already ended (${before.status.name}); nothing to cancel`,
      );
    }
    await client.workflow.getHandle(workflowId, runId).cancel();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new CancelError(
        workflowId,
        runId
          ? `workflow ${workflowId} ended before it could be cancelled; nothing to cancel`
          : `no workflow ${workflowId} in namespace ${client.options.namespace}`,
      );
    }
    throw err;
  }
  const run = client.workflow.getHandle(workflowId, runId);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { status } = await run.describe();
    if (status.name !== 'RUNNING' || Date.now() >= deadline) {
      return { workflowId, runId, status: status.name };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
