/**
 * Recording a pipeline run in MLflow: the run (params, metrics, tags, artifacts), the model
 * version in the registry, and the promotion of the `production` alias.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseForecaster, type Forecaster, type Metrics } from '../ml';
import type { MlflowClient } from '../mlflow/client';
import { MlflowNotFoundError } from '../mlflow/errors';
import { bundleFiles, readBundle, writeBundle } from './bundle';
import { readSeries } from './series-file';
import { promotionDecision } from './steps';
import type {
  EvaluateResult,
  IngestResult,
  PromoteResult,
  RegisterResult,
  SplitResult,
  TrainResult,
  TrainingPipelineInput,
  ValidateResult,
} from './types';

export const productionAlias = 'production';
export const modelArtifactPath = 'model';

/** Everything a pipeline run produced, by reference. */
export interface RunContext {
  workflowId: string;
  runId: string;
  workDir: string;
  input: TrainingPipelineInput;
  data: IngestResult;
  valid: ValidateResult;
  split: SplitResult;
  trained: TrainResult;
  evaluation: EvaluateResult;
  provenance: Record<string, string>;
}

function metricEntries(prefix: string, m: Metrics): { key: string; value: number }[] {
  return (['mae', 'rmse', 'mape', 'smape', 'r2'] as const).map((k) => ({ key: `${prefix}${k}`, value: m[k] }));
}

/**
 * Logs the run and registers its model version. Idempotent: a retry finds the MLflow run by its
 * Temporal run id and the model version by its MLflow run id, so it never creates a second run
 * or version. The version is created only after the bundle is uploaded and its files verified.
 */
export async function recordTrainingRun(
  mlflow: MlflowClient,
  ctx: RunContext,
  names: { experimentName: string; registeredModel: string },
): Promise<RegisterResult> {
  const { experimentId } = await mlflow.ensureExperiment(names.experimentName);
  const existing = await mlflow.searchRuns({
    experimentIds: [experimentId],
    filter: `tags."temporal.run_id" = '${ctx.runId}'`,
    maxResults: 1,
  });
  const run =
    existing.runs?.[0] ??
    (await mlflow.createRun({
      experimentId,
      runName: `${ctx.trained.family}-${ctx.data.md5.slice(0, 8)}`,
      startTime: Date.now(),
      tags: {
        'temporal.workflow_id': ctx.workflowId,
        'temporal.run_id': ctx.runId,
      },
    }));
  const runId = run.info?.run_id;
  const artifactUri = run.info?.artifact_uri;
  if (!runId || !artifactUri) throw new Error('MLflow returned a run without run_id or artifact_uri');

  const ev = ctx.evaluation;
  await mlflow.logBatch({
    runId,
    params: {
      family: ctx.trained.family,
      ...Object.fromEntries(Object.entries(ctx.trained.params).map(([k, v]) => [`param.${k}`, String(v)])),
      seed: String(ctx.input.seed ?? 42),
      coverage: String(ev.coverage.nominal),
      data_path: path.basename(ctx.data.dataPath),
      rows: String(ctx.valid.rows),
      frequency: ctx.valid.frequency,
      train_rows: String(ctx.split.trainRows),
      holdout_rows: String(ctx.split.holdoutRows),
      holdout_from: ctx.split.holdoutFrom,
    },
    metrics: [
      ...metricEntries('holdout_', ev.metrics),
      ...metricEntries('baseline_last_value_', ev.baselines.lastValue),
      ...metricEntries('baseline_seasonal_naive_', ev.baselines.seasonalNaive),
      { key: 'holdout_interval_coverage', value: ev.coverage.empirical },
    ],
    tags: {
      'data.md5': ctx.data.md5,
      'data.path': ctx.data.dataPath,
      'data.dvc_file': ctx.data.dvcFile,
      'model.checksum': ctx.trained.checksum,
      ...ctx.provenance,
    },
  });

  // Bundle: the trained forecaster plus the full history (holdout actuals included) for lags.
  const bundleDir = path.join(ctx.workDir, 'bundle');
  fs.rmSync(bundleDir, { recursive: true, force: true });
  writeBundle(bundleDir, fs.readFileSync(ctx.trained.modelFile, 'utf8'), readSeries(ctx.valid.seriesFile), { runId });
  await mlflow.uploadDirectory(artifactUri, bundleDir, modelArtifactPath);
  await mlflow.uploadArtifact(artifactUri, 'evaluation/evaluation.json', fs.readFileSync(ev.evaluationFile));
  await verifyUploadedBundle(mlflow, artifactUri, bundleDir);

  await mlflow.ensureRegisteredModel(names.registeredModel);
  const { version } = await mlflow.ensureModelVersionForRun({
    name: names.registeredModel,
    source: `${artifactUri}/${modelArtifactPath}`,
    runId,
    tags: {
      'data.md5': ctx.data.md5,
      holdout_mae: String(ev.metrics.mae),
      holdout_rmse: String(ev.metrics.rmse),
      'git.commit': ctx.provenance['mlflow.source.git.commit'] ?? 'unknown',
    },
  });
  await mlflow.waitForModelVersionReady(names.registeredModel, version.version, 60_000);
  await mlflow.endRun(runId, 'FINISHED');
  return { runId, experimentId, modelName: names.registeredModel, version: version.version, artifactUri };
}

