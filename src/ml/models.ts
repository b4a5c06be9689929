import { fitRandomForest } from './forest';
import { fitGradientBoosting } from './gbm';
import { fitLinear, linearModelFromJson } from './linear';
import { fitDecisionTree } from './tree';
import { treeModelFromJson } from './tree-json';
import type { Matrix, ModelJson, Regressor } from './matrix';
import { MODEL_FAMILIES, type ModelFamily } from './types';

/** Thrown for a model family or JSON kind the engine cannot build (yet). */
export class ModelUnavailableError extends Error {
  constructor(readonly family: string) {
    super(`model family "${family}" is not available yet`);
    this.name = 'ModelUnavailableError';
  }
}

type Fit = (X: Matrix, y: Float64Array, params: Record<string, number>, seed: number) => Regressor;

/** One line per family: how to fit it. Parameter names follow the family's own options. */
const FITTERS: Partial<Record<ModelFamily, Fit>> = {
  ridge: (X, y, p) => fitLinear('ridge', X, y, p),
  lasso: (X, y, p) => fitLinear('lasso', X, y, p),
  elasticnet: (X, y, p) => fitLinear('elasticnet', X, y, p),
  tree: (X, y, p, seed) =>
    fitDecisionTree(X, y, {
      ...pick(p, ['maxDepth', 'minSamplesLeaf', 'minSamplesSplit', 'maxFeatures']),
      seed,
    }),
  forest: (X, y, p, seed) =>
    fitRandomForest(X, y, {
      ...pick(p, ['nTrees', 'maxDepth', 'minSamplesLeaf', 'minSamplesSplit', 'maxFeatures']),
      seed,
    }),
  // earlyStopping: 1 on, 0 off, absent = 'auto' (scikit-learn's: on above 10,000 rows)
  gbm: (X, y, p, seed) =>
    fitGradientBoosting(X, y, {
      ...pick(p, [
        'maxIter',
        'learningRate',
        'maxLeafNodes',
        'maxDepth',
        'minSamplesLeaf',
        'l2',
        'validationFraction',
        'nIterNoChange',
      ]),
      ...(p.earlyStopping !== undefined ? { earlyStopping: p.earlyStopping > 0 } : {}),
      seed,
    }),
};

/** Copies the named numeric params that are present (a family ignores the others). */
function pick(params: Record<string, number>, names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) if (params[n] !== undefined) out[n] = params[n];
  return out;
}

/** One line per JSON kind: how to rebuild it. */
const READERS: Record<string, (json: ModelJson) => Regressor> = {
  linear: linearModelFromJson,
  tree: treeModelFromJson,
  forest: treeModelFromJson,
  gbm: treeModelFromJson,
};

/** Families whose fitter is wired in (the others throw ModelUnavailableError). */
export function availableFamilies(): ModelFamily[] {
  return MODEL_FAMILIES.filter((f) => FITTERS[f] !== undefined);
}

/**
 * Fits a model of the given family. Deterministic for (X, y, params, seed).
 * Throws ModelUnavailableError for a family not wired in, RangeError for bad shapes.
 */
export function fitModel(
  family: ModelFamily,
  X: Matrix,
  y: Float64Array,
  params: Record<string, number>,
  seed: number,
): Regressor {
  const fit = FITTERS[family];
  if (!fit) throw new ModelUnavailableError(family);
  return fit(X, y, params, seed);
}

/** Rebuilds a fitted model from its JSON; throws ModelUnavailableError for an unknown kind. */
export function modelFromJson(json: ModelJson): Regressor {
  const read = READERS[json.kind];
  if (!read) throw new ModelUnavailableError(json.kind);
  return read(json);
}
