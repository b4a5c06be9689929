import { describe, expect, it } from 'vitest';
import { fitRandomForest } from './forest';
import { matrix } from './matrix';
import { LOCAL_ROWS } from './tree-grow';

// Above LOCAL_ROWS rows the top nodes are split from histograms (the large-data path); this data
// is just big enough to take it (without bootstrap, the root holds every row).
describe('random forest on more rows than fit the in-cache path', () => {
  const rows = LOCAL_ROWS + 8_000;
  const cols = 4;
  const X = matrix(rows, cols);
  const y = new Float64Array(rows);
  let s = 7;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) X.data[i * cols + j] = rand();
    // a step function of x0 plus a smooth term in x1; x2, x3 are noise
    y[i] = (X.data[i * cols]! > 0.5 ? 10 : 0) + 4 * X.data[i * cols + 1]!;
  }
  const params = { nTrees: 2, minSamplesLeaf: 50, bootstrap: false, maxFeatures: 0.75, seed: 3 };
  const forest = fitRandomForest(X, y, params);

  it('learns the signal: the step and the slope', () => {
    const probe = matrix(
      4,
      cols,
      Float64Array.from([
        0.25, 0.5, 0.5, 0.5, 0.75, 0.5, 0.5, 0.5, 0.75, 0.1, 0.5, 0.5, 0.75, 0.9, 0.5, 0.5,
      ]),
    );
    const [low, high, highLeft, highRight] = forest.predict(probe);
    // noiseless targets: 2, 12, 10.4, 13.6
    expect(low).toBeCloseTo(2, 0);
    expect(high).toBeCloseTo(12, 0);
    expect(highLeft!).toBeLessThan(highRight!);
  });

  it('is deterministic on the large-data path', () => {
    expect(JSON.stringify(fitRandomForest(X, y, params).toJSON())).toBe(
      JSON.stringify(forest.toJSON()),
    );
  });
});
