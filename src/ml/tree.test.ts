import { describe, expect, it } from 'vitest';
import dt from '../../test/fixtures/trees/decision-tree.json';
import friedman from '../../test/fixtures/trees/friedman1.json';
import { matrix } from './matrix';
import { fitDecisionTree } from './tree';
import { treeModelFromJson } from './tree-json';
import { mae, toMatrix } from './tree-test-util';

describe('fitDecisionTree', () => {
  it('splits at the midpoint with leaf means on a hand-computed depth-1 example', () => {
    // x = 1..6, y = [1, 1, 1, 5, 5, 6]: best cut is between 3 and 4 (SSE 0 + 2/3), threshold 3.5.
    const X = matrix(6, 1, Float64Array.from([1, 2, 3, 4, 5, 6]));
    const y = Float64Array.from([1, 1, 1, 5, 5, 6]);
    const m = fitDecisionTree(X, y, { maxDepth: 1 });
    const json = m.toJSON() as unknown as {
      tree: { feature: number[]; threshold: number[]; value: number[] };
    };
    expect(json.tree.feature).toEqual([0, -1, -1]);
    expect(json.tree.threshold[0]).toBe(3.5);
    expect(json.tree.value.slice(1)).toEqual([1, 16 / 3]);
    expect(Array.from(m.predict(matrix(2, 1, Float64Array.from([3.5, 3.6]))))).toEqual([1, 16 / 3]);
  });

  it('picks the feature with the larger squared-error decrease at depth 2 (hand-computed)', () => {
    // Feature 1 separates y into {0,0} | {10,10} at depth 1; feature 0 then splits each half.
    const X = toMatrix([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
    const y = Float64Array.from([0, 2, 10, 14]);
    const m = fitDecisionTree(X, y, { maxDepth: 2 });
    expect(Array.from(m.predict(X))).toEqual([0, 2, 10, 14]);
    const one = fitDecisionTree(X, y, { maxDepth: 1 });
    expect(Array.from(one.predict(X))).toEqual([1, 1, 12, 12]);
    // Squared-error decreases: root 131 -> 10 (feature 1), then 2 and 8 (feature 0).
    expect(m.featureImportances[0]).toBeCloseTo(10 / 131, 12);
    expect(m.featureImportances[1]).toBeCloseTo(121 / 131, 12);
  });

  it.each(dt.cases.map((c, i) => [i, c] as const))(
    'matches scikit-learn DecisionTreeRegressor predictions (case %i)',
    (_i, c) => {
      const p = c.params as {
        max_depth?: number;
        min_samples_leaf?: number;
        min_samples_split?: number;
      };
      const m = fitDecisionTree(toMatrix(dt.X), Float64Array.from(dt.y), {
        ...(p.max_depth !== undefined && { maxDepth: p.max_depth }),
        ...(p.min_samples_leaf !== undefined && { minSamplesLeaf: p.min_samples_leaf }),
        ...(p.min_samples_split !== undefined && { minSamplesSplit: p.min_samples_split }),
      });
      const train = m.predict(toMatrix(dt.X));
      c.trainPredictions.forEach((v, i) => expect(train[i]).toBeCloseTo(v, 9));
      if (c.tieFree) {
        const pred = m.predict(toMatrix(dt.XTest));
        c.predictions.forEach((v, i) => expect(pred[i]).toBeCloseTo(v, 9));
        c.featureImportances.forEach((v, i) => expect(m.featureImportances[i]).toBeCloseTo(v, 9));
      }
      expect((m.toJSON() as unknown as { tree: { feature: number[] } }).tree.feature.length).toBe(
        c.nodeCount,
      );
    },
  );

  it('is within 5% of scikit-learn test MAE on Friedman #1', () => {
    const m = fitDecisionTree(toMatrix(friedman.X), Float64Array.from(friedman.y));
    const ref = friedman.mae['DecisionTreeRegressor(random_state=0)'];
    expect(mae(m.predict(toMatrix(friedman.XTest)), friedman.yTest)).toBeLessThan(ref * 1.05);
  });

  it('gives byte-identical JSON for the same seed and identical predictions after a JSON round trip', () => {
    const X = toMatrix(friedman.X.slice(0, 500));
    const y = Float64Array.from(friedman.y.slice(0, 500));
    const a = fitDecisionTree(X, y, { maxFeatures: 0.5, seed: 3 });
    const b = fitDecisionTree(X, y, { maxFeatures: 0.5, seed: 3 });
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
    const back = treeModelFromJson(JSON.parse(JSON.stringify(a.toJSON())) as { kind: string });
    expect(back.predict(toMatrix(friedman.XTest))).toEqual(a.predict(toMatrix(friedman.XTest)));
  });

  it('predicts the mean for a constant target', () => {
    const m = fitDecisionTree(toMatrix([[1], [2], [3]]), Float64Array.from([4, 4, 4]));
    expect(Array.from(m.predict(toMatrix([[0], [9]])))).toEqual([4, 4]);
  });

  it('rejects bad input with errors that name the problem', () => {
    const X = toMatrix([
      [1, 2],
      [3, 4],
    ]);
    expect(() => fitDecisionTree(X, Float64Array.from([1]))).toThrow(
      /y has 1 values but X has 2 rows/,
    );
    expect(() => fitDecisionTree(matrix(0, 2), new Float64Array(0))).toThrow(RangeError);
    expect(() => fitDecisionTree(matrix(0, 2), new Float64Array(0))).toThrow(/zero rows/);
    expect(() =>
      fitDecisionTree(
        toMatrix([
          [1, NaN],
          [3, 4],
        ]),
        Float64Array.from([1, 2]),
      ),
    ).toThrow(/X\[0, 1\] is NaN/);
    expect(() => fitDecisionTree(X, Float64Array.from([1, NaN]))).toThrow(/y\[1\] is NaN/);
    expect(() => fitDecisionTree(X, [1, 2] as unknown as Float64Array)).toThrow(TypeError);
    expect(() => fitDecisionTree(X, Float64Array.from([1, 2]), { maxDepth: -1 })).toThrow(
      /maxDepth/,
    );
    expect(() => fitDecisionTree(X, Float64Array.from([1, 2]), { maxFeatures: 1.5 })).toThrow(
      /maxFeatures/,
    );
    const m = fitDecisionTree(X, Float64Array.from([1, 2]));
    expect(() => m.predict(toMatrix([[1, 2, 3]]))).toThrow(
      /3 columns but the model was trained on 2/,
    );
  });
});
