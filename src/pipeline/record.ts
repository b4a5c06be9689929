/**
 * Recording a pipeline run in MLflow: the run (params, metrics, tags, artifacts), the model
 * version in the registry, and the promotion of the `production` alias.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ColumnMap } from '../data/dataset';
import { parseForecaster, type Forecaster, type Metrics, type Series } from '../ml';
import type { ExperimentReport } from '../ml/experiment';
import { writeExperimentPlots } from '../report/render';
import type { DatasetInputSpec, MlflowClient } from '../mlflow/client';
import { writeBundle } from '../model-store/bundle';
import { publishBundle } from '../model-store/publish';
import type { ModelStore } from '../model-store/store';
import { recordStep, runTags } from './run-record';
import { fromKeyValues } from '../mlflow/validation';
import { reproducibilityProblems } from './promotion-gate';
import { resolveRunConfig, runInputArtifact, runReferenceTags } from './run-references';
import { aliasVersion, aliases, moveAlias, recordEvent } from './registry';
import { defaultPromotionPolicy, promotionDecision, type PromotionPolicy } from './steps';
import type {
  EvaluateResult,
  IngestResult,
  PromoteResult,
  RegisterResult,
  RunRef,
  SplitResult,
  TrainResult,
  TrainingPipelineInput,
  ValidateResult,
} from './types';

/** Everything a pipeline run produced: the references, and the contents register needs. */
export interface RunContext {
  run: RunRef;
  /** a scratch folder for the bundle and plots, removed by the caller */
  workDir: string;
  input: TrainingPipelineInput;
  data: IngestResult;
  valid: ValidateResult;
  split: SplitResult;
  trained: TrainResult;
  evaluation: EvaluateResult;
  provenance: Record<string, string>;
  /** the column map validate used (the input's, or the worker's default) */
  columns?: ColumnMap;
  /** contents behind the references, read and verified by the caller */
  series: Series;
  forecasterText: string;
  experimentText: string | null;
  evaluationText: string;
  csvText: string;
}

function metricEntries(prefix: string, m: Metrics): { key: string; value: number }[] {
  return (['mae', 'rmse', 'mape', 'smape', 'r2'] as const).map((k) => ({
    key: `${prefix}${k}`,
    value: m[k],
  }));
}

/**
 * Logs the results on the run the first step opened and registers its model version; ends the run
 * FINISHED. Idempotent: the nested runs and the model version are found again on a retry, so a
 * retry never creates a second version. The version is created only after the bundle is uploaded
 * and verified (publishBundle).
 */
