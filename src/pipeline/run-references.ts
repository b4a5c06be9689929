/**
 * The references a run records so that it can be re-created and checked later: the fully resolved
 * configuration (artifact `pipeline/input.json`), whether its data file is pinned, and the digest
 * of every step's output (`icecream.step.<step>.sha256` / `.size`). `reproduce` recomputes the same
 * digests with the same functions, so the two sides cannot define them differently.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadBuildInfo, type BuildInfo } from '../config';
import type { ColumnMap } from '../data/dataset';
import type { ExperimentReport } from '../ml/experiment';
import type { ModelFamily } from '../ml';
import { stepTag } from './run-record';
import type {
  EvaluateResult,
  IngestResult,
  SplitResult,
  TrainResult,
  TrainingPipelineInput,
  ValidateResult,
} from './types';

const run = promisify(execFile);

/** The artifact holding a run's resolved configuration. */
export const runInputArtifact = 'pipeline/input.json';

/** Tags a run carries besides the provenance (see provenance.ts). */
export const referenceTags = {
  dataMd5: 'data.md5',
  dataPinned: 'data.pinned',
  dataPinnedReason: 'data.pinned_reason',
  dvcRemote: 'data.dvc_remote',
  seed: 'config.seed',
  configSha256: 'config.sha256',
  workflowId: 'temporal.workflow_id',
  reproduced: 'icecream.reproduced',
} as const;

/** The steps whose outputs are digested, in pipeline order. */
export const digestedSteps = ['ingest', 'validate', 'split', 'train', 'evaluate'] as const;
export type DigestedStep = (typeof digestedSteps)[number];

/**
 * Everything the steps need to run again, with every default resolved: nothing here depends on
 * the defaults of the code that reads it back.
 */
export interface ResolvedRunConfig {
  dataPath: string;
  dvcFile: string;
  columns: ColumnMap;
  holdout: number;
  family?: ModelFamily;
  params?: Record<string, number>;
  /** families compared by CV (absent when `family` + `params` fixed the model) */
  families?: ModelFamily[];
  budget?: number;
  folds?: number;
  seed: number;
  coverage: number;
  minImprovement?: number;
  maxPValue?: number;
}

/** JSON with object keys sorted at every level: equal values give equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

export const sha256 = (data: Buffer | string): string =>
  createHash('sha256').update(data).digest('hex');

/** The configuration a run actually used, from its input, the worker's defaults and what it did. */
export function resolveRunConfig(
  input: TrainingPipelineInput,
  columns: ColumnMap,
  data: IngestResult,
  split: SplitResult,
  trained: Pick<TrainResult, 'family' | 'params'>,
  experiment: Pick<ExperimentReport, 'families' | 'protocol'> | null,
  evaluation: Pick<EvaluateResult, 'coverage'>,
  seed: number,
): ResolvedRunConfig {
  return {
    dataPath: data.dataPath,
    dvcFile: data.dvcFile,
    columns: input.columns ?? columns,
    holdout: split.holdoutRows,
    ...(input.family ? { family: input.family } : {}),
    ...(input.family && input.params ? { params: input.params } : {}),
    ...(experiment
      ? {
          families: experiment.families.map((f) => f.family),
          budget: experiment.protocol.budget,
          folds: experiment.protocol.folds.length,
        }
      : {}),
    seed,
    coverage: evaluation.coverage.nominal,
    ...(input.minImprovement !== undefined ? { minImprovement: input.minImprovement } : {}),
    ...(input.maxPValue !== undefined ? { maxPValue: input.maxPValue } : {}),
  };
}

/** The files (or values) each digested step produced. */
export interface StepOutputs {
  /** the data file (its DVC md5 identifies it too) */
  ingest: string;
  /** series.json */
  validate: string;
  split: SplitResult;
  /** forecaster.json: the model bytes */
  train: string;
  /** evaluation.json */
  evaluate: string;
}

/** sha256 and size of every step's output, in pipeline order. */
export function stepDigests(
  outputs: StepOutputs,
): Record<DigestedStep, { sha256: string; size: number }> {
  const file = (f: string) => {
    const bytes = fs.readFileSync(f);
    return { sha256: sha256(bytes), size: bytes.length };
  };
  const split = canonicalJson(outputs.split);
  return {
    ingest: file(outputs.ingest),
    validate: file(outputs.validate),
    split: { sha256: sha256(split), size: Buffer.byteLength(split) },
    train: file(outputs.train),
    evaluate: file(outputs.evaluate),
  };
}

/**
 * Whether `dvcFile` pins the data in git: it must be tracked and unchanged against HEAD, so that
 * the commit alone says which data the run used. Never throws.
 */
export async function dataPinState(
  dvcFile: string,
  build: BuildInfo = loadBuildInfo(),
): Promise<{ pinned: boolean; reason: string }> {
  const cwd = path.dirname(dvcFile);
  const name = path.basename(dvcFile);
  const git = (args: string[]) => run('git', args, { cwd });
  // in the image there is no git to ask: the build recorded data.dvc's sha256 at the commit
  if (
    build.dataDvcSha256 &&
    !(await git(['rev-parse', '--git-dir']).then(
      () => true,
      () => false,
    ))
  ) {
    const actual = createHash('sha256').update(fs.readFileSync(dvcFile)).digest('hex');
    return actual === build.dataDvcSha256
      ? {
          pinned: true,
          reason: `${name} is the one the image was built with (sha256 ${actual.slice(0, 12)})`,
        }
      : { pinned: false, reason: `${name} differs from the one the image was built with` };
  }
  try {
    await git(['ls-files', '--error-unmatch', '--', name]);
  } catch {
    return { pinned: false, reason: `${dvcFile} is not tracked by git` };
  }
  try {
    await git(['diff', '--quiet', 'HEAD', '--', name]);
  } catch {
    return { pinned: false, reason: `${dvcFile} has uncommitted changes` };
  }
  return { pinned: true, reason: `pinned by ${name} at the recorded commit` };
}

/** The reference tags of a run: pin state, seed, config digest and step digests. */
export async function runReferenceTags(ctx: {
  data: IngestResult;
  valid: ValidateResult;
  split: SplitResult;
  trained: TrainResult;
  evaluation: EvaluateResult;
  config: ResolvedRunConfig;
}): Promise<Record<string, string>> {
  const pin = await dataPinState(ctx.data.dvcFile);
  // the pipeline's steps exchange content references: their digests are already known
  const split = canonicalJson(ctx.split);
  const digests: Record<DigestedStep, { sha256: string; size: number }> = {
    ingest: { sha256: ctx.data.sha256, size: ctx.data.size },
    validate: ctx.valid.series,
    split: { sha256: sha256(split), size: Buffer.byteLength(split) },
    train: ctx.trained.model,
    evaluate: ctx.evaluation.evaluation,
  };
  return {
    [referenceTags.dataPinned]: String(pin.pinned),
    [referenceTags.dataPinnedReason]: pin.reason,
    [referenceTags.seed]: String(ctx.config.seed),
    [referenceTags.configSha256]: sha256(canonicalJson(ctx.config)),
    ...Object.fromEntries(
      digestedSteps.flatMap((s) => [
        [stepTag(s, 'sha256'), digests[s].sha256],
        [stepTag(s, 'size'), String(digests[s].size)],
      ]),
    ),
  };
}
