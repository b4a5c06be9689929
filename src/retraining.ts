/**
 * The retraining trigger's contract, in a neutral module: the prediction service receives a
 * `RetrainTrigger` as a dependency (drift or live-quality alarms call it) without importing
 * Temporal or the pipeline; `src/pipeline/trigger.ts` implements it on Temporal.
 */
import type { TrainingPipelineInput } from './pipeline/types';

export interface RetrainRequest {
  /**
   * Names one alarm episode, e.g. `drift-temperature-2026-12-02`. Every call with the same key
   * joins the one training run of that episode; letters, digits and `._:-` only, at most 200.
   */
  episodeKey: string;
  /** Why (recorded in the workflow input and on the MLflow run), e.g. `drift: PSI 0.31 on temperature`. */
  reason: string;
  /** Overrides for the pipeline's input (default `{}`: the worker's defaults). */
  input?: TrainingPipelineInput;
}

export interface RetrainResult {
  /** `retrain-<episodeKey>` */
  workflowId: string;
  /** The run that trains for this episode (new or joined). */
  runId: string;
  /** true when this call started the run; false when it joined one started earlier. */
  started: boolean;
}

/**
 * Starts the training pipeline for an alarm episode, or joins the run already started for it.
 * Rejects with an error naming the problem for a bad episode key or input (retrying will not
 * help); rejects with a connection error when Temporal is unreachable (retrying may help).
 */
export type RetrainTrigger = (req: RetrainRequest) => Promise<RetrainResult>;