export async function recordTrainingRun(
  mlflow: MlflowClient,
  ctx: RunContext,
  names: { experimentName: string; registeredModel: string },
): Promise<RegisterResult> {
  const { mlflowRunId: runId, artifactUri, experimentId } = ctx.run;
  const ev = ctx.evaluation;
  const experiment = ctx.experimentText
    ? (JSON.parse(ctx.experimentText) as ExperimentReport)
    : null;
  const forecaster = parseForecaster(ctx.forecasterText);
  const config = resolveRunConfig(
    ctx.input,
    ctx.columns ??
      ctx.input.columns ?? { date: 'date', target: 'sales', temperature: 'temperature' },
    ctx.data,
    ctx.split,
    ctx.trained,
    experiment,
    ev,
    forecaster.config.seed,
  );
  await mlflow.logBatch({
    runId,
    params: {
      family: ctx.trained.family,
      ...Object.fromEntries(
        Object.entries(ctx.trained.params).map(([k, v]) => [`param.${k}`, String(v)]),
      ),
      features: JSON.stringify(forecaster.features),
      seed: String(forecaster.config.seed),
      coverage: String(ev.coverage.nominal),
      data_path: path.basename(ctx.data.dataPath),
      rows: String(ctx.valid.rows),
      frequency: ctx.valid.frequency,
      train_rows: String(ctx.split.trainRows),
      holdout_rows: String(ctx.split.holdoutRows),
      holdout_from: ctx.split.holdoutFrom,
      ...(experiment
        ? {
            'search.families': experiment.families.map((f) => f.family).join(','),
            'search.budget': String(experiment.protocol.budget),
            'search.folds': String(experiment.protocol.folds.length),
          }
        : {}),
    },
    metrics: [
      ...metricEntries('holdout_', ev.metrics),
      ...metricEntries('baseline_last_value_', ev.baselines.lastValue),
      ...metricEntries('baseline_seasonal_naive_', ev.baselines.seasonalNaive),
      { key: 'holdout_interval_coverage', value: ev.coverage.empirical },
      ...(experiment
        ? [
            ...metricEntries('cv_', experiment.chosen.cv),
            ...metricEntries('cv_baseline_seasonal_naive_', experiment.baselines.cv.seasonalNaive),
            ...foldMetrics(
              experiment.families.find((f) => f.family === experiment.chosen.family)?.best?.folds ??
                [],
            ),
          ]
        : []),
    ],
    tags: {
      'data.md5': ctx.data.md5,
      'data.path': ctx.data.dataPath,
      'data.dvc_file': ctx.data.dvcFile,
      'model.checksum': ctx.trained.checksum,
      'mlflow.note.content': runNote(ctx, experiment),
      ...(await runReferenceTags({ ...ctx, config })),
      ...ctx.provenance,
    },
  });
  await mlflow.uploadArtifact(
    artifactUri,
    runInputArtifact,
    Buffer.from(`${JSON.stringify(config, null, 2)}\n`),
  );
  const series = ctx.series;
  await mlflow.logInputs(runId, datasetInputs(ctx, series));
  if (experiment) await recordFamilyRuns(mlflow, experimentId, runId, experiment);

  // Bundle: the trained forecaster plus the full history (holdout actuals included) for lags.
  const bundleDir = path.join(ctx.workDir, 'bundle');
  fs.rmSync(bundleDir, { recursive: true, force: true });
  writeBundle(bundleDir, ctx.forecasterText, series, { runId });
  await mlflow.uploadArtifact(artifactUri, 'evaluation/evaluation.json', ctx.evaluationText);
  await mlflow.uploadArtifact(artifactUri, 'data/sample.csv', dataSample(ctx.csvText));
  if (experiment && ctx.experimentText) {
    await mlflow.uploadArtifact(artifactUri, 'evaluation/model-selection.json', ctx.experimentText);
    const plotsDir = path.join(ctx.workDir, 'plots');
    await writeExperimentPlots(experiment, plotsDir);
    await mlflow.uploadDirectory(artifactUri, plotsDir, 'plots');
  }

  // last, once everything else is logged: a version exists only for a complete run
  const { version, digest, source } = await publishBundle(mlflow, {
    registeredModel: names.registeredModel,
    runId,
    artifactUri,
    bundleDir,
    tags: {
      'data.md5': ctx.data.md5,
      holdout_mae: String(ev.metrics.mae),
      holdout_rmse: String(ev.metrics.rmse),
      'git.commit': ctx.provenance['mlflow.source.git.commit'] ?? 'unknown',
    },
  });
  await recordStep(
    mlflow,
    ctx.run,
    'register',
    { sha256: digest, uri: source },
    { 'icecream.model_version': version, [runTags.status]: 'FINISHED' },
  );
  await mlflow.endRun(runId, 'FINISHED');
  return {
    runId,
    experimentId,
    modelName: names.registeredModel,
    version,
    artifactUri,
  };
}

function foldMetrics(folds: readonly Metrics[]): { key: string; value: number; step: number }[] {
  return folds.flatMap((m, step) => [
    { key: 'fold_mae', value: m.mae, step },
    { key: 'fold_rmse', value: m.rmse, step },
  ]);
}

