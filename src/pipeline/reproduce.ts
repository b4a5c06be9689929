/**
 * `icecream reproduce`: re-creates a run from what it recorded and proves it, or names exactly
 * what differs. It brings the data back by its md5 through DVC, refuses to run other code than the
 * run's unless asked (`atHead`), re-runs the steps with the recorded configuration and seed
 * (in-process, or as the `trainingPipeline` workflow on Temporal's workers, which then stops after
 * evaluate), and compares the digest of every step's output, the model bytes and the metrics. The
 * result is logged to the original run; a run that cannot be reproduced at all (unknown, data
 * in no remote, recorded before the references existed) is an error and nothing is written.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataNotInRemoteError, defaultDvcRemote, fetchByMd5 } from '../data/dvc-fetch';
import { readDvcFile, verifyDataset } from '../data/dvc';
import type { MlflowClient } from '../mlflow/client';
import { MlflowInvalidParameterError, MlflowNotFoundError } from '../mlflow/errors';
import { fromKeyValues } from '../mlflow/validation';
import type { Metrics } from '../ml';
import { bundleFiles } from '../model-store/bundle';
import { codeState, collectProvenance, provenanceTags, type ProvenanceTools } from './provenance';
import {
  canonicalJson,
  digestedSteps,
  referenceTags,
  runInputArtifact,
  sha256,
  stepDigests,
  type DigestedStep,
  type ResolvedRunConfig,
} from './run-references';
import { stepTag } from './run-record';
import { evaluateStep, splitStep, trainStep, validateStep, type TrainOptions } from './steps';
import type { ReproductionResult, TrainingPipelineInput } from './types';

/** Where reports go on the run: the verdict, and the latest what-if (`--seed`, `--data-dvc`). */
export const reproduceArtifacts = {
  report: 'reproduce/report.json',
  whatIf: 'reproduce/what-if.json',
} as const;

/** The run to reproduce: by id, by registered version, or by alias. */
export type ReproduceTarget = { runId: string } | { version: string } | { alias: string };

/** A reproduction that cannot start; the message names what is missing. Nothing was written. */
export class ReproduceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReproduceError';
  }
}

/** The kinds of input a difference is attributed to. */
export const inputKinds = ['data', 'code', 'dependencies', 'configuration', 'platform'] as const;
export type InputKind = (typeof inputKinds)[number];

export interface InputDiff {
  kind: InputKind;
  name: string;
  recorded: string | null;
  actual: string | null;
}

export interface StepComparison {
  step: DigestedStep;
  recorded: string | null;
  actual: string;
  /** null when the run did not record this step's digest */
  same: boolean | null;
}

export interface MetricComparison {
  name: string;
  recorded: number;
  actual: number;
  delta: number;
}

export interface ReproduceReport {
  format: 'icecream-reproduce-report';
  formatVersion: 1;
  runId: string;
  modelName: string | null;
  version: string | null;
  reproduced: boolean;
  /** the first step whose output differs (pipeline order), null when none */
  firstDifferingStep: DigestedStep | null;
  /** every recorded input that differs from what the re-run used */
  inputs: InputDiff[];
  steps: StepComparison[];
  model: { recorded: string; actual: string; same: boolean };
  metrics: MetricComparison[];
  /** the re-run used other code than the run's commit (`--at-head`) */
  atHead: boolean;
  /** where the steps ran again; on Temporal, the workflow and the MLflow run it recorded into */
  mode: 'in-process' | 'temporal';
  rerun?: { workflowId: string; mlflowRunId: string };
  commit: { recorded: string; actual: string };
  data: { md5: string; remote: string | null; file: string | null };
  /** what the caller changed on purpose (what-if reproductions) */
  overrides: { seed?: number; dataDvcFile?: string };
  at: string;
}

export interface ReproduceDeps {
  mlflow: MlflowClient;
  registeredModel: string;
  projectRoot: string;
  dvcBin: string;
  tools: ProvenanceTools;
  /** environment for dvc */
  env?: Readonly<Record<string, string | undefined>>;
  /** where to work (a temporary folder by default; removed afterwards) */
  workDir?: string;
  /**
   * Runs `trainingPipeline` with this input on Temporal and waits for it (a worker must serve
   * the queues); given: the steps run there instead of in-process.
   */
  temporal?: (
    input: TrainingPipelineInput,
  ) => Promise<{ workflowId: string; result: ReproductionResult }>;
}

