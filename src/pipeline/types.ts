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
  /**
   * The dataset by its DVC md5 instead of the one `dvcFile` pins now (fetched from the DVC
   * remote by md5 and verified): how `icecream reproduce --temporal` brings back recorded data.
   */
  dataMd5?: string;
  /**
   * `icecream reproduce --temporal`: the MLflow run id this run re-creates. The workflow then
   * stops after `evaluate` (nothing registered or promoted), ends its own run FINISHED tagged
   * `icecream.reproduces`, and returns a {@link ReproductionResult}.
   */
  reproduces?: string;
}

/**
 * A content-addressed reference to a step's output: its sha256, its size, and a URI every worker
 * can read it from (the MLflow run's artifacts, through the artifact proxy). Whoever reads it
 * verifies the bytes against the digest.
 */
export interface ContentRef {
  sha256: string;
  size: number;
  uri: string;
}

/** The MLflow run a pipeline run records into, opened by the first step. */
export interface RunRef {
  workflowId: string;
  /** Temporal's run id of this workflow execution */
  runId: string;
  mlflowRunId: string;
  experimentId: string;
  /** the run's artifact root (`mlflow-artifacts:/...`), reachable from every worker */
  artifactUri: string;
}

/**
 * What ingest found: the dataset by its DVC md5 (plus sha256 and size), and where it lives for
 * humans (paths relative to the project root). Any worker fetches the bytes by md5, from its
 * digest cache, its workspace or the DVC remote, and verifies them.
 */
export interface IngestResult {
  md5: string;
  sha256: string;
  size: number;
  /** the data file and its .dvc pin, relative to the project root when inside it */
  dataPath: string;
  dvcFile: string;
}

export interface ValidateResult {
  /** The validated series as JSON. */
  series: ContentRef;
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
  /** the serialized forecaster (`forecaster.json`) */
  model: ContentRef;
  family: ModelFamily;
  params: Record<string, number>;
  checksum: string;
  /** The model-selection report (per family, per fold, baselines, error analysis), when a search ran. */
  experiment: ContentRef | null;
  /** Pooled CV metrics of the chosen configuration, when a search ran. */
  cv: Metrics | null;
}

/** The model search cut into chunks of trials, for activities on the training task queue. */
export interface TrainingPlan {
  /** `pipeline/train/plan.json`: folds and every family's candidates; null: nothing to search */
  plan: ContentRef | null;
  chunks: { family: ModelFamily; from: number; to: number }[];
  /** trials in all */
  total: number;
}

/** One chunk of trials, evaluated. */
export interface TrialsResult {
  trials: ContentRef;
  count: number;
  best: { family: ModelFamily; params: Record<string, number>; cvMae: number } | null;
}

export interface BaselineMetrics {
  lastValue: Metrics;
  seasonalNaive: Metrics;
  seasonalPeriod: number;
}

/**
 * The production model against the new one, on the holdout rows after the end of the production
 * model's own training window only (rows it was trained on would flatter it).
 */
export interface ChampionComparison {
  version: string;
  /** the end of the production model's training window */
  trainedTo: string;
  /** holdout rows both models are scored on, and the first of them */
  rows: number;
  from: string | null;
  /** The production model's metrics on those rows (null when there are too few). */
  metrics: Metrics | null;
  /** The new model's metrics on the same rows. */
  challenger: Metrics | null;
  /** Diebold-Mariano test of the new model's errors against the champion's, same rows. */
  significance: DieboldMarianoResult | null;
  /** set when the rows are too few to compare: the decision says so instead of comparing */
  insufficient?: string;
}

export interface EvaluateResult {
  /** evaluation.json: holdout predictions, metrics, baselines, coverage */
  evaluation: ContentRef;
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

/** What `trainingPipeline` returns for `input.reproduces`: the re-run's run and results. */
export interface ReproductionResult {
  reproduces: string;
  /** the MLflow run the re-run recorded its step digests and provenance in */
  mlflowRunId: string;
  dataMd5: string;
  rows: number;
  metrics: Metrics;
  baselines: BaselineMetrics;
  coverage: { nominal: number; empirical: number };
  /** pooled CV metrics of the chosen configuration, when a search ran */
  cv: Metrics | null;
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
  /** the model search: trials done of all, and the best so far (lowest CV MAE) */
  trials?: TrialsResult['best'] extends infer B ? { done: number; total: number; best: B } : never;
}

/** Evaluation report written next to the model (an MLflow artifact). */
export interface EvaluationReport {
  metrics: Metrics;
  baselines: BaselineMetrics;
  coverage: { nominal: number; empirical: number };
  holdout: Prediction[];
  actual: number[];
}