/** The run's description in the MLflow UI (Markdown). */
function runNote(ctx: RunContext, experiment: ExperimentReport | null): string {
  const ev = ctx.evaluation;
  const lines = [
    `**${ctx.trained.family}** trained on ${ctx.split.trainRows} ${ctx.valid.frequency} rows (${ctx.valid.from} .. before ${ctx.split.holdoutFrom}), data md5 \`${ctx.data.md5}\`.`,
    '',
    '| | MAE | RMSE |',
    '|---|---|---|',
    `| holdout (${ctx.split.holdoutRows} rows) | ${ev.metrics.mae.toFixed(2)} | ${ev.metrics.rmse.toFixed(2)} |`,
    `| seasonal naive | ${ev.baselines.seasonalNaive.mae.toFixed(2)} | ${ev.baselines.seasonalNaive.rmse.toFixed(2)} |`,
    `| last value | ${ev.baselines.lastValue.mae.toFixed(2)} | ${ev.baselines.lastValue.rmse.toFixed(2)} |`,
  ];
  if (ev.champion)
    lines.push(
      ev.champion.metrics
        ? `| production v${ev.champion.version}, last ${ev.champion.rows} holdout rows (after its training window) | ${ev.champion.metrics.mae.toFixed(2)} | ${ev.champion.metrics.rmse.toFixed(2)} |`
        : `| production v${ev.champion.version} | not compared: ${ev.champion.insufficient ?? ''} | |`,
    );
  if (experiment) {
    lines.push(
      '',
      `Chosen by ${experiment.protocol.folds.length}-fold expanding-window CV among: ${experiment.families.map((f) => `${f.family} ${f.best ? f.best.cv.mae.toFixed(1) : 'failed'}`).join(', ')} (CV MAE).`,
    );
  }
  lines.push(
    '',
    `${(ev.coverage.nominal * 100).toFixed(0)}% interval, empirical holdout coverage ${(ev.coverage.empirical * 100).toFixed(1)}%. Temporal workflow \`${ctx.run.workflowId}\`.`,
  );
  return lines.join('\n');
}

/** Training and holdout datasets, identified by the DVC md5 of the file they come from. */
function datasetInputs(ctx: RunContext, series: Series): DatasetInputSpec[] {
  const schema = JSON.stringify({
    mlflow_colspec: [
      { type: 'string', name: 'date', required: true },
      { type: 'double', name: 'sales', required: true },
      { type: 'double', name: 'temperature', required: true },
      ...Object.keys(series.covariates).map((name) => ({ type: 'double', name, required: true })),
    ],
  });
  const source = JSON.stringify({
    uri: ctx.data.dataPath,
    dvc_file: ctx.data.dvcFile,
    md5: ctx.data.md5,
  });
  const part = (context: string, from: number, to: number): DatasetInputSpec => ({
    name: `${path.basename(ctx.data.dataPath)}#${context}`,
    digest: ctx.data.md5,
    sourceType: 'dvc',
    source,
    schema,
    profile: JSON.stringify({
      num_rows: to - from,
      from: series.dates[from],
      to: series.dates[to - 1],
      frequency: series.frequency,
    }),
    context,
  });
  return [
    part('training', 0, ctx.split.trainRows),
    part('holdout', ctx.split.trainRows, series.dates.length),
  ];
}

/** The first and last rows of the source CSV, for a look at the data in the MLflow UI. */
function dataSample(csvText: string, rows = 12): string {
  const lines = csvText.split(/\r?\n/).filter(Boolean);
  const [header = '', ...body] = lines;
  const sample = body.length <= 2 * rows ? body : [...body.slice(0, rows), ...body.slice(-rows)];
  return `${[header, ...sample].join('\n')}\n`;
}

/**
 * One nested run per model family under the pipeline run: the best configuration's params and
 * CV metrics (per fold as steps), and every trial's CV MAE (trial index as step). Skips families
 * already recorded, so a retried registration adds nothing twice.
 */