export interface ReproduceOptions {
  /** re-run with the code of this checkout even when its commit is not the run's */
  atHead?: boolean;
  /** what-if: another seed than the recorded one */
  seed?: number;
  /** what-if: the dataset another .dvc file pins (its file next to it, or fetched by md5) */
  dataDvcFile?: string;
  /** log the report to the run (default true) */
  record?: boolean;
}

const tagsRequired = [referenceTags.dataMd5, provenanceTags.commit] as const;

async function resolveRunId(
  deps: ReproduceDeps,
  target: ReproduceTarget,
): Promise<{
  runId: string;
  version: string | null;
}> {
  const name = deps.registeredModel;
  try {
    if ('runId' in target) return { runId: target.runId, version: null };
    const mv =
      'version' in target
        ? await deps.mlflow.getModelVersion(name, target.version)
        : await deps.mlflow.getModelVersionByAlias(name, target.alias);
    if (!mv.run_id) throw new ReproduceError(`${name} v${mv.version ?? '?'} has no run`);
    return { runId: mv.run_id, version: mv.version ?? null };
  } catch (err) {
    if (err instanceof MlflowNotFoundError || err instanceof MlflowInvalidParameterError) {
      throw new ReproduceError(
        'version' in target
          ? `${name} has no version ${target.version}`
          : `${name} has no alias ${'alias' in target ? target.alias : ''}`,
        { cause: err },
      );
    }
    throw err;
  }
}

function metricsOf(prefix: string, m: Metrics | null): Record<string, number> {
  if (!m) return {};
  return Object.fromEntries(
    (['mae', 'rmse', 'mape', 'smape', 'r2'] as const).map((k) => [`${prefix}${k}`, m[k]]),
  );
}

const equalMetric = (a: number, b: number) =>
  a === b ||
  (Number.isNaN(a) && Number.isNaN(b)) ||
  Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));

/**
 * Reproduces a run and (unless `record: false`) logs the report to it: tag `icecream.reproduced`
 * (`true` / `false`) and artifact `reproduce/report.json`; a what-if (another seed or dataset)
 * only writes `reproduce/what-if.json`.
 * @throws ReproduceError for an unknown run or version, a run recorded before its references
 *   existed, another commit without `atHead`, data in no reachable remote. Nothing is written then.
 */
