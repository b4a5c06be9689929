/**
 * Histogram gradient boosting for least squares, after scikit-learn's
 * HistGradientBoostingRegressor: features binned once (at most 255 bins), best-first trees with
 * at most maxLeafNodes leaves, shrinkage by the learning rate, L2 on leaf values, and early
 * stopping on a seeded validation slice ('auto': on when there are more than 10,000 rows).
 */
import { binFeatures } from './binning';
import { matrix } from './matrix';
import type { Matrix, ModelJson } from './matrix';
import { growHistTree, HistWorkspace } from './hist-grow';
import type { TreeRegressor } from './tree';
import { checkPredictData, checkTrainingData, intParam, numParam } from './tree-input';
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

export interface GradientBoostingParams {
  /** Maximum number of boosting iterations (trees); default 100. */
  maxIter?: number;
  /** Shrinkage applied to every leaf value; default 0.1. */
  learningRate?: number;
  /** Maximum leaves per tree (Infinity for no limit); default 31. */
  maxLeafNodes?: number;
  /** Maximum depth per tree (root = 0); default Infinity. */
  maxDepth?: number;
  /** Minimum training rows per leaf; default 20. */
  minSamplesLeaf?: number;
  /** L2 regularisation of leaf values; default 0. */
  l2?: number;
  /** Bins per feature, 2..255; default 255. */
  maxBins?: number;
  /** Stop when the validation loss stops improving; 'auto' (default) = more than 10,000 rows. */
  earlyStopping?: boolean | 'auto';
  /** Share of the rows held out for early stopping; default 0.1. */
  validationFraction?: number;
  /** Iterations without an improvement (of more than 1e-7) before stopping; default 10. */
  nIterNoChange?: number;
  /** Seed of the validation split and the binning subsample; default 0. */
  seed?: number;
}

const TOL = 1e-7;

/**
 * Fits a gradient-boosted tree ensemble. Pure and deterministic: same data, params and seed
 * give the same JSON.
 * @throws TypeError / RangeError for malformed input or invalid parameters (not retryable).
 */
export function fitGradientBoosting(
  X: Matrix,
  y: Float64Array,
  params: GradientBoostingParams = {},
): TreeRegressor {
  const who = 'fitGradientBoosting';
  checkTrainingData(X, y, who);
  const maxIter = intParam(who, 'maxIter', params.maxIter, 100, 1);
  const learningRate = numParam(
    who,
    'learningRate',
    params.learningRate,
    0.1,
    0,
    Infinity,
    true,
    true,
  );
  const grow = {
    maxLeafNodes: intParam(who, 'maxLeafNodes', params.maxLeafNodes, 31, 2, true),
    maxDepth: intParam(who, 'maxDepth', params.maxDepth, Infinity, 1, true),
    minSamplesLeaf: intParam(who, 'minSamplesLeaf', params.minSamplesLeaf, 20, 1),
    l2: numParam(who, 'l2', params.l2, 0, 0, Infinity, false, true),
    learningRate,
  };
  const maxBins = intParam(who, 'maxBins', params.maxBins, 255, 2);
  if (maxBins > 255)
    throw new RangeError(`${who}: maxBins must be an integer in [2, 255], got ${maxBins}`);
  const es = params.earlyStopping ?? 'auto';
  if (es !== 'auto' && typeof es !== 'boolean')
    throw new TypeError(`${who}: earlyStopping must be true, false or 'auto'`);
  const validationFraction = numParam(
    who,
    'validationFraction',
    params.validationFraction,
    0.1,
    0,
    1,
    true,
    true,
  );
  const nIterNoChange = intParam(who, 'nIterNoChange', params.nIterNoChange, 10, 1);
  const seed = intParam(who, 'seed', params.seed, 0, -Number.MAX_SAFE_INTEGER);

  const n = X.rows;
  const master = mulberry32(seed);
  const earlyStopping = es === 'auto' ? n > 10_000 : es;
  let trainRows: Int32Array | undefined;
  let valRows: Int32Array | undefined;
  if (earlyStopping) {
    const nVal = Math.ceil(validationFraction * n);
    if (nVal < 1 || n - nVal < 1)
      throw new RangeError(
        `${who}: ${n} rows are too few to hold out a validation fraction of ${validationFraction}`,
      );
    [trainRows, valRows] = splitRows(n, nVal, childSeed(master));
  }
  const binSeed = childSeed(master);
  const binned = binFeatures(X, maxBins, binSeed, 'columns', trainRows);
  const nTrain = binned.rows;
  const yTrain = trainRows ? gather(y, trainRows) : y;

  let baseline = 0;
  for (let i = 0; i < nTrain; i++) baseline += yTrain[i]!;
  baseline /= nTrain;
  const raw = new Float64Array(nTrain).fill(baseline);
  const grad = new Float64Array(nTrain);
  const ws = new HistWorkspace(binned);
  const importances = new Float64Array(X.cols);
  const trees: TreeArrays[] = [];

  const yVal = valRows ? gather(y, valRows) : null;
  // The validation rows, contiguous: predicting them after every tree reads them 100s of times.
  const XVal = valRows ? gatherRows(X, valRows) : null;
  const rawVal = valRows ? new Float64Array(valRows.length).fill(baseline) : null;
  const scores: number[] = [];
  if (yVal && rawVal) scores.push(-halfSquaredError(yVal, rawVal));

  for (let it = 0; it < maxIter; it++) {
    for (let i = 0; i < nTrain; i++) grad[i] = raw[i]! - yTrain[i]!;
    const tree = growHistTree(ws, grad, grow, raw, importances);
    trees.push(tree);
    if (XVal && yVal && rawVal) {
      addTreePredictions(tree, XVal, rawVal, 1);
      scores.push(-halfSquaredError(yVal, rawVal));
      if (shouldStop(scores, nIterNoChange)) break;
    }
    // A single-leaf tree means the gradients cannot be split any more: later trees would be the same.
    if (tree.feature.length === 1 && Math.abs(tree.value[0]!) === 0) break;
  }
  return new GradientBoostingModel(X.cols, baseline, trees, normalize(importances));
}

