/**
 * Types shared by the pipeline's activities, its workflow and the CLI. Plain data only: the
 * workflow imports these as types, so nothing here may do I/O.
 */
import type { ColumnMap } from '../data/dataset';
import type { DieboldMarianoResult, Metrics, ModelFamily, Prediction } from '../ml';

/** The steps of `trainingPipeline`, in the order it runs them. */
export type PipelineStep =
  'ingest' | 'validate' | 'split' | 'train' | 'evaluate' | 'register' | 'promote';

/**
 * The one JSON object `trainingPipeline` takes (the Temporal UI's start form sends one value).
 * Every field is optional: `{}` trains on the default dataset with the worker's defaults.
 */
export interface TrainingPipelineInput {
  /** CSV file (absolute, or relative to the worker's project root) and the .dvc file pinning it. */
  dataPath?: string;
  dvcFile?: string;
  columns?: ColumnMap;
  /** Rows at the end of the series kept out of training for evaluation (default: 2 seasons). */
  holdout?: number;
  /** Fit this family only (with `params`: exactly this configuration, no search). */
  family?: ModelFamily;
  params?: Record<string, number>;
  /** Families compared by time-series CV when `family` is not given (default: all). */
  families?: ModelFamily[];
  /** Hyperparameter candidates per family (default 20). */
  budget?: number;
  /** Expanding-window CV folds (default 5). */
  folds?: number;
  seed?: number;
  /** Coverage of the prediction interval, e.g. 0.9. */
  coverage?: number;
  /** Relative holdout-MAE improvement over the production model needed to promote (default 0.02). */
  minImprovement?: number;
  /** Largest Diebold-Mariano p-value that counts as a real gain (default 0.05). */
  maxPValue?: number;
  /** Why this run was started (a schedule, a drift alarm, a person); recorded on the MLflow run. */
  reason?: string;
  /** Train even when a run with the same data, config and code already succeeded. */
  force?: boolean;
}

/** What ingest found: an immutable reference, never the data itself. */
export interface IngestResult {
  dataPath: string;
  dvcFile: string;
  md5: string;
  size: number;
}

export interface ValidateResult {
  /** The validated series as JSON, in the run's work folder. */
  seriesFile: string;
  rows: number;
  frequency: string;
  from: string;
  to: string;
  covariates: string[];
}

export interface SplitResult {
  /** Rows [0, trainRows) train; [trainRows, rows) is the holdout. */
  trainRows: number;
  holdoutRows: number;
  holdoutFrom: string;
}

export interface TrainResult {
  modelFile: string;
  family: ModelFamily;
  params: Record<string, number>;
  checksum: string;
  /** The model-selection report (per family, per fold, baselines, error analysis), when a search ran. */
  experimentFile: string | null;
  /** Pooled CV metrics of the chosen configuration, when a search ran. */
  cv: Metrics | null;
}

export interface BaselineMetrics {
  lastValue: Metrics;
  seasonalNaive: Metrics;
  seasonalPeriod: number;
}

export interface ChampionComparison {
  version: string;
  /** The production model's metrics on the same holdout. */
  metrics: Metrics;
  /** Diebold-Mariano test of the new model's absolute errors against the champion's, same rows. */
  significance: DieboldMarianoResult;
}

export interface EvaluateResult {
  evaluationFile: string;
  metrics: Metrics;
  baselines: BaselineMetrics;
  coverage: { nominal: number; empirical: number };
  champion: ChampionComparison | null;
}

export interface RegisterResult {
  runId: string;
  experimentId: string;
  modelName: string;
  version: string;
  artifactUri: string;
}

export interface PromoteResult {
  promoted: boolean;
  reason: string;
  productionVersion: string;
  previousVersion: string | null;
}

export interface TrainingPipelineResult {
  dataMd5: string;
  rows: number;
  metrics: Metrics;
  baselines: BaselineMetrics;
  register: RegisterResult;
  promote: PromoteResult;
}

/** Answer of the workflow's `progress` query. */
export interface PipelineProgress {
  steps: readonly PipelineStep[];
  completed: PipelineStep[];
  current: PipelineStep | null;
  /** what the last completed step reported */
  detail: string;
  /** progress of the running step, from its heartbeats (filled in by the client, not the workflow) */
  currentDetail?: string;
}

/** Evaluation report written next to the model (an MLflow artifact). */
export interface EvaluationReport {
  metrics: Metrics;
  baselines: BaselineMetrics;
  coverage: { nominal: number; empirical: number };
  holdout: Prediction[];
  actual: number[];
}