export async function reproduceRun(
  deps: ReproduceDeps,
  target: ReproduceTarget,
  options: ReproduceOptions = {},
): Promise<ReproduceReport> {
  const { mlflow } = deps;
  const { runId, version } = await resolveRunId(deps, target);
  let run;
  try {
    run = await mlflow.getRun(runId);
  } catch (err) {
    if (err instanceof MlflowNotFoundError || err instanceof MlflowInvalidParameterError)
      throw new ReproduceError(`MLflow has no run ${runId}`, { cause: err });
    throw err;
  }
  const tags = fromKeyValues(run.data?.tags);
  const recordedMetrics: Record<string, number> = Object.fromEntries(
    (run.data?.metrics ?? []).map((m): [string, number] => [m.key ?? '', Number(m.value)]),
  );

  // 1. the references the run must have recorded
  const missing: string[] = tagsRequired
    .filter((t) => !tags[t] || tags[t] === 'unknown')
    .map((t) => `tag ${t}`);
  const config = await mlflow
    .downloadArtifact(runId, runInputArtifact)
    .then((b) => JSON.parse(b.toString('utf8')) as ResolvedRunConfig)
    .catch((err: unknown) => {
      if (err instanceof MlflowNotFoundError || err instanceof SyntaxError) return null;
      throw err;
    });
  if (!config) missing.push(`artifact ${runInputArtifact} (the resolved configuration)`);
  const recordedModel = await mlflow
    .downloadArtifact(runId, `model/${bundleFiles.forecaster}`)
    .catch((err: unknown) => {
      if (err instanceof MlflowNotFoundError) return null;
      throw err;
    });
  if (!recordedModel) missing.push(`artifact model/${bundleFiles.forecaster} (the model)`);
  if (missing.length || !config || !recordedModel) {
    throw new ReproduceError(
      `run ${runId} cannot be reproduced: it was recorded before these references existed (missing ${missing.join(', ')})`,
    );
  }

  // 2. the code: never another commit silently
  const here = await codeState(deps.projectRoot);
  const recordedCommit = tags[provenanceTags.commit] ?? 'unknown';
  if (here.commit !== recordedCommit && !options.atHead) {
    throw new ReproduceError(
      `run ${runId} was trained at commit ${recordedCommit}; this checkout is at ${here.commit}. ` +
        `Check out ${recordedCommit.slice(0, 12)} and run again, or pass --at-head to re-run with this code and report the difference`,
    );
  }

  // 3. the data, by md5, from a DVC remote (or the what-if dataset)
  const work = deps.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-reproduce-'));
  try {
    const recordedMd5 = tags[referenceTags.dataMd5]!;
    let dataFile: string;
    let usedMd5 = recordedMd5;
    let remote: string | null = null;
    const remotes = async () => [
      ...new Set(
        [
          tags[referenceTags.dvcRemote],
          await defaultDvcRemote(deps.dvcBin, deps.projectRoot, deps.env),
        ].filter((r): r is string => !!r && r !== 'unknown' && r !== 'none'),
      ),
    ];
    const fileName = path.basename(config.dataPath) || 'data.csv';
    const fetchData = async (md5: string): Promise<string> => {
      const got = await fetchByMd5(
        deps.dvcBin,
        md5,
        await remotes(),
        path.join(work, 'data'),
        fileName,
        deps.env,
      );
      remote = got.remote;
      return got.path;
    };
    if (options.dataDvcFile) {
      const ref = readDvcFile(options.dataDvcFile);
      usedMd5 = ref.md5;
      if (fs.existsSync(ref.path)) {
        dataFile = (await verifyDataset(ref.path, options.dataDvcFile)).path;
      } else {
        dataFile = await fetchData(ref.md5);
      }
    } else {
      try {
        dataFile = await fetchData(recordedMd5);
      } catch (err) {
        if (err instanceof DataNotInRemoteError)
          throw new ReproduceError(err.message, { cause: err });
        throw err;
      }
    }

    // 4. the steps again, with the recorded configuration (and the what-if seed)
    const used: ResolvedRunConfig = {
      ...config,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    };
    const rerun = deps.temporal
      ? await rerunOnTemporal(deps, runId, used, usedMd5, options.dataDvcFile)
      : await rerunInProcess(deps, used, dataFile, path.join(work, 'steps'));
    const { digests } = rerun;

    // 5. compare: steps, model bytes, metrics
    const steps: StepComparison[] = digestedSteps.map((step) => {
      const recorded = tags[stepTag(step, 'sha256')] ?? null;
      const actual = digests[step];
      return { step, recorded, actual, same: recorded === null ? null : recorded === actual };
    });
    // the data's identity is its md5 even when the run predates the step digests
    if (steps[0] && steps[0].recorded === null && usedMd5 !== recordedMd5) steps[0].same = false;
    const model = {
      recorded: sha256(recordedModel),
      actual: digests.train,
      same: sha256(recordedModel) === digests.train,
    };
    const metrics: MetricComparison[] = Object.entries(rerun.metrics)
      .filter(([k]) => recordedMetrics[k] !== undefined)
      .map(([name, actual]) => ({
        name,
        recorded: recordedMetrics[name]!,
        actual,
        delta: actual - recordedMetrics[name]!,
      }));
    let firstDifferingStep: DigestedStep | null = steps.find((s) => s.same === false)?.step ?? null;
    if (!firstDifferingStep && !model.same) firstDifferingStep = 'train';
    if (!firstDifferingStep && metrics.some((m) => !equalMetric(m.recorded, m.actual)))
      firstDifferingStep = 'evaluate';

    // 6. which inputs differ (on Temporal: the code and platform of the workers that ran it)
    const now = rerun.provenance;
    const actualCommit = now[provenanceTags.commit] ?? here.commit;
    const inputs: InputDiff[] = [];
    const add = (
      kind: InputKind,
      name: string,
      recorded: string | undefined,
      actual: string | undefined,
    ) => {
      if ((recorded ?? null) !== (actual ?? null))
        inputs.push({ kind, name, recorded: recorded ?? null, actual: actual ?? null });
    };
    add('data', 'md5', recordedMd5, usedMd5);
    add('code', 'commit', recordedCommit, actualCommit);
    add(
      'code',
      'uncommitted changes (diff sha256)',
      tags[provenanceTags.diffSha256],
      now[provenanceTags.diffSha256],
    );
    add(
      'dependencies',
      'package-lock.json sha256',
      tags[provenanceTags.packageLock],
      now[provenanceTags.packageLock],
    );
    add(
      'dependencies',
      'python-tools.lock sha256',
      tags[provenanceTags.pythonToolsLock],
      now[provenanceTags.pythonToolsLock],
    );
    add(
      'dependencies',
      'Temporal SDK',
      tags[provenanceTags.temporalSdk],
      now[provenanceTags.temporalSdk],
    );
    add('platform', 'Node', tags[provenanceTags.node], now[provenanceTags.node]);
    add('platform', 'os-arch', tags[provenanceTags.platform], now[provenanceTags.platform]);
    const keys = [...new Set([...Object.keys(config), ...Object.keys(used)])]
      .filter((k) => k !== 'dataPath' && k !== 'dvcFile')
      .sort();
    for (const k of keys) {
      const a = (config as unknown as Record<string, unknown>)[k];
      const b = (used as unknown as Record<string, unknown>)[k];
      add(
        'configuration',
        k,
        a === undefined ? undefined : canonicalJson(a),
        b === undefined ? undefined : canonicalJson(b),
      );
    }

    const report: ReproduceReport = {
      format: 'icecream-reproduce-report',
      formatVersion: 1,
      runId,
      modelName: version ? deps.registeredModel : null,
      version,
      reproduced: firstDifferingStep === null,
      firstDifferingStep,
      inputs,
      steps,
      model,
      metrics,
      atHead: actualCommit !== recordedCommit,
      mode: deps.temporal ? 'temporal' : 'in-process',
      ...(rerun.workflowId && rerun.mlflowRunId
        ? { rerun: { workflowId: rerun.workflowId, mlflowRunId: rerun.mlflowRunId } }
        : {}),
      commit: { recorded: recordedCommit, actual: actualCommit },
      data: { md5: usedMd5, remote, file: options.dataDvcFile ? dataFile : null },
      overrides: {
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...(options.dataDvcFile ? { dataDvcFile: options.dataDvcFile } : {}),
      },
      at: new Date().toISOString(),
    };

    // 7. the result goes to the original run; a what-if run is kept apart and sets no verdict
    if (options.record !== false) {
      const whatIf = Object.keys(report.overrides).length > 0;
      await mlflow.uploadArtifact(
        runId,
        whatIf ? reproduceArtifacts.whatIf : reproduceArtifacts.report,
        `${JSON.stringify(report, null, 2)}\n`,
      );
      if (!whatIf) await mlflow.setTag(runId, referenceTags.reproduced, String(report.reproduced));
    }
    return report;
  } finally {
    if (!deps.workDir) fs.rmSync(work, { recursive: true, force: true });
  }
}