class GradientBoostingModel implements TreeRegressor {
  constructor(
    readonly nFeatures: number,
    readonly baseline: number,
    readonly trees: readonly TreeArrays[],
    readonly featureImportances: Float64Array,
  ) {}

  predict(X: Matrix): Float64Array {
    checkPredictData(X, this.nFeatures, 'GradientBoosting.predict');
    const out = new Float64Array(X.rows).fill(this.baseline);
    for (const tree of this.trees) addTreePredictions(tree, X, out, 1);
    return out;
  }

  toJSON(): ModelJson {
    return {
      kind: 'gbm',
      version: 1,
      nFeatures: this.nFeatures,
      baseline: this.baseline,
      featureImportances: Array.from(this.featureImportances),
      trees: this.trees.map(treeToJson),
    };
  }
}

/**
 * Rebuilds a gradient-boosting model from `toJSON()` output.
 * @throws TypeError naming the field when the JSON is not a version-1 'gbm'.
 */
export function gradientBoostingFromJson(json: ModelJson): TreeRegressor {
  const who = 'gradientBoostingFromJson';
  const nFeatures = readHeader(json, 'gbm', who);
  const baseline = json.baseline;
  if (typeof baseline !== 'number' || !Number.isFinite(baseline))
    throw new TypeError(`${who}: baseline must be a finite number`);
  const imp = Float64Array.from(
    numberArray(json.featureImportances, `${who}: featureImportances`, nFeatures),
  );
  if (!Array.isArray(json.trees)) throw new TypeError(`${who}: trees must be an array`);
  const trees = (json.trees as unknown[]).map((t, i) =>
    treeFromJson(t, nFeatures, `${who}: trees[${i}]`),
  );
  return new GradientBoostingModel(nFeatures, baseline, trees, imp);
}

/** Seeded split into (training rows, validation rows), each in ascending order. */
function splitRows(n: number, nVal: number, seed: number): [Int32Array, Int32Array] {
  const rng = mulberry32(seed);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let k = 0; k < nVal; k++) {
    const j = k + randomInt(rng, n - k);
    const t = idx[k]!;
    idx[k] = idx[j]!;
    idx[j] = t;
  }
  return [idx.slice(nVal).sort(), idx.slice(0, nVal).sort()];
}

function gather(v: Float64Array, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = v[rows[k]!]!;
  return out;
}

function gatherRows(X: Matrix, rows: Int32Array): Matrix {
  const { cols, data } = X;
  const out = new Float64Array(rows.length * cols);
  for (let k = 0; k < rows.length; k++)
    out.set(data.subarray(rows[k]! * cols, (rows[k]! + 1) * cols), k * cols);
  return matrix(rows.length, cols, out);
}

function halfSquaredError(y: Float64Array, raw: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const d = y[i]! - raw[i]!;
    s += d * d;
  }
  return (0.5 * s) / y.length;
}

/** scikit-learn's rule: stop when none of the last n scores beats the one before them by TOL. */
function shouldStop(scores: readonly number[], n: number): boolean {
  if (scores.length < n + 1) return false;
  const reference = scores[scores.length - n - 1]! + TOL;
  for (let k = scores.length - n; k < scores.length; k++) if (scores[k]! > reference) return false;
  return true;
}
