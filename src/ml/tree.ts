/**
 * CART regression tree (least squares), grown on binned features: exact for columns with at most
 * 255 distinct values, quantile-binned above that. Defaults follow scikit-learn's
 * DecisionTreeRegressor (unlimited depth, minSamplesSplit 2, minSamplesLeaf 1, all features).
 */
import { binFeatures, MAX_BINS } from './binning';
import type { Matrix, ModelJson, Regressor } from './matrix';
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
import { mulberry32 } from './tree-random';

export interface DecisionTreeParams {
  /** Maximum depth (root = 0); default Infinity. */
  maxDepth?: number;
  /** Minimum distinct training rows in a leaf; default 1. */
  minSamplesLeaf?: number;
  /** Minimum distinct rows for a node to be split; default 2. */
  minSamplesSplit?: number;
  /** Features examined per node: a fraction in (0, 1] or an integer count >= 2; default 1 (all). */
  maxFeatures?: number;
  /** Seed for the feature subsampling and the binning subsample; default 0. */
  seed?: number;
}

/** A fitted model of the tree family: a Regressor with impurity-based feature importances. */
export interface TreeRegressor extends Regressor {
  readonly nFeatures: number;
  /** Weighted squared-error decrease per feature, summing to 1 (all zero for a single leaf). */
  readonly featureImportances: Float64Array;
}

/**
 * Fits a regression tree. Pure and deterministic: same data, params and seed give the same JSON.
 * @throws TypeError / RangeError for malformed input (zero rows, length mismatch, non-finite
 * values) or invalid parameters; retrying with the same input does not help.
 */
export function fitDecisionTree(
  X: Matrix,
  y: Float64Array,
  params: DecisionTreeParams = {},
): TreeRegressor {
  const who = 'fitDecisionTree';
  checkTrainingData(X, y, who);
  const seed = intParam(who, 'seed', params.seed, 0, -Number.MAX_SAFE_INTEGER);
  const grow = {
    maxDepth: intParam(who, 'maxDepth', params.maxDepth, Infinity, 0, true),
    minSamplesLeaf: intParam(who, 'minSamplesLeaf', params.minSamplesLeaf, 1, 1),
    minSamplesSplit: intParam(who, 'minSamplesSplit', params.minSamplesSplit, 2, 2),
    maxFeatures: resolveMaxFeatures(who, params.maxFeatures, 1, X.cols),
  };
  const ws = new GrowWorkspace(binFeatures(X, MAX_BINS, seed));
  const importances = new Float64Array(X.cols);
  const tree = growTree(ws, y, null, grow, mulberry32(seed), importances);
  return new DecisionTreeModel(X.cols, tree, normalize(importances));
}

class DecisionTreeModel implements TreeRegressor {
  constructor(
    readonly nFeatures: number,
    readonly tree: TreeArrays,
    readonly featureImportances: Float64Array,
  ) {}

  predict(X: Matrix): Float64Array {
    checkPredictData(X, this.nFeatures, 'DecisionTree.predict');
    const out = new Float64Array(X.rows);
    addTreePredictions(this.tree, X, out, 1);
    return out;
  }

  toJSON(): ModelJson {
    return {
      kind: 'tree',
      version: 1,
      nFeatures: this.nFeatures,
      featureImportances: Array.from(this.featureImportances),
      tree: treeToJson(this.tree),
    };
  }
}

/**
 * Rebuilds a decision tree from `toJSON()` output.
 * @throws TypeError naming the field when the JSON is not a version-1 'tree'.
 */
export function decisionTreeFromJson(json: ModelJson): TreeRegressor {
  const who = 'decisionTreeFromJson';
  const nFeatures = readHeader(json, 'tree', who);
  const imp = Float64Array.from(
    numberArray(json.featureImportances, `${who}: featureImportances`, nFeatures),
  );
  return new DecisionTreeModel(nFeatures, treeFromJson(json.tree, nFeatures, who), imp);
}
