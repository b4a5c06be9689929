import fs from 'node:fs';
import path from 'node:path';
import { artifactPath, artifactUrlPath, ARTIFACTS_ROUTE, joinArtifactPath } from './artifact-uri';
import { chunkBatch, type BatchInput } from './batch';
import {
  MlflowAlreadyExistsError,
  MlflowArtifactIntegrityError,
  MlflowError,
  MlflowInvalidParameterError,
  MlflowModelVersionFailedError,
  MlflowNotFoundError,
  MlflowUnavailableError,
  MlflowUnsupportedVersionError,
} from './errors';
import type {
  DatasetInput,
  Experiment,
  FileInfo,
  KeyValue,
  Metric,
  ModelVersion,
  RegisteredModel,
  Run,
  RunInfo,
  RunStatus,
  SearchModelVersionsResponse,
  SearchRunsResponse,
  ViewType,
} from './types';
import {
  MlflowLimits,
  checkAlias,
  checkKey,
  checkLength,
  checkRegistryTag,
  checkTag,
  fromKeyValues,
  quoteFilterValue,
  toKeyValues,
} from './validation';
import { MlflowTransport, toBuffer, type TransportOptions } from './transport';
import { parseServerVersion, unsupportedReason, type ServerVersion } from './version';

export interface MlflowClientOptions extends TransportOptions {
  /** clock for default timestamps (epoch ms); tests pass a fixed one */
  now?: (() => number) | undefined;
}

export interface EnsureExperimentResult {
  experimentId: string;
  experiment: Experiment;
  /** this call created the experiment */
  created: boolean;
  /** the experiment was deleted and this call restored it */
  restored: boolean;
}

export interface CreateRunInput {
  experimentId: string;
  runName?: string | undefined;
  /** epoch ms; default now (MLflow stores 0 if it is left out) */
  startTime?: number | undefined;
  tags?: Readonly<Record<string, string>> | undefined;
  /** makes this a nested run (sets the mlflow.parentRunId tag) */
  parentRunId?: string | undefined;
}

/** A run as returned by runs/create: its id, experiment and artifact URI are always present. */
export type CreatedRun = Run & {
  info: RunInfo & { run_id: string; experiment_id: string; artifact_uri: string };
};

export interface UpdateRunInput {
  runId: string;
  status?: RunStatus | undefined;
  /** epoch ms */
  endTime?: number | undefined;
  runName?: string | undefined;
}

export interface SearchRunsInput {
  experimentIds: readonly string[];
  /** MLflow search syntax, e.g. `tags.pipeline = 'x' and metrics.rmse < 3` */
  filter?: string | undefined;
  /** e.g. `['metrics.rmse ASC', 'attributes.start_time DESC']` */
  orderBy?: readonly string[] | undefined;
  /** per page; server default 1000, maximum 50000 */
  maxResults?: number | undefined;
  pageToken?: string | undefined;
  viewType?: ViewType | undefined;
}

export interface SearchRunsPage {
  runs: Run[];
  next_page_token?: string;
}

export interface LogBatchInput extends BatchInput {
  runId: string;
}

/** A dataset used by a run (runs/log-inputs). */
export interface DatasetInputSpec {
  /** ≤500 characters */
  name: string;
  /** ≤36 characters, e.g. the DVC md5 (32 hex) */
  digest: string;
  /** e.g. `local`, `dvc`, `http` */
  sourceType: string;
  /** JSON text describing the source, e.g. `{"uri": "data/sales.csv"}` (≤65535 characters) */
  source: string;
  /** JSON text, e.g. `{"mlflow_colspec": [...]}` */
  schema?: string | undefined;
  /** JSON text, e.g. `{"num_rows": 365}` */
  profile?: string | undefined;
  /** stored as the input tag `mlflow.data.context` ('training', 'holdout', 'evaluation', ...) */
  context?: string | undefined;
  /** further input tags (key ≤255, value ≤500 characters) */
  tags?: Readonly<Record<string, string>> | undefined;
}

/** An artifact file as uploaded or downloaded. */
export interface ArtifactFile {
  /** relative to the artifact URI it was uploaded to or downloaded from */
  path: string;
  /** bytes */
  size: number;
}

export interface CreateModelVersionInput {
  name: string;
  /** where the model lives, e.g. `<run artifact_uri>/model` or `models:/<model_id>` */
  source: string;
  runId?: string | undefined;
  tags?: Readonly<Record<string, string>> | undefined;
  description?: string | undefined;
  runLink?: string | undefined;
  /** an MLflow 3 LoggedModel id (`m-…`) */
  modelId?: string | undefined;
}

export interface EnsureModelVersionResult {
  version: ModelVersion & { version: string };
  /** false when a version for this run already existed (a retried registration) */
  created: boolean;
}

export interface SearchModelVersionsInput {
  /** e.g. `name = 'ice-cream-sales' and run_id = '…'` */
  filter?: string | undefined;
  orderBy?: readonly string[] | undefined;
  /** per page; server default 10000 for the SQL store */
  maxResults?: number | undefined;
  pageToken?: string | undefined;
}

const api = '/api/2.0/mlflow';
const UPLOAD_CONCURRENCY = 4;

