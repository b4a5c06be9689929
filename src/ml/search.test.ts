import { describe, expect, it } from 'vitest';
import { expandingWindowSplits } from './cv';
import { candidates, searchFamily, type SearchSpace } from './search';
import { syntheticSeries } from './testing';

const grid: SearchSpace = {
  params: { a: { values: [1, 2] }, b: { values: [10, 20, 30] } },
  features: [{}, { trend: false }],
};

describe('candidates', () => {
  it('enumerates the full grid when it fits the budget', () => {
    const c = candidates(grid, 100, 'auto', 0);
    expect(c).toHaveLength(12);
    expect(new Set(c.map((x) => JSON.stringify(x))).size).toBe(12);
  });

  it('discretises ranges for a grid and thins a grid larger than the budget evenly', () => {
    const space: SearchSpace = {
      params: { alpha: { min: 1e-3, max: 1e3, scale: 'log' } },
      features: [{}, { trend: false }],
    };
    const all = candidates(space, 100, 'grid', 0);
    expect(all.map((c) => c.params.alpha)).toEqual([
      0.001, 0.001, 0.01, 0.01, 0.1, 0.1, 1, 1, 10, 10, 100, 100, 1000, 1000,
    ]);
    const thin = candidates(space, 7, 'grid', 0);
    expect(thin).toHaveLength(7);
    expect(thin[0]!.params.alpha).toBe(0.001);
    expect(thin[6]!.params.alpha).toBe(1000);
  });

  it("spreads each feature variant's random draws across the whole range", () => {
    const space: SearchSpace = {
      params: { alpha: { min: 1e-3, max: 1e3, scale: 'log' } },
      features: [{}, { trend: false }],
    };
    const c = candidates(space, 6, 'random', 5);
    for (const variant of [0, 1]) {
      const logs = c.filter((_, i) => i % 2 === variant).map((x) => Math.log10(x.params.alpha!));
      // three draws, one per third of [-3, 3]
      expect(logs[0]).toBeLessThan(-1);
      expect(logs[1]).toBeGreaterThanOrEqual(-1.001);
      expect(logs[1]).toBeLessThan(1.001);
      expect(logs[2]).toBeGreaterThanOrEqual(0.999);
    }
  });

  it('samples a seeded random subset within the budget, the same for the same seed', () => {
    const space: SearchSpace = {
      params: { alpha: { min: 1e-3, max: 1e3, scale: 'log' } },
      features: [{}],
    };
    const a = candidates(space, 8, 'auto', 42);
    expect(a).toHaveLength(8);
    expect(candidates(space, 8, 'auto', 42)).toEqual(a);
    expect(candidates(space, 8, 'auto', 43)).not.toEqual(a);
    for (const c of a) expect(c.params.alpha).toBeGreaterThanOrEqual(1e-3);
  });
});

describe('searchFamily', () => {
  it('picks the candidate with the lowest pooled CV MAE and is deterministic', () => {
    const s = syntheticSeries(96);
    const folds = expandingWindowSplits(96, { folds: 3, horizon: 12 });
    const space: SearchSpace = { params: { alpha: { values: [0.01, 1, 1e4] } }, features: [{}] };
    const r = searchFamily(s, 'ridge', folds, { space, seed: 1 });
    const maes = r.trials.map((t) => t.cv!.mae);
    expect(r.best.cv!.mae).toBe(Math.min(...maes));
    expect(r.best.params.alpha).not.toBe(1e4); // heavy shrinkage loses on a temperature-driven series
    expect(searchFamily(s, 'ridge', folds, { space, seed: 1 }).trials).toEqual(r.trials);
  });
});
