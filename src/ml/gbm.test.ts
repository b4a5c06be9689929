import { describe, expect, it } from 'vitest';
import friedman from '../../test/fixtures/trees/friedman1.json';
import small from '../../test/fixtures/trees/hgb-small.json';
import { fitGradientBoosting } from './gbm';
import { matrix } from './matrix';
import { treeModelFromJson } from './tree-json';
import { mae, toMatrix } from './tree-test-util';

const X = toMatrix(friedman.X);
const y = Float64Array.from(friedman.y);
const XTest = toMatrix(friedman.XTest);

describe('fitGradientBoosting', () => {
  it.each(small.cases.map((c, i) => [i, c] as const))(
    'matches scikit-learn HistGradientBoostingRegressor predictions on exact bins (case %i)',
    (_i, c) => {
      const p = c.params as {
        max_iter: number;
        min_samples_leaf: number;
        max_leaf_nodes?: number;
        learning_rate?: number;
        max_depth?: number;
        l2_regularization?: number;
      };
      const m = fitGradientBoosting(toMatrix(small.X), Float64Array.from(small.y), {
        maxIter: p.max_iter,
        minSamplesLeaf: p.min_samples_leaf,
        earlyStopping: false,
        ...(p.max_leaf_nodes !== undefined && { maxLeafNodes: p.max_leaf_nodes }),
        ...(p.learning_rate !== undefined && { learningRate: p.learning_rate }),
        ...(p.max_depth !== undefined && { maxDepth: p.max_depth }),
        ...(p.l2_regularization !== undefined && { l2: p.l2_regularization }),
      });
      const pred = m.predict(toMatrix(small.XTest));
      // scikit-learn sums gradients in float32: agreement to ~1e-5, not to the last bit.
      c.predictions.forEach((v, i) => expect(Math.abs(pred[i]! - v)).toBeLessThan(1e-4));
    },
  );

  it('is within 3% of scikit-learn test MAE on Friedman #1 (2,000 rows)', () => {
    const m = fitGradientBoosting(X, y);
    const ref = friedman.mae['HistGradientBoostingRegressor(random_state=0)'];
    expect(mae(m.predict(XTest), friedman.yTest)).toBeLessThan(ref * 1.03);
  });

  it('stops early on the validation slice and keeps at most maxIter trees', () => {
    const m = fitGradientBoosting(X, y, { maxIter: 500, learningRate: 0.5, earlyStopping: true });
    const trees = (m.toJSON() as unknown as { trees: unknown[] }).trees;
    expect(trees.length).toBeLessThan(500);
    expect(trees.length).toBeGreaterThan(10);
    const full = fitGradientBoosting(X, y, { maxIter: 7, earlyStopping: false });
    expect((full.toJSON() as unknown as { trees: unknown[] }).trees.length).toBe(7);
  });

  it('gives byte-identical JSON for the same seed and identical predictions after a JSON round trip', () => {
    const a = fitGradientBoosting(X, y, { maxIter: 20, earlyStopping: true, seed: 4 });
    const b = fitGradientBoosting(X, y, { maxIter: 20, earlyStopping: true, seed: 4 });
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
    const back = treeModelFromJson(JSON.parse(JSON.stringify(a.toJSON())) as { kind: string });
    expect(back.toJSON().kind).toBe('gbm');
    expect(back.predict(XTest)).toEqual(a.predict(XTest));
  });

  it('grows the same depth-limited trees with and without a leaf limit (both histogram paths)', () => {
    // maxLeafNodes <= 128 carries the root histogram from tree to tree; Infinity rebuilds it.
    const limited = fitGradientBoosting(X, y, {
      maxDepth: 3,
      maxLeafNodes: 8,
      maxIter: 20,
      earlyStopping: false,
    });
    const unlimited = fitGradientBoosting(X, y, {
      maxDepth: 3,
      maxLeafNodes: Infinity,
      maxIter: 20,
      earlyStopping: false,
    });
    const a = limited.predict(XTest);
    const b = unlimited.predict(XTest);
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 9));
  });

  it('predicts the training mean when no split is allowed', () => {
    const Xs = matrix(4, 1, Float64Array.from([1, 2, 3, 4]));
    const m = fitGradientBoosting(Xs, Float64Array.from([1, 2, 3, 6]), {
      minSamplesLeaf: 3,
      maxIter: 5,
    });
    const p = m.predict(Xs);
    // Leaves of one node move the prediction by -lr * mean(gradient) = 0: it stays at the mean 3.
    p.forEach((v) => expect(v).toBeCloseTo(3, 12));
  });

  it('rejects bad input and bad parameters with errors that name the problem', () => {
    expect(() => fitGradientBoosting(X, y.subarray(5))).toThrow(
      /y has 1995 values but X has 2000 rows/,
    );
    expect(() => fitGradientBoosting(X, y, { learningRate: 0 })).toThrow(/learningRate/);
    expect(() => fitGradientBoosting(X, y, { maxBins: 256 })).toThrow(/maxBins/);
    expect(() => fitGradientBoosting(X, y, { validationFraction: 1 })).toThrow(
      /validationFraction/,
    );
    expect(() =>
      fitGradientBoosting(matrix(1, 1, Float64Array.from([1])), Float64Array.from([1]), {
        earlyStopping: true,
      }),
    ).toThrow(/too few/);
    expect(() =>
      treeModelFromJson({
        kind: 'gbm',
        version: 1,
        nFeatures: 2,
        baseline: 'x',
        featureImportances: [0, 0],
        trees: [],
      }),
    ).toThrow(/baseline/);
  });
});
