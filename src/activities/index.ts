import fs from 'node:fs';
import path from 'node:path';
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { DatasetValidationError, type ColumnMap } from '../data/dataset';
import { DataHashMismatchError, DvcFileError, verifyDataset } from '../data/dvc';
import { publishModelCard } from '../pipeline/model-card-record';
import { RegistryActionError } from '../pipeline/registry';
import { ForecastInputError, ForecasterFormatError, ModelUnavailableError } from '../ml';
import { CrossValidationError } from '../ml/cv';
import type { MlflowClient } from '../mlflow/client';
import { MlflowError } from '../mlflow/errors';
import { BundleIntegrityError } from '../model-store/bundle';
import { ModelStore, ModelStoreError } from '../model-store/store';
import { PipelineInputError, evaluateStep, splitStep, validateStep } from '../pipeline/steps';
import { trainOnThread } from '../pipeline/train-thread';
import type {
  EvaluateResult,
  IngestResult,
  PromoteResult,
  SplitResult,
  TrainResult,
  TrainingPipelineInput,
  ValidateResult,
} from '../pipeline/types';
import {
  loadProductionForecaster,
  promoteVersion,
  recordTrainingRun,
  type RunContext,
} from '../pipeline/record';

/** What the activities need from the process that hosts them. */
export interface ActivityDeps {
  /** Defaults for fields the workflow input leaves out. */
  defaults: { dataPath: string; dvcFile: string; columns: ColumnMap };
  /** Relative data paths in the input are resolved against this folder. */
  projectRoot: string;
  /** Per-workflow-run work folders go under this folder. */
  workRoot: string;
  mlflow: MlflowClient;
  experimentName: string;
  registeredModel: string;
  /** Facts recorded on every run (git commit, lockfile hashes, Node version...). */
  provenance: () => Promise<Record<string, string>>;
}

interface WorkRef {
  workflowId: string;
  runId: string;
}

// Errors that retrying cannot fix: bad data, bad request, corrupt model files.
const permanentErrors = [
  DatasetValidationError,
  DataHashMismatchError,
  DvcFileError,
  PipelineInputError,
  ForecastInputError,
  ForecasterFormatError,
  CrossValidationError,
  ModelUnavailableError,
  BundleIntegrityError,
  ModelStoreError,
  RegistryActionError,
] as const;

/**
 * The one place retryability is decided: permanent failures become non-retryable
 * ApplicationFailures named after the error class; everything else is rethrown for Temporal
 * to retry (MLflow unavailable, timeouts, disk hiccups).
 */
async function classify<T>(run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (err) {
    // by class, or by name for errors re-created from the training thread
    const permanent =
      permanentErrors.some(
        (E) => err instanceof E || (err instanceof Error && err.name === E.name),
      ) ||
      (err instanceof MlflowError && !err.retryable);
    if (permanent && err instanceof Error) {
      throw ApplicationFailure.create({
        message: err.message,
        type: err.name,
        nonRetryable: true,
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * The pipeline's activities: thin adapters that load via data/, compute via ml/ (through the
 * file steps in pipeline/steps.ts) and record via mlflow/.
 */
export function createActivities(deps: ActivityDeps) {
  const workDir = (ref: WorkRef): string =>
    path.join(deps.workRoot, ref.workflowId.replace(/[^\w.-]/g, '_'), ref.runId);
  const resolve = (p: string): string => path.resolve(deps.projectRoot, p);

  return {
    /** Verifies the dataset against the md5 its .dvc file pins; a mismatch names both hashes. */
    async ingestDataset(input: TrainingPipelineInput): Promise<IngestResult> {
      return classify(async () => {
        const ref = await verifyDataset(
          resolve(input.dataPath ?? deps.defaults.dataPath),
          resolve(input.dvcFile ?? deps.defaults.dvcFile),
        );
        return {
          dataPath: ref.path,
          dvcFile: ref.dvcFile,
          md5: ref.md5,
          size: fs.statSync(ref.path).size,
        };
      });
    },

    async validateDataset(
      req: WorkRef & { data: IngestResult; columns: ColumnMap | undefined },
    ): Promise<ValidateResult> {
      return classify(() =>
        validateStep(req.data.dataPath, req.columns ?? deps.defaults.columns, workDir(req)),
      );
    },

    async splitDataset(req: {
      seriesFile: string;
      holdout: number | undefined;
    }): Promise<SplitResult> {
      return classify(() => splitStep(req.seriesFile, req.holdout));
    },

    async trainModel(
      req: WorkRef & { seriesFile: string; split: SplitResult; input: TrainingPipelineInput },
    ): Promise<TrainResult> {
      // the search reports progress; heartbeats make it visible (`temporal workflow describe`)
      return classify(() =>
        trainOnThread(
          {
            seriesFile: req.seriesFile,
            split: req.split,
            options: req.input,
            outDir: workDir(req),
          },
          (p) => heartbeat(p),
        ),
      );
    },

    /** Holdout metrics, baselines, and the production model scored on the same holdout. */
    async evaluateModel(
      req: WorkRef & { seriesFile: string; split: SplitResult; modelFile: string },
    ): Promise<EvaluateResult> {
      return classify(async () => {
        const champion = await loadProductionForecaster(
          new ModelStore(deps.mlflow, deps.registeredModel, path.join(deps.workRoot, 'models')),
        );
        heartbeat('evaluating');
        return evaluateStep(req.seriesFile, req.split, req.modelFile, workDir(req), champion);
      });
    },

    /** Logs the run to MLflow and registers its model version (idempotent across retries). */
    async registerModel(req: Omit<RunContext, 'workDir' | 'provenance' | 'columns'>) {
      return classify(async () =>
        recordTrainingRun(
          deps.mlflow,
          {
            ...req,
            columns: req.input.columns ?? deps.defaults.columns,
            workDir: workDir(req),
            provenance: await deps.provenance(),
          },
          {
            experimentName: deps.experimentName,
            registeredModel: deps.registeredModel,
          },
        ),
      );
    },

    /** Moves the `production` alias to the new version when it beats the current one. */
    async promoteModel(
      req: WorkRef & Parameters<typeof promoteVersion>[1],
    ): Promise<PromoteResult> {
      return classify(async () => {
        const promoted = await promoteVersion(deps.mlflow, req, deps.registeredModel);
        // the card states the decision, so it is written once the decision is known
        await publishModelCard(deps.mlflow, deps.registeredModel, req.registered.version);
        return promoted;
      });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
