import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { parseDataset, type ColumnMap } from '../data/dataset';
import type { Dvc } from '../data/dvc';
import type { MlflowClient } from '../mlflow/client';
import { ModelStore } from '../model-store/store';
import { publishModelCard } from '../pipeline/model-card-record';
import { ArtifactStore, DigestCache } from '../pipeline/content-store';
import { DatasetSource } from '../pipeline/dataset-source';
import {
  loadProductionForecaster,
  promoteVersion,
  recordTrainingRun,
  type RunContext,
} from '../pipeline/record';
import { closeRun, openRun, recordStep, type RunEndStatus } from '../pipeline/run-record';
import { resolveInput } from '../pipeline/run-key';
import { canonicalJson } from '../pipeline/run-references';
import { seriesFromJson, seriesToJson } from '../data/series-file';
import {
  describeSeries,
  evaluateSeries,
  evaluationJson,
  planTraining,
  splitSeries,
  type TrialChunk,
} from '../pipeline/steps';
import { runOnThread } from '../pipeline/train-thread';
import type { ExperimentPlan } from '../ml/experiment';
import type { Trial } from '../ml/search';
import type {
  ContentRef,
  EvaluateResult,
  IngestResult,
  PromoteResult,
  RegisterResult,
  RunRef,
  SplitResult,
  TrainResult,
  TrainingPipelineInput,
  TrainingPlan,
  TrialsResult,
  ValidateResult,
} from '../pipeline/types';
import { classify } from './classify';

/** What the activities need from the process that hosts them. */
export interface ActivityDeps {
  /** Defaults for fields the workflow input leaves out. */
  defaults: { dataPath: string; dvcFile: string; columns: ColumnMap };
  /** Relative data paths in the input are resolved against this folder. */
  projectRoot: string;
  /** This worker's digest-keyed cache of data and step outputs (bounded, evicted). */
  cacheDir: string;
  cacheMaxBytes: number;
  /** The `dvc` CLI, to fetch data by md5 from the DVC remote; undefined: workspace and cache only. */
  dvc: Dvc | undefined;
  mlflow: MlflowClient;
  experimentName: string;
  registeredModel: string;
  /** Facts recorded on every run (git commit, lockfile hashes, Node version...). */
  provenance: () => Promise<Record<string, string>>;
}

/** Heartbeats `details()` every few seconds while `run` runs, so cancellation reaches it. */
async function withHeartbeat<T>(details: () => unknown, run: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat(details());
  const timer = setInterval(() => ctx.heartbeat(details()), 3000);
  try {
    return await run();
  } finally {
    clearInterval(timer);
  }
}

/**
 * The pipeline's activities: thin adapters that take and return references (digests and URIs),
 * read their inputs through the content store (verified), compute through pipeline/steps.ts and
 * record every output on the MLflow run. Retryability is decided once, in `classify`.
 */