/** What a re-run produced: every step's sha256, the metrics, and where it ran (provenance tags). */
interface Rerun {
  digests: Record<DigestedStep, string>;
  metrics: Record<string, number>;
  provenance: Record<string, string>;
  workflowId?: string;
  mlflowRunId?: string;
}

function metricsOfRun(r: {
  metrics: Metrics;
  baselines: { lastValue: Metrics; seasonalNaive: Metrics };
  coverage: { empirical: number };
  cv: Metrics | null;
}): Record<string, number> {
  return {
    ...metricsOf('holdout_', r.metrics),
    ...metricsOf('baseline_last_value_', r.baselines.lastValue),
    ...metricsOf('baseline_seasonal_naive_', r.baselines.seasonalNaive),
    holdout_interval_coverage: r.coverage.empirical,
    ...metricsOf('cv_', r.cv),
  };
}

/** The training part of a resolved configuration, as the steps and the workflow take it. */
function trainingOptions(used: ResolvedRunConfig): TrainOptions {
  return {
    ...(used.family ? { family: used.family } : {}),
    ...(used.params ? { params: used.params } : {}),
    ...(used.families ? { families: used.families } : {}),
    ...(used.budget !== undefined ? { budget: used.budget } : {}),
    ...(used.folds !== undefined ? { folds: used.folds } : {}),
    seed: used.seed,
    coverage: used.coverage,
  };
}

/** The steps in this process, with the same functions the activities run. */
async function rerunInProcess(
  deps: ReproduceDeps,
  used: ResolvedRunConfig,
  dataFile: string,
  out: string,
): Promise<Rerun> {
  const valid = await validateStep(dataFile, used.columns, out);
  const split = splitStep(valid.seriesFile, used.holdout);
  const trained = trainStep(valid.seriesFile, split, trainingOptions(used), out);
  const evaluation = evaluateStep(valid.seriesFile, split, trained.modelFile, out);
  const digests = stepDigests({
    ingest: dataFile,
    validate: valid.seriesFile,
    split,
    train: trained.modelFile,
    evaluate: evaluation.evaluationFile,
  });
  return {
    digests: Object.fromEntries(
      digestedSteps.map((s) => [s, digests[s].sha256]),
    ) as Rerun['digests'],
    metrics: metricsOfRun({ ...evaluation, cv: trained.cv }),
    provenance: await collectProvenance(deps.projectRoot, 'icecream reproduce', deps.tools),
  };
}

