/**
 * Random forest regressor: bootstrap-aggregated least-squares trees grown on binned features.
 * Defaults follow scikit-learn's RandomForestRegressor (100 trees, all features per split,
 * bootstrap, fully grown). Bootstrap draws are integer row weights, never copies of rows.
 */
import { binFeatures, MAX_BINS } from './binning';
import type { Matrix, ModelJson } from './matrix';
import type { TreeRegressor } from './tree';
import { checkPredictData, checkTrainingData, intParam, resolveMaxFeatures } from './tree-input';
import { GrowWorkspace, growTree } from './tree-grow';
import {
  addTreePredictions,
  normalize,
  numberArray,
  readHeader,
  treeFromJson,
  treeToJson,
} from './tree-nodes';
import type { TreeArrays } from './tree-nodes';
import { childSeed, mulberry32, randomInt } from './tree-random';

export interface RandomForestParams {
  /** Number of trees; default 100. */
  nTrees?: number;
  /** Maximum depth (root = 0); default Infinity. */
  maxDepth?: number;
  /** Minimum distinct training rows in a leaf; default 1. */
  minSamplesLeaf?: number;
  /** Minimum distinct rows for a node to be split; default 2. */
  minSamplesSplit?: number;
  /** Features examined per node: a fraction in (0, 1] or an integer count >= 2; default 1 (all). */
  maxFeatures?: number;
  /** Draw each tree's rows with replacement (n draws); default true. */
  bootstrap?: boolean;
  /** Seed of the bootstrap, the feature subsampling and the binning subsample; default 0. */
  seed?: number;
}

/**
 * Fits a random forest. Pure and deterministic: same data, params and seed give the same JSON.
 * @throws TypeError / RangeError for malformed input or invalid parameters (not retryable).
 */
export function fitRandomForest(
  X: Matrix,
  y: Float64Array,
  params: RandomForestParams = {},
): TreeRegressor {
  const who = 'fitRandomForest';
  checkTrainingData(X, y, who);
  const nTrees = intParam(who, 'nTrees', params.nTrees, 100, 1);
  const seed = intParam(who, 'seed', params.seed, 0, -Number.MAX_SAFE_INTEGER);
  const bootstrap = params.bootstrap ?? true;
  if (typeof bootstrap !== 'boolean') throw new TypeError(`${who}: bootstrap must be a boolean`);
  const grow = {
    maxDepth: intParam(who, 'maxDepth', params.maxDepth, Infinity, 0, true),
    minSamplesLeaf: intParam(who, 'minSamplesLeaf', params.minSamplesLeaf, 1, 1),
    minSamplesSplit: intParam(who, 'minSamplesSplit', params.minSamplesSplit, 2, 2),
    maxFeatures: resolveMaxFeatures(who, params.maxFeatures, 1, X.cols),
  };
  const n = X.rows;
  const master = mulberry32(seed);
  const ws = new GrowWorkspace(binFeatures(X, MAX_BINS, childSeed(master)));
  const weights = bootstrap ? new Float64Array(n) : null;
  const trees: TreeArrays[] = [];
  const importances = new Float64Array(X.cols);
  const treeImportances = new Float64Array(X.cols);
  for (let t = 0; t < nTrees; t++) {
    const rng = mulberry32(childSeed(master));
    if (weights) {
      weights.fill(0);
      for (let k = 0; k < n; k++) {
        const r = randomInt(rng, n);
        weights[r] = weights[r]! + 1;
      }
    }
    treeImportances.fill(0);
    trees.push(growTree(ws, y, weights, grow, rng, treeImportances));
    normalize(treeImportances);
    for (let f = 0; f < X.cols; f++) importances[f] = importances[f]! + treeImportances[f]!;
  }
  return new RandomForestModel(X.cols, trees, normalize(importances));
}

class RandomForestModel implements TreeRegressor {
  constructor(
    readonly nFeatures: number,
    readonly trees: readonly TreeArrays[],
    readonly featureImportances: Float64Array,
  ) {}

  predict(X: Matrix): Float64Array {
    checkPredictData(X, this.nFeatures, 'RandomForest.predict');
    const out = new Float64Array(X.rows);
    const scale = 1 / this.trees.length;
    for (const tree of this.trees) addTreePredictions(tree, X, out, scale);
    return out;
  }

  toJSON(): ModelJson {
    return {
      kind: 'forest',
      version: 1,
      nFeatures: this.nFeatures,
      featureImportances: Array.from(this.featureImportances),
      trees: this.trees.map(treeToJson),
    };
  }
}

/**
 * Rebuilds a random forest from `toJSON()` output.
 * @throws TypeError naming the field when the JSON is not a version-1 'forest'.
 */
export function randomForestFromJson(json: ModelJson): TreeRegressor {
  const who = 'randomForestFromJson';
  const nFeatures = readHeader(json, 'forest', who);
  const imp = Float64Array.from(
    numberArray(json.featureImportances, `${who}: featureImportances`, nFeatures),
  );
  if (!Array.isArray(json.trees) || json.trees.length === 0)
    throw new TypeError(`${who}: trees must be a non-empty array`);
  const trees = (json.trees as unknown[]).map((t, i) =>
    treeFromJson(t, nFeatures, `${who}: trees[${i}]`),
  );
  return new RandomForestModel(nFeatures, trees, imp);
}