/**
 * A typed client for MLflow's REST API (tracking, artifact proxy, model registry), written for
 * MLflow 3.x ({@link SUPPORTED_SERVER_VERSIONS}). Call {@link MlflowClient.checkServer} once at
 * start.
 *
 * Every method throws an {@link MlflowError} subclass chosen by MLflow's `error_code`. The client
 * never retries: `err.retryable` says whether sending the same call again may help, and the
 * caller's retry loop (Temporal) decides. Methods documented as idempotent are safe to retry.
 */
export class MlflowClient {
  readonly trackingUri: string;
  private readonly transport: MlflowTransport;
  private readonly now: () => number;

  constructor(options: MlflowClientOptions) {
    this.transport = new MlflowTransport(options);
    this.trackingUri = this.transport.trackingUri;
    this.now = options.now ?? Date.now;
  }

  // ---------------------------------------------------------------------------------------------
  // Server

  /**
   * Checks that the server is up (`GET /health`) and speaks a supported version (`GET /version`).
   * @returns the server's version
   * @throws MlflowUnavailableError when the server cannot be reached (retrying helps once it is
   *   up); MlflowUnsupportedVersionError when its version is not 3.x (retrying does not help).
   */
  async checkServer(): Promise<ServerVersion> {
    await this.transport.text('GET', '/health');
    let text: string;
    try {
      text = await this.transport.text('GET', '/version');
    } catch (err) {
      if (err instanceof MlflowError && err.status === 404) {
        throw new MlflowUnsupportedVersionError(
          `${this.trackingUri} has no /version endpoint: it is not an MLflow 3.x server`,
          { ...context(err), cause: err },
          '',
        );
      }
      throw err;
    }
    const version = parseServerVersion(text);
    const reason =
      version === undefined
        ? `MLflow server answered /version with '${text.slice(0, 80)}', not a version`
        : unsupportedReason(version);
    if (reason !== undefined || version === undefined) {
      throw new MlflowUnsupportedVersionError(
        reason ?? 'unsupported',
        { errorCode: 'UNSUPPORTED_VERSION', status: 200, method: 'GET', path: '/version' },
        text.trim(),
      );
    }
    return version;
  }

  // ---------------------------------------------------------------------------------------------
  // Experiments

  /**
   * Returns the experiment called `name` (`experimentId`), creating it if it does not exist and
   * restoring it if it was deleted (a deleted experiment keeps its name). `tags` are set on it
   * (existing tags with other keys are kept). Idempotent and safe under concurrent callers: a
   * create that loses a race reads the winner's experiment.
   * @throws MlflowInvalidParameterError for a name over 500 characters or a bad tag
   */
  async ensureExperiment(
    name: string,
    tags: Readonly<Record<string, string>> = {},
  ): Promise<EnsureExperimentResult> {
    checkLength(
      name,
      MlflowLimits.maxExperimentNameLength,
      `experiment name '${name.slice(0, 60)}'`,
    );
    for (const [k, v] of Object.entries(tags)) checkTag(k, v);
    let found = await this.tryGetExperimentByName(name);
    if (found === undefined) {
      try {
        const experimentId = await this.createExperiment(name, tags);
        return {
          experimentId,
          experiment: await this.getExperiment(experimentId),
          created: true,
          restored: false,
        };
      } catch (err) {
        if (!(err instanceof MlflowAlreadyExistsError)) throw err;
        found = await this.getExperimentByName(name);
      }
    }
    let experiment: Experiment = found;
    const experimentId = required(experiment.experiment_id, 'experiment_id');
    const restored = experiment.lifecycle_stage === 'deleted';
    if (restored) {
      try {
        await this.transport.call({
          method: 'POST',
          path: `${api}/experiments/restore`,
          body: { experiment_id: experimentId },
        });
      } catch (err) {
        // another caller may have restored it first; the re-read below decides
        if (!(err instanceof MlflowInvalidParameterError)) throw err;
        experiment = await this.getExperiment(experimentId);
        if (experiment.lifecycle_stage === 'deleted') throw err;
      }
      experiment = await this.getExperiment(experimentId);
    }
    const current = fromKeyValues(experiment.tags);
    const changed = Object.entries(tags).filter(([k, v]) => current[k] !== v);
    for (const [key, value] of changed) await this.setExperimentTag(experimentId, key, value);
    if (changed.length > 0) experiment = await this.getExperiment(experimentId);
    return { experimentId, experiment, created: false, restored };
  }

  /**
   * Creates an experiment (its artifact location is left to the server: `mlflow-artifacts:/<id>`
   * when it serves artifacts). Prefer {@link ensureExperiment}.
   * @returns the new experiment id
   * @throws MlflowAlreadyExistsError (HTTP 400) when the name is taken, also by a deleted experiment
   */
  async createExperiment(
    name: string,
    tags: Readonly<Record<string, string>> = {},
  ): Promise<string> {
    checkLength(
      name,
      MlflowLimits.maxExperimentNameLength,
      `experiment name '${name.slice(0, 60)}'`,
    );
    for (const [k, v] of Object.entries(tags)) checkTag(k, v);
    const res = await this.transport.call<{ experiment_id?: string }>({
      method: 'POST',
      path: `${api}/experiments/create`,
      body: { name, tags: toKeyValues(tags) },
    });
    return required(res.experiment_id, 'experiment_id');
  }