export function createActivities(deps: ActivityDeps) {
  const cache = new DigestCache(path.join(deps.cacheDir, 'objects'), deps.cacheMaxBytes);
  const store = new ArtifactStore(deps.mlflow, cache);
  const datasets = new DatasetSource(deps.projectRoot, cache, deps.dvc);
  const models = new ModelStore(
    deps.mlflow,
    deps.registeredModel,
    path.join(deps.cacheDir, 'models'),
  );
  const readSeriesRef = async (ref: ContentRef) =>
    seriesFromJson(JSON.parse(await store.getText(ref)) as Parameters<typeof seriesFromJson>[0]);

  return {
    /**
     * First step: opens the MLflow run (RUNNING) with this worker's provenance and the resolved
     * input, so every attempt is visible in MLflow from its start.
     */
    async openRun(req: {
      workflowId: string;
      runId: string;
      input: TrainingPipelineInput;
    }): Promise<RunRef> {
      return classify('ingest', async () =>
        openRun(
          deps.mlflow,
          {
            ...req,
            resolved: resolveInput(req.input, deps.defaults, deps.projectRoot),
            provenance: await deps.provenance(),
          },
          deps.experimentName,
        ),
      );
    },

    /**
     * The dataset's md5 from its .dvc pin; the bytes are made available on this worker (cache,
     * workspace, DVC remote) and verified. A workspace file that differs from the pin names both hashes.
     */
    async ingestDataset(req: { run: RunRef; input: TrainingPipelineInput }): Promise<IngestResult> {
      return classify('ingest', async () => {
        const data = await datasets.pin(
          req.input.dataPath ?? deps.defaults.dataPath,
          req.input.dvcFile ?? deps.defaults.dvcFile,
          req.input.dataMd5,
        );
        await recordStep(
          deps.mlflow,
          req.run,
          'ingest',
          {
            md5: data.md5,
            sha256: data.sha256,
            size: data.size,
            uri: `dvc:${data.dvcFile}#md5=${data.md5}`,
          },
          { 'data.md5': data.md5, 'data.path': data.dataPath, 'data.dvc_file': data.dvcFile },
        );
        return data;
      });
    },

    /** Reads the data by its md5 (re-checked), validates it, stores the series (sha256). */
    async validateDataset(req: {
      run: RunRef;
      data: IngestResult;
      columns: ColumnMap | undefined;
    }): Promise<ValidateResult> {
      return classify('validate', async () => {
        const csv = fs.readFileSync(await datasets.file(req.data), 'utf8');
        const series = parseDataset(csv, req.columns ?? deps.defaults.columns, req.data.dataPath);
        const ref = await store.put(
          req.run.artifactUri,
          'pipeline/validate/series.json',
          Buffer.from(`${JSON.stringify(seriesToJson(series))}\n`),
        );
        await recordStep(deps.mlflow, req.run, 'validate', ref);
        return { series: ref, ...describeSeries(series) };
      });
    },

    async splitDataset(req: {
      run: RunRef;
      series: ContentRef;
      holdout: number | undefined;
    }): Promise<SplitResult> {
      return classify('split', async () => {
        const split = splitSeries(await readSeriesRef(req.series), req.holdout);
        const ref = await store.put(
          req.run.artifactUri,
          'pipeline/split/split.json',
          Buffer.from(canonicalJson(split)), // the bytes reproduce digests (run-references.ts)
        );
        await recordStep(deps.mlflow, req.run, 'split', ref);
        return split;
      });
    },

    /**
     * Plans the model search (folds and every family's candidates, stored as
     * `pipeline/train/plan.json`) and cuts it into chunks of trials for `runTrials`. No plan when
     * the input fixes the configuration.
     */
    async planTraining(req: {
      run: RunRef;
      series: ContentRef;
      split: SplitResult;
      input: TrainingPipelineInput;
    }): Promise<TrainingPlan> {
      return classify('train', async () => {
        const planned = planTraining(await readSeriesRef(req.series), req.split, req.input);
        if (!planned) return { plan: null, chunks: [], total: 0 };
        const plan = await store.put(
          req.run.artifactUri,
          'pipeline/train/plan.json',
          Buffer.from(`${JSON.stringify(planned.plan)}\n`),
        );
        return { plan, chunks: planned.chunks, total: planned.total };
      });
    },

    /**
     * One chunk of the search's trials (CV of each candidate) on a worker thread, heartbeating;
     * a cancelled or timed-out attempt terminates the thread. Stores the trials' results.
     */
    async runTrials(req: {
      run: RunRef;
      series: ContentRef;
      split: SplitResult;
      plan: ContentRef;
      chunk: TrialChunk;
    }): Promise<TrialsResult> {
      return classify('train', async () => {
        const series = await readSeriesRef(req.series);
        const plan = JSON.parse(await store.getText(req.plan)) as ExperimentPlan;
        let progress: unknown = { stage: `trials of ${req.chunk.family}`, done: 0 };
        const trials = await withHeartbeat(
          () => progress,
          () =>
            runOnThread(
              series,
              { kind: 'trials', split: req.split, plan, chunk: req.chunk },
              (p) => (progress = p),
              Context.current().cancellationSignal,
            ),
        );
        const { family, from, to } = req.chunk;
        const ref = await store.put(
          req.run.artifactUri,
          `pipeline/train/trials/${family}-${from}-${to}.json`,
          Buffer.from(`${JSON.stringify(trials)}\n`),
        );
        let best: TrialsResult['best'] = null;
        for (const t of trials)
          if (t.cv && (!best || t.cv.mae < best.cvMae))
            best = { family, params: t.params, cvMae: t.cv.mae };
        return { trials: ref, count: trials.length, best };
      });
    },

    /**
     * The final model from the trials (or the fixed configuration): chosen family, interval from
     * its CV residuals, fitted on every training row. Stores forecaster.json and the selection
     * report; byte-identical to training in one process with the same seed.
     */
    async fitFinal(req: {
      run: RunRef;
      series: ContentRef;
      split: SplitResult;
      input: TrainingPipelineInput;
      plan: ContentRef | null;
      /** the chunks' trials, in any order */
      trials: { chunk: TrialChunk; trials: ContentRef }[];
    }): Promise<TrainResult> {
      return classify('train', async () => {
        const series = await readSeriesRef(req.series);
        const plan = req.plan
          ? (JSON.parse(await store.getText(req.plan)) as ExperimentPlan)
          : null;
        const byFamily: Trial[][] = (plan?.families ?? []).map(() => []);
        // each family's trials in candidate order, whatever order the chunks ran in
        const parts = [...req.trials].sort((a, b) => a.chunk.from - b.chunk.from);
        for (const part of parts) {
          const i = plan?.families.findIndex((f) => f.family === part.chunk.family) ?? -1;
          byFamily[i]?.push(...(JSON.parse(await store.getText(part.trials)) as Trial[]));
        }
        const trained = await withHeartbeat(
          () => ({ stage: 'fitting the chosen model' }),
          () =>
            runOnThread(
              series,
              { kind: 'final', split: req.split, options: req.input, plan, trials: byFamily },
              () => undefined,
              Context.current().cancellationSignal,
            ),
        );
        const model = await store.put(
          req.run.artifactUri,
          'pipeline/train/forecaster.json',
          Buffer.from(trained.forecasterText),
        );
        const experiment = trained.experimentText
          ? await store.put(
              req.run.artifactUri,
              'pipeline/train/experiment.json',
              Buffer.from(trained.experimentText),
            )
          : null;
        await recordStep(deps.mlflow, req.run, 'train', model);
        const { family, params, checksum, cv } = trained;
        return { model, experiment, family, params, checksum, cv };
      });
    },

    /** Holdout metrics, baselines, and the production model on the rows after its training window. */
    async evaluateModel(req: {
      run: RunRef;
      series: ContentRef;
      split: SplitResult;
      model: ContentRef;
    }): Promise<EvaluateResult> {
      return classify('evaluate', async () =>
        withHeartbeat(
          () => 'evaluating',
          async () => {
            {
              // the production bundle, fetched by digest into this worker's model cache, verified
              const champion = await loadProductionForecaster(models);
              const { report, champion: comparison } = evaluateSeries(
                await readSeriesRef(req.series),
                req.split,
                await store.getText(req.model),
                champion,
              );
              const evaluation = await store.put(
                req.run.artifactUri,
                'pipeline/evaluate/evaluation.json',
                Buffer.from(evaluationJson(report)),
              );
              await recordStep(deps.mlflow, req.run, 'evaluate', evaluation);
              return {
                evaluation,
                metrics: report.metrics,
                baselines: report.baselines,
                coverage: report.coverage,
                champion: comparison,
              };
            }
          },
        ),
      );
    },

    /** Logs the results on the run and registers its model version (idempotent across retries). */
    async registerModel(
      req: Omit<
        RunContext,
        | 'workDir'
        | 'provenance'
        | 'series'
        | 'forecasterText'
        | 'experimentText'
        | 'evaluationText'
        | 'csvText'
        | 'columns'
      >,
    ): Promise<RegisterResult> {
      return classify('register', async () => {
        const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-register-'));
        try {
          return await recordTrainingRun(
            deps.mlflow,
            {
              ...req,
              workDir,
              columns: req.input.columns ?? deps.defaults.columns,
              provenance: await deps.provenance(),
              series: await readSeriesRef(req.valid.series),
              forecasterText: await store.getText(req.trained.model),
              experimentText: req.trained.experiment
                ? await store.getText(req.trained.experiment)
                : null,
              evaluationText: await store.getText(req.evaluation.evaluation),
              csvText: fs.readFileSync(await datasets.file(req.data), 'utf8'),
            },
            { experimentName: deps.experimentName, registeredModel: deps.registeredModel },
          );
        } finally {
          fs.rmSync(workDir, { recursive: true, force: true });
        }
      });
    },

    /** Moves the `production` alias to the new version when it beats the current one. */
    async promoteModel(
      req: { run: RunRef } & Parameters<typeof promoteVersion>[1],
    ): Promise<PromoteResult> {
      return classify('promote', async () => {
        const promoted = await promoteVersion(deps.mlflow, req, deps.registeredModel);
        // the card states the decision, so it is written once the decision is known
        await publishModelCard(deps.mlflow, deps.registeredModel, req.registered.version);
        return promoted;
      });
    },

    /** Ends the pipeline's MLflow run FAILED (with the error) or KILLED; no run: nothing to do. */
    async closeRun(req: {
      runId: string;
      status: RunEndStatus;
      error?: string;
    }): Promise<string | null> {
      return classify('close', () => closeRun(deps.mlflow, req, deps.experimentName));
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
