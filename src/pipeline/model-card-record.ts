/**
 * Reading a version's run back from MLflow into a `RunSummary`, and publishing its model card:
 * `model_card.md` and `model_card.json` as run artifacts, the Markdown as the version's
 * description in the registry.
 */
import type { MlflowClient } from '../mlflow/client';
import { MlflowNotFoundError } from '../mlflow/errors';
import type { ModelVersion } from '../mlflow/types';
import { fromKeyValues } from '../mlflow/validation';
import type { ErrorAnalysis } from '../ml/analysis';
import { bundleFiles } from '../model-store/bundle';
import { buildModelCard, renderModelCard, type ModelCard, type RunSummary } from './model-card';
import { modelArtifactPath } from '../model-store/publish';
import { RegistryActionError } from './registry';
import { runInputArtifact } from './run-references';

export const modelCardArtifacts = { markdown: 'model_card.md', json: 'model_card.json' } as const;

// MLflow stores a version's description in a 5000-character column
const maxDescription = 5000;

async function optionalJson<T>(
  mlflow: MlflowClient,
  runId: string,
  rel: string,
): Promise<T | null> {
  try {
    return JSON.parse((await mlflow.downloadArtifact(runId, rel)).toString('utf8')) as T;
  } catch (err) {
    if (err instanceof MlflowNotFoundError || err instanceof SyntaxError) return null;
    throw err;
  }
}

/**
 * Everything the card needs, read from the registry and the version's run.
 * @throws RegistryActionError for an unknown version or a version without a run
 */
export async function loadRunSummary(
  mlflow: MlflowClient,
  name: string,
  version: string,
): Promise<RunSummary> {
  let mv: ModelVersion;
  try {
    mv = await mlflow.getModelVersion(name, version);
  } catch (err) {
    if (err instanceof MlflowNotFoundError)
      throw new RegistryActionError(`${name} has no version ${version}`);
    throw err;
  }
  const runId = mv.run_id;
  if (!runId) throw new RegistryActionError(`${name} v${version} was not registered from a run`);
  const [run, model] = await Promise.all([mlflow.getRun(runId), mlflow.getRegisteredModel(name)]);
  const params = Object.fromEntries((run.data?.params ?? []).map((p) => [p.key, p.value]));
  const metrics: Record<string, number> = Object.fromEntries(
    (run.data?.metrics ?? []).map((m): [string, number] => [m.key ?? '', Number(m.value)]),
  );
  const [config, forecaster, history, selection] = await Promise.all([
    optionalJson<Record<string, unknown>>(mlflow, runId, runInputArtifact),
    optionalJson<{ forecaster?: { featureNames?: string[]; interval?: { byHorizon?: number[] } } }>(
      mlflow,
      runId,
      `${modelArtifactPath}/${bundleFiles.forecaster}`,
    ),
    optionalJson<{ dates: string[]; temperature: number[] }>(
      mlflow,
      runId,
      `${modelArtifactPath}/${bundleFiles.history}`,
    ),
    optionalJson<{ errorAnalysis?: ErrorAnalysis }>(
      mlflow,
      runId,
      'evaluation/model-selection.json',
    ),
  ]);
  let training: RunSummary['training'] = null;
  const trainRows = Number(params.train_rows);
  if (history && Number.isInteger(trainRows) && trainRows > 0) {
    const temps = history.temperature.slice(0, trainRows);
    training = {
      from: history.dates[0] ?? '',
      to: history.dates[trainRows - 1] ?? '',
      rows: trainRows,
      minTemp: Math.min(...temps),
      maxTemp: Math.max(...temps),
    };
  }
  return {
    modelName: name,
    version,
    runId,
    aliases: (model.aliases ?? []).filter((a) => a.version === version).map((a) => a.alias ?? ''),
    params,
    metrics,
    tags: fromKeyValues(run.data?.tags),
    versionTags: fromKeyValues(mv.tags),
    config,
    featureNames: forecaster?.forecaster?.featureNames ?? null,
    intervalByHorizon: forecaster?.forecaster?.interval?.byHorizon ?? null,
    training,
    errorAnalysis: selection?.errorAnalysis ?? null,
  };
}

/**
 * Builds the card from what the run recorded and logs it: artifacts `model_card.md` and
 * `model_card.json` on the run, the Markdown as the version's description. Idempotent.
 */
export async function publishModelCard(
  mlflow: MlflowClient,
  name: string,
  version: string,
): Promise<{ card: ModelCard; markdown: string }> {
  const summary = await loadRunSummary(mlflow, name, version);
  const card = buildModelCard(summary);
  const markdown = renderModelCard(card);
  await mlflow.uploadArtifact(summary.runId, modelCardArtifacts.markdown, Buffer.from(markdown));
  await mlflow.uploadArtifact(
    summary.runId,
    modelCardArtifacts.json,
    Buffer.from(`${JSON.stringify(card, null, 2)}\n`),
  );
  const description =
    markdown.length <= maxDescription
      ? markdown
      : `${markdown.slice(0, maxDescription - 80)}\n\n(cut: the whole card is the run's ${modelCardArtifacts.markdown})\n`;
  await mlflow.updateModelVersion(name, version, description);
  return { card, markdown };
}

/**
 * The card logged with a version; when none was logged yet (a version registered before cards
 * existed), one built now from what its run recorded, marked `logged: false`.
 */
export async function readModelCard(
  mlflow: MlflowClient,
  name: string,
  version: string,
): Promise<{ card: ModelCard; markdown: string; logged: boolean }> {
  const summary = await loadRunSummary(mlflow, name, version);
  const [json, md] = await Promise.all([
    optionalJson<ModelCard>(mlflow, summary.runId, modelCardArtifacts.json),
    mlflow
      .downloadArtifact(summary.runId, modelCardArtifacts.markdown)
      .then((b) => b.toString('utf8'))
      .catch((err: unknown) => {
        if (err instanceof MlflowNotFoundError) return null;
        throw err;
      }),
  ]);
  if (json && md) return { card: json, markdown: md, logged: true };
  const card = buildModelCard(summary);
  return { card, markdown: renderModelCard(card), logged: false };
}