  /** @throws MlflowNotFoundError when there is no experiment with this id */
  async getExperiment(experimentId: string): Promise<Experiment> {
    const res = await this.transport.call<{ experiment?: Experiment }>({
      method: 'GET',
      path: `${api}/experiments/get`,
      params: { experiment_id: experimentId },
    });
    return required(res.experiment, 'experiment');
  }

  /**
   * The experiment with this name, active or deleted (check `lifecycle_stage`).
   * @throws MlflowNotFoundError when no experiment has this name
   */
  async getExperimentByName(name: string): Promise<Experiment> {
    const res = await this.transport.call<{ experiment?: Experiment }>({
      method: 'GET',
      path: `${api}/experiments/get-by-name`,
      params: { experiment_name: name },
    });
    return required(res.experiment, 'experiment');
  }

  /** Like {@link getExperimentByName}, but undefined when there is none. */
  async tryGetExperimentByName(name: string): Promise<Experiment | undefined> {
    return orUndefined(this.getExperimentByName(name));
  }

  /** Sets (or overwrites) an experiment tag. Idempotent. */
  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    checkTag(key, value);
    await this.transport.call({
      method: 'POST',
      path: `${api}/experiments/set-experiment-tag`,
      body: { experiment_id: experimentId, key, value },
    });
  }

  /** Marks an experiment deleted (it keeps its name until `mlflow gc`). */
  async deleteExperiment(experimentId: string): Promise<void> {
    await this.transport.call({
      method: 'POST',
      path: `${api}/experiments/delete`,
      body: { experiment_id: experimentId },
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Runs

  /**
   * Creates a run (status RUNNING). Not idempotent: a retry creates a second run, so callers
   * that retry should first look for their run by a tag with {@link searchRuns}.
   * @throws MlflowNotFoundError for an unknown experiment; MlflowInvalidParameterError for a bad tag
   */
  async createRun(input: CreateRunInput): Promise<CreatedRun> {
    const tags: Record<string, string> = { ...input.tags };
    if (input.parentRunId !== undefined) tags['mlflow.parentRunId'] = input.parentRunId;
    if (input.runName !== undefined) {
      // the server rejects a run_name that disagrees with an mlflow.runName tag
      if (tags['mlflow.runName'] !== undefined && tags['mlflow.runName'] !== input.runName) {
        throw new MlflowInvalidParameterError(
          `runName '${input.runName}' and tag mlflow.runName '${tags['mlflow.runName']}' disagree`,
          { errorCode: 'INVALID_PARAMETER_VALUE' },
        );
      }
    }
    for (const [k, v] of Object.entries(tags)) checkTag(k, v);
    const res = await this.transport.call<{ run?: Run }>({
      method: 'POST',
      path: `${api}/runs/create`,
      body: {
        experiment_id: input.experimentId,
        run_name: input.runName,
        start_time: input.startTime ?? this.now(),
        tags: toKeyValues(tags),
      },
    });
    const run = required(res.run, 'run');
    const info = required(run.info, 'run.info');
    return {
      ...run,
      info: {
        ...info,
        run_id: required(info.run_id, 'run_id'),
        experiment_id: required(info.experiment_id, 'experiment_id'),
        artifact_uri: required(info.artifact_uri, 'artifact_uri'),
      },
    };
  }

  /**
   * Updates a run's status, end time or name (only the fields given). Idempotent.
   * @returns the updated run info
   */
  async updateRun(input: UpdateRunInput): Promise<RunInfo> {
    const res = await this.transport.call<{ run_info?: RunInfo }>({
      method: 'POST',
      path: `${api}/runs/update`,
      body: {
        run_id: input.runId,
        status: input.status,
        end_time: input.endTime,
        run_name: input.runName,
      },
    });
    return res.run_info ?? {};
  }

  /** Ends a run: status (default FINISHED) and end time (default now). Idempotent. */
  async endRun(
    runId: string,
    status: RunStatus = 'FINISHED',
    endTime: number = this.now(),
  ): Promise<RunInfo> {
    return this.updateRun({ runId, status, endTime });
  }

  /** @throws MlflowNotFoundError for an unknown run id */
  async getRun(runId: string): Promise<Run> {
    const res = await this.transport.call<{ run?: Run }>({
      method: 'GET',
      path: `${api}/runs/get`,
      params: { run_id: runId },
    });
    return required(res.run, 'run');
  }

  /** One page of runs. Follow `next_page_token`, or use {@link iterateRuns} / {@link searchAllRuns}. */
  async searchRuns(input: SearchRunsInput): Promise<SearchRunsPage> {
    const res = await this.transport.call<SearchRunsResponse>({
      method: 'POST',
      path: `${api}/runs/search`,
      body: {
        experiment_ids: input.experimentIds,
        filter: input.filter,
        order_by: input.orderBy,
        max_results: input.maxResults,
        page_token: input.pageToken,
        run_view_type: input.viewType,
      },
    });
    return res.next_page_token
      ? { runs: res.runs ?? [], next_page_token: res.next_page_token }
      : { runs: res.runs ?? [] };
  }

  /** Every run matching the search, page after page. */
  async *iterateRuns(input: SearchRunsInput): AsyncGenerator<Run, void, undefined> {
    let pageToken = input.pageToken;
    do {
      const page = await this.searchRuns({ ...input, pageToken });
      yield* page.runs;
      pageToken = page.next_page_token;
    } while (pageToken !== undefined);
  }

  /** Every run matching the search, in one array. */
  async searchAllRuns(input: SearchRunsInput): Promise<Run[]> {
    const runs: Run[] = [];
    for await (const run of this.iterateRuns(input)) runs.push(run);
    return runs;
  }

  /** Sets (or overwrites) a run tag. Idempotent. @throws MlflowInvalidParameterError (key, value ≤5000) */
  async setTag(runId: string, key: string, value: string): Promise<void> {
    checkTag(key, value);
    await this.transport.call({
      method: 'POST',
      path: `${api}/runs/set-tag`,
      body: { run_id: runId, key, value },
    });
  }

  /** Deletes a run tag. @throws MlflowNotFoundError when the run has no such tag */
  async deleteTag(runId: string, key: string): Promise<void> {
    await this.transport.call({
      method: 'POST',
      path: `${api}/runs/delete-tag`,
      body: { run_id: runId, key },
    });
  }

  /**
   * Logs metrics, params and tags, split into as many log-batch requests as MLflow's limits need
   * (≤1000 metrics, ≤100 params, ≤100 tags, ≤1000 items, ≤1 MB each). Everything is validated
   * before the first request, so a bad key or an over-long value sends nothing. NaN and ±Infinity
   * metric values are sent as MLflow expects; timestamps default to now (ms), steps to 0.
   *
   * The SQL store keeps ±Infinity as ±Number.MAX_VALUE (1.797e308); NaN comes back as "NaN".
   *
   * Retrying after a partial failure is safe: metrics are appended again (same values), params
   * are accepted again with the same value, tags are overwritten.
   * @throws MlflowInvalidParameterError before sending (key regex, key ≤250, param ≤6000,
   *   tag ≤5000 characters), or from the server (e.g. a param changed value, a finished run)
   */
  async logBatch(input: LogBatchInput): Promise<void> {
    const chunks = chunkBatch(input, this.now());
    for (const chunk of chunks) {
      await this.transport.call({
        method: 'POST',
        path: `${api}/runs/log-batch`,
        body: { run_id: input.runId, ...chunk },
      });
    }
  }

  /**
   * Records datasets used by a run (shown in the run's Datasets panel). The server de-duplicates
   * by name and digest, so retrying is safe.
   * @throws MlflowInvalidParameterError before sending when a field is over MLflow's limits
   */
  async logInputs(runId: string, datasets: readonly DatasetInputSpec[]): Promise<void> {
    const wire = datasets.map(toDatasetInput);
    for (let i = 0; i < wire.length; i += MlflowLimits.maxEntitiesPerBatch) {
      await this.transport.call({
        method: 'POST',
        path: `${api}/runs/log-inputs`,
        body: { run_id: runId, datasets: wire.slice(i, i + MlflowLimits.maxEntitiesPerBatch) },
      });
    }
  }

  /** Every logged value of one metric of a run (all pages). Values may be the strings "NaN" etc. */
  async getMetricHistory(runId: string, metricKey: string): Promise<Metric[]> {
    const out: Metric[] = [];
    let pageToken: string | undefined;
    do {
      const res = await this.transport.call<{ metrics?: Metric[]; next_page_token?: string }>({
        method: 'GET',
        path: `${api}/metrics/get-history`,
        params: { run_id: runId, metric_key: metricKey, page_token: pageToken },
      });
      out.push(...(res.metrics ?? []));
      pageToken = res.next_page_token;
    } while (pageToken);
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Artifacts (through the server's artifact proxy)

  /**
   * Uploads one file to `<artifact root>/<relPath>`. `runOrArtifactUri` is a run id (its
   * artifact URI is looked up) or an artifact URI (`mlflow-artifacts:/…` or the proxy's http URL).
   * Overwrites an existing file: idempotent.
   * @throws MlflowInvalidParameterError for a URI outside the proxy or a path with `..`
   */
  async uploadArtifact(
    runOrArtifactUri: string,
    relPath: string,
    data: Uint8Array | string,
  ): Promise<ArtifactFile> {
    const root = await this.artifactRoot(runOrArtifactUri);
    const full = joinArtifactPath(root, relPath);
    if (full === root)
      throw new MlflowInvalidParameterError('uploadArtifact needs a file path', {
        errorCode: 'INVALID_PARAMETER_VALUE',
      });
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    await this.transport.raw({
      method: 'PUT',
      path: artifactUrlPath(full),
      data: bytes,
      headers: { 'Content-Type': 'application/octet-stream' },
      responseType: 'text',
      timeout: this.transport.artifactTimeoutMs,
    });
    return { path: joinArtifactPath(relPath), size: bytes.byteLength };
  }

  /**
   * Uploads every file under `localDir` to `<artifact root>/<prefix>/…`, keeping the folder
   * structure, then lists the uploaded folder and checks every file is there with its size.
   * Idempotent (files are overwritten).
   * @returns the uploaded files, paths relative to the artifact root
   * @throws MlflowArtifactIntegrityError when the listing does not show an uploaded file at its
   *   size (retryable); errors of {@link uploadArtifact}
   */
  async uploadDirectory(
    runOrArtifactUri: string,
    localDir: string,
    prefix = '',
  ): Promise<ArtifactFile[]> {
    const root = await this.artifactRoot(runOrArtifactUri);
    const files = walk(localDir).map((rel) => ({ rel, artifact: joinArtifactPath(prefix, rel) }));
    const uploaded = await mapLimit(files, UPLOAD_CONCURRENCY, async ({ rel, artifact }) => {
      const bytes = await fs.promises.readFile(path.join(localDir, ...rel.split('/')));
      return this.uploadArtifact(`mlflow-artifacts:/${root}`, artifact, bytes);
    });
    const listed = new Map(
      (await this.listArtifactsRecursive(`mlflow-artifacts:/${root}`, prefix)).map((f) => [
        f.path,
        f.size,
      ]),
    );
    for (const file of uploaded) {
      if (listed.get(file.path) !== file.size) {
        throw new MlflowArtifactIntegrityError(
          `artifact ${file.path} was uploaded with ${file.size} bytes but the server lists ${listed.get(file.path) ?? 'no file'}`,
          {
            errorCode: 'ARTIFACT_MISMATCH',
            method: 'PUT',
            path: artifactUrlPath(joinArtifactPath(root, file.path)),
          },
        );
      }
    }
    return uploaded;
  }

  /**
   * Downloads one artifact file. When the server sends Content-Length, the size is checked.
   * @throws MlflowNotFoundError when there is no such file; MlflowArtifactIntegrityError when
   *   fewer or more bytes arrived than announced (retryable)
   */
  async downloadArtifact(runOrArtifactUri: string, relPath: string): Promise<Buffer> {
    const full = joinArtifactPath(await this.artifactRoot(runOrArtifactUri), relPath);
    const res = await this.transport.raw({
      method: 'GET',
      path: artifactUrlPath(full),
      responseType: 'arraybuffer',
      timeout: this.transport.artifactTimeoutMs,
    });
    const bytes = toBuffer(res.data);
    const announced = Number(res.headers['content-length']);
    const encoded =
      res.headers['content-encoding'] !== undefined &&
      res.headers['content-encoding'] !== 'identity';
    if (
      !encoded &&
      res.headers['content-length'] !== undefined &&
      Number.isFinite(announced) &&
      announced !== bytes.byteLength
    ) {
      throw new MlflowArtifactIntegrityError(
        `artifact ${full}: Content-Length ${announced} but ${bytes.byteLength} bytes arrived`,
        {
          errorCode: 'ARTIFACT_MISMATCH',
          status: res.status,
          method: 'GET',
          path: artifactUrlPath(full),
        },
      );
    }
    return bytes;
  }

  /**
   * Lists one folder of artifacts (not recursive). Each entry's `path` is relative to the
   * artifact root of `runOrArtifactUri` (as MLflow's Python client does), not a basename.
   * An unknown folder lists as empty.
   */
  async listArtifacts(
    runOrArtifactUri: string,
    relPath = '',
  ): Promise<(FileInfo & { path: string })[]> {
    const root = await this.artifactRoot(runOrArtifactUri);
    const dir = joinArtifactPath(relPath);
    const res = await this.transport.call<{ files?: FileInfo[] }>({
      method: 'GET',
      path: ARTIFACTS_ROUTE,
      params: { path: joinArtifactPath(root, dir) },
    });
    return (res.files ?? []).map((f) => ({
      ...f,
      path: joinArtifactPath(dir, basename(f.path ?? '')),
    }));
  }

  /** Every file (not folder) under `relPath`, recursively, with its size. */
  async listArtifactsRecursive(runOrArtifactUri: string, relPath = ''): Promise<ArtifactFile[]> {
    const root = `mlflow-artifacts:/${await this.artifactRoot(runOrArtifactUri)}`;
    const out: ArtifactFile[] = [];
    const visit = async (dir: string): Promise<void> => {
      for (const entry of await this.listArtifacts(root, dir)) {
        if (entry.is_dir === true) await visit(entry.path);
        else out.push({ path: entry.path, size: entry.file_size ?? 0 });
      }
    };
    await visit(joinArtifactPath(relPath));
    return out;
  }

  /**
   * Downloads every file under `relPath` into `localDir` (the folder structure below `relPath` is
   * kept) and checks each size against the listing.
   * @returns the files written, paths relative to `localDir`
   * @throws MlflowNotFoundError when the folder is empty or missing; MlflowArtifactIntegrityError
   *   on a size mismatch (retryable)
   */
  async downloadDirectory(
    runOrArtifactUri: string,
    relPath: string,
    localDir: string,
  ): Promise<ArtifactFile[]> {
    const root = `mlflow-artifacts:/${await this.artifactRoot(runOrArtifactUri)}`;
    const base = joinArtifactPath(relPath);
    const files = await this.listArtifactsRecursive(root, base);
    if (files.length === 0) {
      throw new MlflowNotFoundError(`no artifacts under '${base}' of ${root}`, {
        errorCode: 'RESOURCE_DOES_NOT_EXIST',
        method: 'GET',
        path: ARTIFACTS_ROUTE,
      });
    }
    return mapLimit(files, UPLOAD_CONCURRENCY, async (file) => {
      const bytes = await this.downloadArtifact(root, file.path);
      if (bytes.byteLength !== file.size) {
        throw new MlflowArtifactIntegrityError(
          `artifact ${file.path}: listed with ${file.size} bytes but ${bytes.byteLength} arrived`,
          {
            errorCode: 'ARTIFACT_MISMATCH',
            method: 'GET',
            path: artifactUrlPath(
              joinArtifactPath(root.slice('mlflow-artifacts:/'.length), file.path),
            ),
          },
        );
      }
      const rel = base === '' ? file.path : file.path.slice(base.length + 1);
      const target = path.join(localDir, ...rel.split('/'));
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await fs.promises.writeFile(target, bytes);
      return { path: rel, size: bytes.byteLength };
    });
  }

  /** The artifact-store path of a run id or artifact URI. */
  private async artifactRoot(runOrArtifactUri: string): Promise<string> {
    if (/^[a-z][a-z0-9+.-]*:/i.test(runOrArtifactUri)) return artifactPath(runOrArtifactUri);
    const run = await this.getRun(runOrArtifactUri);
    return artifactPath(required(run.info?.artifact_uri, 'run.info.artifact_uri'));
  }

  // ---------------------------------------------------------------------------------------------
  // Model registry

  /**
   * Returns the registered model `name`, creating it (with `description` and `tags`) if it does
   * not exist. On an existing model, `tags` are set and the description is left alone.
   * Idempotent and safe under concurrent callers.
   */
  async ensureRegisteredModel(
    name: string,
    description?: string,
    tags: Readonly<Record<string, string>> = {},
  ): Promise<RegisteredModel> {
    for (const [k, v] of Object.entries(tags)) checkRegistryTag(k, v);
    let model = await orUndefined(this.getRegisteredModel(name));
    if (model === undefined) {
      try {
        return await this.createRegisteredModel(name, description, tags);
      } catch (err) {
        if (!(err instanceof MlflowAlreadyExistsError)) throw err;
        model = await this.getRegisteredModel(name);
      }
    }
    const current = fromKeyValues(model.tags);
    const changed = Object.entries(tags).filter(([k, v]) => current[k] !== v);
    for (const [key, value] of changed) await this.setRegisteredModelTag(name, key, value);
    return changed.length > 0 ? this.getRegisteredModel(name) : model;
  }

  /**
   * Creates a registered model. Prefer {@link ensureRegisteredModel}.
   * @throws MlflowAlreadyExistsError (HTTP 400) when the name is taken
   */
  async createRegisteredModel(
    name: string,
    description?: string,
    tags: Readonly<Record<string, string>> = {},
  ): Promise<RegisteredModel> {
    for (const [k, v] of Object.entries(tags)) checkRegistryTag(k, v);
    const res = await this.transport.call<{ registered_model?: RegisteredModel }>({
      method: 'POST',
      path: `${api}/registered-models/create`,
      body: { name, description, tags: toKeyValues(tags) },
    });
    return required(res.registered_model, 'registered_model');
  }

  /** The registered model with its tags and aliases. @throws MlflowNotFoundError */
  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const res = await this.transport.call<{ registered_model?: RegisteredModel }>({
      method: 'GET',
      path: `${api}/registered-models/get`,
      params: { name },
    });
    return required(res.registered_model, 'registered_model');
  }

  /** Sets (or overwrites) a registered-model tag (value ≤100000 characters). Idempotent. */
  async setRegisteredModelTag(name: string, key: string, value: string): Promise<void> {
    checkRegistryTag(key, value);
    await this.transport.call({
      method: 'POST',
      path: `${api}/registered-models/set-tag`,
      body: { name, key, value },
    });
  }

  /** Deletes a registered-model tag. */
  async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    await this.transport.call({
      method: 'DELETE',
      path: `${api}/registered-models/delete-tag`,
      body: { name, key },
    });
  }

  /**
   * Creates a new model version. **Not idempotent**: use {@link ensureModelVersionForRun} for
   * registrations that may be retried.
   * @throws MlflowNotFoundError when the registered model does not exist;
   *   MlflowInvalidParameterError for a source MLflow refuses
   */
  async createModelVersion(
    input: CreateModelVersionInput,
  ): Promise<ModelVersion & { version: string }> {
    for (const [k, v] of Object.entries(input.tags ?? {})) checkRegistryTag(k, v);
    const res = await this.transport.call<{ model_version?: ModelVersion }>({
      method: 'POST',
      path: `${api}/model-versions/create`,
      body: {
        name: input.name,
        source: input.source,
        run_id: input.runId,
        tags: toKeyValues(input.tags),
        description: input.description,
        run_link: input.runLink,
        model_id: input.modelId,
      },
    });
    const mv = required(res.model_version, 'model_version');
    return { ...mv, version: required(mv.version, 'model_version.version') };
  }

  /** @throws MlflowNotFoundError for an unknown model or version */
  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const res = await this.transport.call<{ model_version?: ModelVersion }>({
      method: 'GET',
      path: `${api}/model-versions/get`,
      params: { name, version },
    });
    return required(res.model_version, 'model_version');
  }

  /** Sets a version's description. Idempotent. */
  async updateModelVersion(
    name: string,
    version: string,
    description: string,
  ): Promise<ModelVersion> {
    const res = await this.transport.call<{ model_version?: ModelVersion }>({
      method: 'PATCH',
      path: `${api}/model-versions/update`,
      body: { name, version, description },
    });
    return required(res.model_version, 'model_version');
  }

  /** One page of model versions. */
  async searchModelVersionsPage(
    input: SearchModelVersionsInput = {},
  ): Promise<SearchModelVersionsResponse> {
    return this.transport.call<SearchModelVersionsResponse>({
      method: 'GET',
      path: `${api}/model-versions/search`,
      params: {
        filter: input.filter,
        order_by: input.orderBy,
        max_results: input.maxResults,
        page_token: input.pageToken,
      },
    });
  }

  /** Every model version matching `filter` (all pages), e.g. `name = 'ice-cream-sales'`. */
  async searchModelVersions(
    filter?: string,
    options: Omit<SearchModelVersionsInput, 'filter' | 'pageToken'> = {},
  ): Promise<ModelVersion[]> {
    const out: ModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.searchModelVersionsPage({ ...options, filter, pageToken });
      out.push(...(page.model_versions ?? []));
      pageToken = page.next_page_token;
    } while (pageToken);
    return out;
  }

  /** Sets (or overwrites) a model-version tag (value ≤100000 characters). Idempotent. */
  async setModelVersionTag(
    name: string,
    version: string,
    key: string,
    value: string,
  ): Promise<void> {
    checkRegistryTag(key, value);
    await this.transport.call({
      method: 'POST',
      path: `${api}/model-versions/set-tag`,
      body: { name, version, key, value },
    });
  }

  /** Deletes a model-version tag. */
  async deleteModelVersionTag(name: string, version: string, key: string): Promise<void> {
    await this.transport.call({
      method: 'DELETE',
      path: `${api}/model-versions/delete-tag`,
      body: { name, version, key },
    });
  }

  /**
   * Points `alias` at `version` (moving it if it pointed elsewhere). Idempotent.
   * @throws MlflowInvalidParameterError for a reserved or badly formed alias (checked first);
   *   MlflowNotFoundError for an unknown model or version
   */
  async setAlias(name: string, alias: string, version: string): Promise<void> {
    checkAlias(alias);
    await this.transport.call({
      method: 'POST',
      path: `${api}/registered-models/alias`,
      body: { name, alias, version },
    });
  }

  /** Removes an alias. Idempotent (removing an absent alias succeeds). */
  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.transport.call({
      method: 'DELETE',
      path: `${api}/registered-models/alias`,
      body: { name, alias },
    });
  }

  /**
   * The version `alias` points at.
   * @throws MlflowNotFoundError when the alias or the model is unknown (for an unknown alias
   *   MLflow answers 400 INVALID_PARAMETER_VALUE; the error keeps that status)
   */
  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    try {
      const res = await this.transport.call<{ model_version?: ModelVersion }>({
        method: 'GET',
        path: `${api}/registered-models/alias`,
        params: { name, alias },
      });
      return required(res.model_version, 'model_version');
    } catch (err) {
      // MLflow 3.x answers an unknown alias of a known model with 400 INVALID_PARAMETER_VALUE
      // "Registered model alias X not found": map it to the not-found it is.
      if (err instanceof MlflowInvalidParameterError && /alias .* not found/i.test(err.message)) {
        throw new MlflowNotFoundError(err.message, {
          errorCode: 'RESOURCE_DOES_NOT_EXIST',
          status: err.status,
          method: err.method,
          path: err.path,
          requestId: err.requestId,
          cause: err,
        });
      }
      throw err;
    }
  }

  /** The version `alias` points at, or undefined when the alias (or the model) does not exist. */
  async tryGetModelVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    return orUndefined(this.getModelVersionByAlias(name, alias));
  }

  /**
   * Moves `alias` to `version` and reports where it pointed before (undefined if nowhere), for an
   * audit record. Idempotent.
   */
  async moveAlias(
    name: string,
    alias: string,
    version: string,
  ): Promise<{ previousVersion: string | undefined }> {
    const previous = await this.tryGetModelVersionByAlias(name, alias);
    await this.setAlias(name, alias, version);
    return { previousVersion: previous?.version };
  }

  /**
   * Polls a model version until it is READY (versions from a proxied artifact source usually are
   * at once).
   * @throws MlflowModelVersionFailedError on FAILED_REGISTRATION (not retryable);
   *   MlflowUnavailableError when it is still pending after `timeoutMs` (retryable)
   */
  async waitForModelVersionReady(
    name: string,
    version: string,
    timeoutMs = 60_000,
    pollMs = 250,
  ): Promise<ModelVersion> {
    const deadline = this.now() + timeoutMs;
    for (;;) {
      const mv = await this.getModelVersion(name, version);
      if (mv.status === undefined || mv.status === 'READY') return mv;
      const where = { method: 'GET', path: `${api}/model-versions/get` } as const;
      if (mv.status === 'FAILED_REGISTRATION') {
        throw new MlflowModelVersionFailedError(
          `model version ${name}/${version} failed registration: ${mv.status_message ?? 'no message'}`,
          {
            errorCode: 'FAILED_REGISTRATION',
            ...where,
          },
        );
      }
      if (this.now() >= deadline) {
        throw new MlflowUnavailableError(
          `model version ${name}/${version} is still ${mv.status} after ${timeoutMs} ms`,
          { errorCode: 'MODEL_VERSION_NOT_READY', ...where },
        );
      }
      await sleep(pollMs);
    }
  }

  /**
   * The version of model `name` registered from run `runId` (the lowest, if there are several),
   * or undefined. This is what makes a retried registration idempotent.
   */
  async findModelVersionForRun(
    name: string,
    runId: string,
  ): Promise<(ModelVersion & { version: string }) | undefined> {
    const versions = await this.searchModelVersions(
      `name = ${quoteFilterValue(name)} and run_id = ${quoteFilterValue(runId)}`,
    );
    const mine = versions
      .filter(
        (v): v is ModelVersion & { version: string } =>
          v.version !== undefined && v.run_id === runId && v.name === name,
      )
      .sort((a, b) => Number(a.version) - Number(b.version));
    return mine[0];
  }

  /**
   * Idempotent registration: returns the version already registered from `input.runId`, or
   * creates it. Tags are set on an existing version too, so a retry after a partial failure
   * completes it. Needs `runId`. Call only after the artifacts at `source` are uploaded and
   * verified; two *concurrent* callers for the same run can still both create a version.
   */
  async ensureModelVersionForRun(
    input: CreateModelVersionInput & { runId: string },
  ): Promise<EnsureModelVersionResult> {
    const existing = await this.findModelVersionForRun(input.name, input.runId);
    if (existing === undefined)
      return { version: await this.createModelVersion(input), created: true };
    const current = fromKeyValues(existing.tags);
    for (const [key, value] of Object.entries(input.tags ?? {})) {
      if (current[key] !== value)
        await this.setModelVersionTag(input.name, existing.version, key, value);
    }
    const refreshed = await this.getModelVersion(input.name, existing.version);
    return { version: { ...refreshed, version: existing.version }, created: false };
  }
}

