import { describe, expect, it } from 'vitest';
import { choleskySolve, fitLinear } from './linear';
import { matrix } from './matrix';
import fixtureJson from '../../test/fixtures/ml/linear-sklearn.json';

interface LinearCase {
  X: number[][];
  y: number[];
  Xtest: number[][];
  cases: {
    family: 'ridge' | 'lasso' | 'elasticnet';
    params: Record<string, number>;
    intercept: number;
    coef: number[];
    predictions: number[];
  }[];
}
const fixture = fixtureJson as unknown as LinearCase;
const toMatrix = (rows: number[][]) =>
  matrix(rows.length, rows[0]!.length, Float64Array.from(rows.flat()));

describe('linear models', () => {
  it('solves a textbook 3x3 SPD system by Cholesky', () => {
    // A = [[4,12,-16],[12,37,-43],[-16,-43,98]] (Wikipedia "Cholesky decomposition" example), x = [1,2,3]
    const A = Float64Array.from([4, 12, -16, 12, 37, -43, -16, -43, 98]);
    const b = Float64Array.from([4 + 24 - 48, 12 + 74 - 129, -16 - 86 + 294]);
    const x = choleskySolve(A, b, 3);
    expect(Array.from(x).map((v) => Math.round(v * 1e9) / 1e9)).toEqual([1, 2, 3]);
  });

  it('ridge with alpha 0 recovers an exact linear relation (ordinary least squares)', () => {
    const X = matrix(5, 2, Float64Array.from([1, 2, 2, 1, 3, 5, 4, 3, 5, 8]));
    const y = Float64Array.from([
      1 + 2 * 1 - 3 * 2,
      1 + 2 * 2 - 3 * 1,
      1 + 2 * 3 - 3 * 5,
      1 + 2 * 4 - 3 * 3,
      1 + 2 * 5 - 3 * 8,
    ]);
    const m = fitLinear('ridge', X, y, { alpha: 0 }).toJSON() as unknown as {
      intercept: number;
      coef: number[];
    };
    expect(m.intercept).toBeCloseTo(1, 6);
    expect(m.coef[0]).toBeCloseTo(2, 6);
    expect(m.coef[1]).toBeCloseTo(-3, 6);
  });

  for (const c of fixture.cases) {
    it(`matches scikit-learn StandardScaler + ${c.family} ${JSON.stringify(c.params)}`, () => {
      const model = fitLinear(c.family, toMatrix(fixture.X), Float64Array.from(fixture.y), {
        ...c.params,
        tol: 1e-12,
        maxIter: 100_000,
      });
      const json = model.toJSON() as unknown as { intercept: number; coef: number[] };
      expect(json.intercept).toBeCloseTo(c.intercept, 5);
      json.coef.forEach((v, j) => expect(v).toBeCloseTo(c.coef[j]!, 5));
      const pred = model.predict(toMatrix(fixture.Xtest));
      pred.forEach((v, i) => expect(v).toBeCloseTo(c.predictions[i]!, 5));
    });
  }

  it('lasso with a large alpha zeroes every coefficient and predicts the mean', () => {
    const X = toMatrix(fixture.X);
    const y = Float64Array.from(fixture.y);
    const m = fitLinear('lasso', X, y, { alpha: 1e6 });
    const mean = fixture.y.reduce((a, b) => a + b, 0) / fixture.y.length;
    expect((m.toJSON() as unknown as { coef: number[] }).coef.every((v) => v === 0)).toBe(true);
    expect(m.predict(X)[0]).toBeCloseTo(mean, 9);
  });
});
