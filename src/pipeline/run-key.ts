/**
 * Idempotent pipeline runs: the workflow id is derived from what determines the result (the data
 * md5, the resolved config, the code version), so asking twice for the same training joins or
 * returns the first one instead of training again. `reason` and `force` are not part of the key.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ColumnMap } from '../data/dataset';
import { availableFamilies } from '../ml';
import { canonicalJson } from './run-references';
import { defaultPromotionPolicy, defaultTraining } from './steps';
import type { TrainingPipelineInput } from './types';

export interface InputDefaults {
  dataPath: string;
  dvcFile: string;
  columns: ColumnMap;
}

/**
 * The input with every default filled in (what the run actually uses), paths relative to the
 * project root so that hosts with different checkout folders agree. Without `reason`/`force`.
 */
export function resolveInput(
  input: TrainingPipelineInput,
  defaults: InputDefaults,
  projectRoot: string,
): Record<string, unknown> {
  const rel = (p: string): string => {
    const abs = path.resolve(projectRoot, p);
    const r = path.relative(projectRoot, abs);
    return r.startsWith('..') || path.isAbsolute(r) ? abs : r;
  };
  const fixed = input.family !== undefined && input.params !== undefined;
  return {
    dataPath: rel(input.dataPath ?? defaults.dataPath),
    dvcFile: rel(input.dvcFile ?? defaults.dvcFile),
    columns: input.columns ?? defaults.columns,
    holdout: input.holdout ?? 'two seasons',
    ...(fixed
      ? { family: input.family, params: input.params }
      : {
          families: input.family ? [input.family] : (input.families ?? availableFamilies()),
          budget: input.budget ?? 20,
          folds: input.folds ?? 5,
        }),
    seed: input.seed ?? defaultTraining.seed,
    coverage: input.coverage ?? defaultTraining.coverage,
    minImprovement: input.minImprovement ?? defaultPromotionPolicy.minImprovement,
    maxPValue: input.maxPValue ?? defaultPromotionPolicy.maxPValue,
    ...(input.dataMd5 ? { dataMd5: input.dataMd5 } : {}),
  };
}

/**
 * `training-<md5 12>-<key 16>`: the data md5's prefix (to find runs of a dataset in the Temporal
 * UI) and a sha256 of the resolved input and code version.
 */
export function pipelineWorkflowId(
  dataMd5: string,
  resolved: Record<string, unknown>,
  codeVersion: string,
): string {
  const key = createHash('sha256').update(canonicalJson({ resolved, codeVersion })).digest('hex');
  return `training-${dataMd5.slice(0, 12)}-${key.slice(0, 16)}`;
}