async function recordFamilyRuns(
  mlflow: MlflowClient,
  experimentId: string,
  parentRunId: string,
  report: ExperimentReport,
): Promise<void> {
  const existing = await mlflow.searchAllRuns({
    experimentIds: [experimentId],
    filter: `tags."mlflow.parentRunId" = '${parentRunId}'`,
  });
  const done = new Set(existing.map((r) => r.info?.run_name));
  for (const family of report.families) {
    if (done.has(family.family)) continue;
    const child = await mlflow.createRun({
      experimentId,
      runName: family.family,
      parentRunId,
      tags: {
        'model.family': family.family,
        chosen: String(family.family === report.chosen.family),
      },
    });
    const best = family.best;
    await mlflow.logBatch({
      runId: child.info.run_id,
      params: best
        ? {
            family: family.family,
            ...Object.fromEntries(
              Object.entries(best.params).map(([k, v]) => [`param.${k}`, String(v)]),
            ),
            features: JSON.stringify(best.features),
          }
        : { family: family.family },
      metrics: [
        ...(best ? [...metricEntries('cv_', best.cv), ...foldMetrics(best.folds)] : []),
        ...family.trials.flatMap((t, step) =>
          t.cv ? [{ key: 'trial_cv_mae', value: t.cv.mae, step }] : [],
        ),
      ],
      tags: family.error ? { error: family.error.slice(0, 4000) } : {},
    });
    await mlflow.endRun(child.info.run_id, best ? 'FINISHED' : 'FAILED');
  }
}

/** The model the `production` alias points at, or null when there is none yet. */
export async function loadProductionForecaster(
  store: ModelStore,
): Promise<{ version: string; forecaster: Forecaster } | null> {
  const model = await store.load({ alias: aliases.production });
  return model ? { version: model.ref.version, forecaster: model.forecaster } : null;
}

/**
 * The pipeline's promotion: the new version always becomes `staging`; it becomes `production`
 * when the promotion policy says it beats the current production model on the same holdout.
 * Either way the decision and its reason are recorded (version tags + registry history).
 * Safe to retry: alias moves and history entries are not repeated.
 */
export async function promoteVersion(
  mlflow: MlflowClient,
  req: {
    registered: RegisterResult;
    evaluation: EvaluateResult;
    policy: Partial<PromotionPolicy>;
    workflowId: string;
  },
  registeredModel: string,
): Promise<PromoteResult> {
  const by = `temporal:${req.workflowId}`;
  const version = req.registered.version;
  await moveAlias(mlflow, registeredModel, aliases.staging, version, {
    action: 'stage',
    by,
    reason: `registered from run ${req.registered.runId}`,
  });
  const previousVersion = (await aliasVersion(mlflow, registeredModel, aliases.production)) ?? null;
  if (previousVersion === version) {
    return {
      promoted: true,
      reason: 'already production',
      productionVersion: version,
      previousVersion: null,
    };
  }
  // a run that cannot be re-created from its references never reaches production on its own
  const run = await mlflow.getRun(req.registered.runId);
  const problems = reproducibilityProblems(fromKeyValues(run.data?.tags));
  const decision =
    problems.length > 0
      ? {
          promote: false,
          reason: `not reproducible, so never promoted automatically: ${problems.join('; ')}`,
        }
      : promotionDecision(req.evaluation, { ...defaultPromotionPolicy, ...req.policy });
  if (decision.promote) {
    await moveAlias(mlflow, registeredModel, aliases.production, version, {
      action: 'promote',
      by,
      reason: decision.reason,
    });
  } else {
    await recordEvent(mlflow, registeredModel, {
      action: 'reject',
      alias: aliases.production,
      from: previousVersion,
      to: version,
      by,
      reason: decision.reason,
    });
  }
  return {
    promoted: decision.promote,
    reason: decision.reason,
    productionVersion: decision.promote ? version : (previousVersion ?? ''),
    previousVersion,
  };
}