/** Every bundle file must be listed by the server with the size it has locally. */
async function verifyUploadedBundle(mlflow: MlflowClient, artifactUri: string, bundleDir: string): Promise<void> {
  const listed = await mlflow.listArtifacts(artifactUri, modelArtifactPath);
  for (const name of Object.values(bundleFiles)) {
    const size = fs.statSync(path.join(bundleDir, name)).size;
    const remote = listed.find((f) => f.path === `${modelArtifactPath}/${name}` || f.path === name);
    if (!remote || Number(remote.file_size) !== size) {
      throw new Error(`uploaded bundle file ${name} is missing or has the wrong size on the MLflow server`);
    }
  }
}

/** Downloads a model version's bundle into `dir` and verifies it. */
export async function downloadBundle(mlflow: MlflowClient, source: string, dir: string) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const name of Object.values(bundleFiles)) {
    fs.writeFileSync(path.join(dir, name), await mlflow.downloadArtifact(source, name));
  }
  return readBundle(dir);
}

/** The model the `production` alias points at, or null when there is none yet. */
export async function loadProductionForecaster(
  mlflow: MlflowClient,
  registeredModel: string,
): Promise<{ version: string; forecaster: Forecaster } | null> {
  const current = await mlflow.tryGetModelVersionByAlias(registeredModel, productionAlias).catch((err: unknown) => {
    if (err instanceof MlflowNotFoundError) return undefined; // no registered model yet
    throw err;
  });
  if (!current?.source || !current.version) return null;
  const text = (await mlflow.downloadArtifact(current.source, bundleFiles.forecaster)).toString('utf8');
  return { version: current.version, forecaster: parseForecaster(text) };
}

/**
 * Moves `production` to the new version when the promotion rule says so, and records the
 * decision (who, when, why, from which version) as version tags either way.
 */
export async function promoteVersion(
  mlflow: MlflowClient,
  req: { registered: RegisterResult; evaluation: EvaluateResult; minImprovement: number | undefined; workflowId: string },
  registeredModel: string,
): Promise<PromoteResult> {
  const current = await mlflow.tryGetModelVersionByAlias(registeredModel, productionAlias);
  const previousVersion = current?.version ?? null;
  const version = req.registered.version;
  // A retry after the alias already moved: report the same outcome.
  if (previousVersion === version) {
    return { promoted: true, reason: 'already production', productionVersion: version, previousVersion };
  }
  const decision = promotionDecision(req.evaluation, req.minImprovement ?? 0);
  const now = new Date().toISOString();
  await mlflow.setModelVersionTag(registeredModel, version, 'promotion.decision', decision.promote ? 'promoted' : 'rejected');
  await mlflow.setModelVersionTag(registeredModel, version, 'promotion.reason', decision.reason);
  await mlflow.setModelVersionTag(registeredModel, version, 'promotion.at', now);
  await mlflow.setModelVersionTag(registeredModel, version, 'promotion.by', `temporal:${req.workflowId}`);
  await mlflow.setModelVersionTag(registeredModel, version, 'promotion.previous_version', previousVersion ?? 'none');
  if (decision.promote) await mlflow.setAlias(registeredModel, productionAlias, version);
  return {
    promoted: decision.promote,
    reason: decision.reason,
    productionVersion: decision.promote ? version : (previousVersion ?? ''),
    previousVersion,
  };
}