/**
 * The `trainingPipeline` workflow with the recorded configuration, the data by its md5 and
 * `reproduces` set (it stops after evaluate); the step digests and provenance come from the
 * MLflow run it recorded into, written by the same activities as the original's.
 */
async function rerunOnTemporal(
  deps: ReproduceDeps,
  runId: string,
  used: ResolvedRunConfig,
  dataMd5: string,
  dataDvcFile: string | undefined,
): Promise<Rerun> {
  // a what-if dataset: the file its .dvc pins (absolute: the workers on this host read it)
  const whatIf = dataDvcFile ? readDvcFile(dataDvcFile) : null;
  const { workflowId, result } = await deps.temporal!({
    dataPath: whatIf ? whatIf.path : used.dataPath,
    dvcFile: whatIf ? whatIf.dvcFile : used.dvcFile,
    dataMd5,
    columns: used.columns,
    holdout: used.holdout,
    ...trainingOptions(used),
    reproduces: runId,
    reason: `icecream reproduce ${runId}`,
  });
  const rerunTags = fromKeyValues((await deps.mlflow.getRun(result.mlflowRunId)).data?.tags);
  const digests = Object.fromEntries(
    digestedSteps.map((s) => [s, rerunTags[stepTag(s, 'sha256')] ?? '(not recorded)']),
  ) as Rerun['digests'];
  return {
    digests,
    metrics: metricsOfRun(result),
    provenance: rerunTags,
    workflowId,
    mlflowRunId: result.mlflowRunId,
  };
}

const short = (v: string | null) =>
  v === null ? '(none)' : /^[0-9a-f]{32,64}$/.test(v) ? v.slice(0, 12) : v;

/** The report for a terminal. */
export function formatReproduceReport(r: ReproduceReport): string {
  const out = [
    `run ${r.runId}${r.version ? ` (${r.modelName} v${r.version})` : ''}: commit ${short(r.commit.recorded)}, data md5 ${r.data.md5}${r.data.remote ? ` fetched from ${r.data.remote}` : ''}`,
  ];
  if (r.rerun)
    out.push(
      `re-run on Temporal: workflow ${r.rerun.workflowId}, MLflow run ${r.rerun.mlflowRunId}`,
    );
  if (r.atHead)
    out.push(
      `re-run AT HEAD: commit ${short(r.commit.actual)} instead of ${short(r.commit.recorded)}`,
    );
  if (r.overrides.seed !== undefined || r.overrides.dataDvcFile)
    out.push(`what-if: ${JSON.stringify(r.overrides)}`);
  out.push('', 'step       recorded       re-run');
  for (const s of r.steps)
    out.push(
      `${s.step.padEnd(10)} ${short(s.recorded).padEnd(14)} ${short(s.actual).padEnd(14)} ${s.same === null ? 'not recorded' : s.same ? 'same' : 'DIFFERS'}`,
    );
  out.push(
    `model      ${short(r.model.recorded).padEnd(14)} ${short(r.model.actual).padEnd(14)} ${r.model.same ? 'same bytes' : 'DIFFERS'}`,
  );
  const moved = r.metrics.filter((m) => !equalMetric(m.recorded, m.actual));
  out.push('', moved.length ? 'metrics that moved:' : `metrics: all ${r.metrics.length} equal`);
  for (const m of moved)
    out.push(
      `  ${m.name.padEnd(28)} ${m.recorded.toFixed(4)} -> ${m.actual.toFixed(4)} (${m.delta >= 0 ? '+' : ''}${m.delta.toFixed(4)})`,
    );
  if (r.inputs.length) {
    out.push('', 'inputs that differ from the recorded ones:');
    for (const i of r.inputs)
      out.push(`  ${i.kind.padEnd(13)} ${i.name}: ${short(i.recorded)} -> ${short(i.actual)}`);
  }
  out.push(
    '',
    r.reproduced
      ? 'reproduced'
      : `NOT reproduced: first differing step ${r.firstDifferingStep ?? '?'}${r.inputs.length ? `; differing inputs: ${[...new Set(r.inputs.map((i) => i.kind))].join(', ')}` : ''}`,
  );
  return `${out.join('\n')}\n`;
}
