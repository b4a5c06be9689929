/**
 * Wire types of the MLflow REST API (3.x), with MLflow's own snake_case field names
 * (mlflow/protos/service.proto, model_registry.proto, mlflow_artifacts.proto).
 *
 * The server leaves out empty repeated fields and unset fields, so every response field is
 * optional: a run without tags has no `tags` key, a search with no hits is `{}`.
 * int64 fields (timestamps, steps) arrive as JSON numbers; timestamps are epoch milliseconds.
 */

/** `{key, value}` pair used for run, experiment, registry and input tags, and params. */
export interface KeyValue {
  key: string;
  value: string;
}

export type RunTag = KeyValue;
export type Param = KeyValue;

/**
 * A metric value as the server sends it: a JSON number, or the strings `"NaN"`, `"Infinity"`,
 * `"-Infinity"` (protobuf JSON for non-finite doubles). Use {@link metricValueToNumber}.
 */
export type WireDouble = number | 'NaN' | 'Infinity' | '-Infinity';

export interface Metric {
  key?: string;
  value?: WireDouble;
  /** epoch ms */
  timestamp?: number;
  step?: number;
  dataset_name?: string;
  dataset_digest?: string;
  model_id?: string;
  run_id?: string;
}

export const LifecycleStage = { active: 'active', deleted: 'deleted' } as const;
export type LifecycleStage = (typeof LifecycleStage)[keyof typeof LifecycleStage];

export interface Experiment {
  experiment_id?: string;
  name?: string;
  artifact_location?: string;
  lifecycle_stage?: LifecycleStage;
  /** epoch ms */
  last_update_time?: number;
  /** epoch ms */
  creation_time?: number;
  tags?: KeyValue[];
  workspace?: string;
}

export const RunStatus = {
  RUNNING: 'RUNNING',
  SCHEDULED: 'SCHEDULED',
  FINISHED: 'FINISHED',
  FAILED: 'FAILED',
  KILLED: 'KILLED',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

export interface RunInfo {
  run_id?: string;
  /** deprecated duplicate of run_id */
  run_uuid?: string;
  run_name?: string;
  experiment_id?: string;
  user_id?: string;
  status?: RunStatus;
  /** epoch ms */
  start_time?: number;
  /** epoch ms */
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage?: LifecycleStage;
}

export interface RunData {
  metrics?: Metric[];
  params?: Param[];
  tags?: RunTag[];
}

export interface Dataset {
  name?: string;
  digest?: string;
  source_type?: string;
  source?: string;
  schema?: string;
  profile?: string;
}

export interface DatasetInput {
  tags?: KeyValue[];
  dataset?: Dataset;
}

export interface ModelInput {
  model_id?: string;
}

export interface RunInputs {
  dataset_inputs?: DatasetInput[];
  model_inputs?: ModelInput[];
}

export interface ModelOutput {
  model_id?: string;
  step?: number;
}

export interface RunOutputs {
  model_outputs?: ModelOutput[];
}

export interface Run {
  info?: RunInfo;
  data?: RunData;
  inputs?: RunInputs;
  outputs?: RunOutputs;
}

export const ViewType = {
  ACTIVE_ONLY: 'ACTIVE_ONLY',
  DELETED_ONLY: 'DELETED_ONLY',
  ALL: 'ALL',
} as const;
export type ViewType = (typeof ViewType)[keyof typeof ViewType];

export interface SearchRunsResponse {
  runs?: Run[];
  next_page_token?: string;
}

/** An artifact proxy listing entry. The server sends `path` as a basename. */
export interface FileInfo {
  path?: string;
  is_dir?: boolean;
  /** bytes; absent for directories */
  file_size?: number;
}

export interface RegisteredModelAlias {
  alias?: string;
  version?: string;
}

export interface RegisteredModel {
  name?: string;
  /** epoch ms */
  creation_timestamp?: number;
  /** epoch ms */
  last_updated_timestamp?: number;
  user_id?: string;
  description?: string;
  latest_versions?: ModelVersion[];
  tags?: KeyValue[];
  aliases?: RegisteredModelAlias[];
  deployment_job_id?: string;
}

export const ModelVersionStatus = {
  PENDING_REGISTRATION: 'PENDING_REGISTRATION',
  FAILED_REGISTRATION: 'FAILED_REGISTRATION',
  READY: 'READY',
} as const;
export type ModelVersionStatus = (typeof ModelVersionStatus)[keyof typeof ModelVersionStatus];

export interface ModelVersion {
  name?: string;
  /** a decimal string, "1", "2", ... */
  version?: string;
  /** epoch ms */
  creation_timestamp?: number;
  /** epoch ms */
  last_updated_timestamp?: number;
  user_id?: string;
  /** deprecated stages ("None", "Staging", ...); use aliases */
  current_stage?: string;
  description?: string;
  source?: string;
  run_id?: string;
  status?: ModelVersionStatus;
  status_message?: string;
  tags?: KeyValue[];
  run_link?: string;
  aliases?: string[];
  model_id?: string;
}

export interface SearchModelVersionsResponse {
  model_versions?: ModelVersion[];
  next_page_token?: string;
}
