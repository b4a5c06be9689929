import { describe, expect, it } from 'vitest';
import friedman from '../../test/fixtures/trees/friedman1.json';
import { fitRandomForest } from './forest';
import { treeModelFromJson } from './tree-json';
import { mae, toMatrix } from './tree-test-util';

const X = toMatrix(friedman.X);
const y = Float64Array.from(friedman.y);
const XTest = toMatrix(friedman.XTest);

describe('fitRandomForest', () => {
  it('is within 3% of scikit-learn RandomForestRegressor test MAE on Friedman #1 (2,000 rows)', () => {
    const m = fitRandomForest(X, y, { seed: 1 });
    const ref = friedman.mae['RandomForestRegressor(random_state=0)'];
    expect(mae(m.predict(XTest), friedman.yTest)).toBeLessThan(ref * 1.03);
  });

  it('beats a single tree and ranks the five informative Friedman features first', () => {
    const m = fitRandomForest(X, y, { nTrees: 30, seed: 2 });
    expect(mae(m.predict(XTest), friedman.yTest)).toBeLessThan(
      friedman.mae['DecisionTreeRegressor(random_state=0)'],
    );
    const ranked = Array.from(m.featureImportances.keys()).sort(
      (a, b) => m.featureImportances[b]! - m.featureImportances[a]!,
    );
    expect(ranked.slice(0, 5).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(m.featureImportances).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('without bootstrap and with all features, every tree is the same full tree', () => {
    const small = toMatrix(friedman.X.slice(0, 200));
    const ys = Float64Array.from(friedman.y.slice(0, 200));
    const m = fitRandomForest(small, ys, { nTrees: 3, bootstrap: false });
    // Fully grown on distinct rows: the training set is reproduced exactly.
    const pred = m.predict(small);
    ys.forEach((v, i) => expect(pred[i]).toBeCloseTo(v, 10));
  });

  it('gives byte-identical JSON for the same seed, a different model for another seed, and survives a JSON round trip', () => {
    const small = toMatrix(friedman.X.slice(0, 300));
    const ys = Float64Array.from(friedman.y.slice(0, 300));
    const a = fitRandomForest(small, ys, { nTrees: 5, maxFeatures: 0.3, seed: 9 });
    const b = fitRandomForest(small, ys, { nTrees: 5, maxFeatures: 0.3, seed: 9 });
    const c = fitRandomForest(small, ys, { nTrees: 5, maxFeatures: 0.3, seed: 10 });
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
    expect(JSON.stringify(a.toJSON())).not.toBe(JSON.stringify(c.toJSON()));
    const back = treeModelFromJson(JSON.parse(JSON.stringify(a.toJSON())) as { kind: string });
    expect(back.toJSON().kind).toBe('forest');
    expect(back.predict(XTest)).toEqual(a.predict(XTest));
  });

  it('honours maxDepth and minSamplesLeaf', () => {
    const m = fitRandomForest(X, y, { nTrees: 2, maxDepth: 3, minSamplesLeaf: 50 });
    const trees = (m.toJSON() as unknown as { trees: { feature: number[] }[] }).trees;
    for (const t of trees) expect(t.feature.length).toBeLessThanOrEqual(15);
  });

  it('rejects bad input and bad parameters with errors that name the problem', () => {
    expect(() => fitRandomForest(X, y.subarray(1))).toThrow(
      /y has 1999 values but X has 2000 rows/,
    );
    expect(() => fitRandomForest(X, y, { nTrees: 0 })).toThrow(/nTrees must be an integer >= 1/);
    expect(() => fitRandomForest(X, y, { seed: 0.5 })).toThrow(/seed/);
    expect(() =>
      treeModelFromJson({
        kind: 'forest',
        version: 1,
        nFeatures: 10,
        featureImportances: [],
        trees: [],
      }),
    ).toThrow(TypeError);
    expect(() => treeModelFromJson({ kind: 'svm' })).toThrow(/unknown model kind 'svm'/);
  });
});