function toDatasetInput(d: DatasetInputSpec): DatasetInput {
  const L = MlflowLimits;
  checkLength(d.name, L.maxDatasetNameLength, `dataset name '${d.name.slice(0, 60)}'`);
  if (d.name === '')
    throw new MlflowInvalidParameterError('dataset name must not be empty', {
      errorCode: 'INVALID_PARAMETER_VALUE',
    });
  checkLength(d.digest, L.maxDatasetDigestLength, `digest of dataset '${d.name}'`);
  checkLength(d.source, L.maxDatasetSourceLength, `source of dataset '${d.name}'`);
  if (d.schema !== undefined)
    checkLength(d.schema, L.maxDatasetSchemaLength, `schema of dataset '${d.name}'`);
  if (d.profile !== undefined)
    checkLength(d.profile, L.maxDatasetProfileLength, `profile of dataset '${d.name}'`);
  const tags: KeyValue[] = toKeyValues(d.tags);
  if (d.context !== undefined) tags.push({ key: 'mlflow.data.context', value: d.context });
  for (const t of tags) {
    checkKey(t.key, 'input tag');
    checkLength(t.key, L.maxInputTagKeyLength, `input tag key '${t.key}'`);
    checkLength(t.value, L.maxInputTagValueLength, `value of input tag '${t.key}'`);
  }
  const dataset: DatasetInput['dataset'] = {
    name: d.name,
    digest: d.digest,
    source_type: d.sourceType,
    source: d.source,
  };
  if (d.schema !== undefined) dataset.schema = d.schema;
  if (d.profile !== undefined) dataset.profile = d.profile;
  return { tags, dataset };
}

function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) {
    throw new MlflowError(`the MLflow response has no ${what}`, { errorCode: 'INVALID_RESPONSE' });
  }
  return value;
}

async function orUndefined<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof MlflowNotFoundError) return undefined;
    throw err;
  }
}

function context(err: MlflowError): {
  status: number | undefined;
  errorCode: string;
  method: string | undefined;
  path: string | undefined;
} {
  return { status: err.status, errorCode: err.errorCode, method: err.method, path: err.path };
}

function basename(p: string): string {
  const parts = p.split('/').filter((s) => s !== '');
  return parts[parts.length - 1] ?? '';
}

/** Relative paths (with `/`) of every file under `dir`, sorted. */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...walk(dir, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
