/**
 * Task queues. The pipeline's workflow and its I/O steps run on the configured queue
 * (TEMPORAL_TASK_QUEUE, "pipeline"); the model search's trials and final fit on the queue next to
 * it ("training"), which any number of workers serve with their own concurrency. Plain code with
 * no imports: the workflow sandbox and the worker process both use it.
 */
export const trainingTaskQueue = (pipelineQueue: string): string => `${pipelineQueue}-training`;
