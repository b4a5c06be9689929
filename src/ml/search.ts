import { crossValidate, pooledMetrics, type Fold, type FoldResult } from './cv';
import type { FeatureSpec } from './features';
import type { ForecasterConfig } from './forecaster';
import type { Metrics, ModelFamily, Series } from './types';

/** A hyperparameter's candidates: explicit values, or a range sampled uniformly (log scale for 'log'). */
export type ParamRange =
  { values: number[] } | { min: number; max: number; scale: 'log' | 'linear'; integer?: boolean };

/** What to search for one family: hyperparameters and feature-spec variants (each a partial override). */
export interface SearchSpace {
  params: Record<string, ParamRange>;
  features: Partial<FeatureSpec>[];
}

const LINEAR_FEATURES: Partial<FeatureSpec>[] = [
  {},
  { targetTransform: 'log' },
  { covariates: [] },
  { anchor: 'last' },
  { anchor: 'level' },
  { targetTransform: 'log', covariates: [] },
];
// trees cannot extrapolate a level, so most variants learn the deviation from the recent level
const TREE_FEATURES: Partial<FeatureSpec>[] = [
  { anchor: 'level' },
  { anchor: 'last' },
  {},
  { anchor: 'level', covariates: [] },
];

/** Default search spaces per family (JSON-safe values only: no Infinity). */
export const DEFAULT_SPACES: Record<ModelFamily, SearchSpace> = {
  ridge: { params: { alpha: { min: 1e-3, max: 1e3, scale: 'log' } }, features: LINEAR_FEATURES },
  lasso: { params: { alpha: { min: 1e-4, max: 1e3, scale: 'log' } }, features: LINEAR_FEATURES },
  elasticnet: {
    params: {
      alpha: { min: 1e-4, max: 1e3, scale: 'log' },
      l1Ratio: { values: [0.1, 0.3, 0.5, 0.7, 0.9] },
    },
    features: LINEAR_FEATURES,
  },
  tree: {
    params: {
      maxDepth: { values: [2, 3, 4, 5, 6, 8] },
      minSamplesLeaf: { values: [1, 2, 4, 8, 16] },
    },
    features: TREE_FEATURES,
  },
  forest: {
    params: {
      nTrees: { values: [100] },
      maxDepth: { values: [4, 6, 8, 12, 16] },
      minSamplesLeaf: { values: [1, 2, 4, 8] },
      maxFeatures: { values: [0.33, 0.5, 1] },
    },
    features: TREE_FEATURES,
  },
  gbm: {
    params: {
      maxIter: { values: [100, 200, 400] },
      learningRate: { min: 0.02, max: 0.3, scale: 'log' },
      maxLeafNodes: { values: [7, 15, 31] },
      minSamplesLeaf: { values: [2, 5, 10, 20] },
      l2: { values: [0, 1] },
      earlyStopping: { values: [0, 1] },
    },
    features: TREE_FEATURES,
  },
};

/** Search options. */
export interface SearchOptions {
  /** Most candidate configurations evaluated (default 20). */
  budget?: number;
  /** 'grid' enumerates (truncated to the budget), 'random' samples, 'auto' = grid when it fits the budget. */
  strategy?: 'grid' | 'random' | 'auto';
  seed?: number;
  coverage?: number;
  /** Base feature overrides applied under every variant. */
  features?: Partial<FeatureSpec>;
  space?: SearchSpace;
  /** Called after each evaluated candidate. */
  onTrial?: (done: number, total: number) => void;
}

/** One evaluated candidate. */
export interface Trial {
  params: Record<string, number>;
  features: Partial<FeatureSpec>;
  /** pooled over every test row of every fold; null when the candidate failed */
  cv: Metrics | null;
  folds: Metrics[];
  /** set when this candidate could not be fitted */
  error?: string;
}

/** Result of searching one family. */
export interface SearchResult {
  family: ModelFamily;
  trials: Trial[];
  best: Trial;
  bestConfig: ForecasterConfig;
  /** fold results of the best candidate (out-of-sample predictions and residuals) */
  bestFolds: FoldResult[];
}

/** mulberry32: a small seeded PRNG, deterministic across platforms. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws from a range; `stratum` of `strata` restricts a continuous draw to that slice of the range. */
function sample(range: ParamRange, rand: () => number, stratum = 0, strata = 1): number {
  if ('values' in range) return range.values[Math.floor(rand() * range.values.length)]!;
  const u = (stratum + rand()) / strata;
  let v =
    range.scale === 'log'
      ? Math.exp(Math.log(range.min) + u * (Math.log(range.max) - Math.log(range.min)))
      : range.min + u * (range.max - range.min);
  if (range.integer) v = Math.round(v);
  // 4 significant digits keep configs readable and serialized models short
  return Number(v.toPrecision(4));
}

/** Grid points of a range: its explicit values, or 7 evenly spaced points (log-spaced for 'log'). */
export function gridValues(range: ParamRange, points = 7): number[] {
  if ('values' in range) return range.values;
  const out: number[] = [];
  for (let i = 0; i < points; i++) {
    const u = i / (points - 1);
    let v =
      range.scale === 'log'
        ? Math.exp(Math.log(range.min) + u * (Math.log(range.max) - Math.log(range.min)))
        : range.min + u * (range.max - range.min);
    if (range.integer) v = Math.round(v);
    out.push(Number(v.toPrecision(4)));
  }
  return [...new Set(out)];
}

/**
 * The candidate list for a space: the full grid (ranges as 7 points each) when the strategy is
 * 'grid', or 'auto' and the grid of explicit values fits the budget; else seeded random draws.
 * A grid larger than the budget is thinned to `budget` evenly spread candidates.
 */
export function candidates(
  space: SearchSpace,
  budget: number,
  strategy: 'grid' | 'random' | 'auto',
  seed: number,
): { params: Record<string, number>; features: Partial<FeatureSpec> }[] {
  const names = Object.keys(space.params).sort();
  const discrete = names.every((n) => 'values' in space.params[n]!);
  const variants = space.features.length ? space.features : [{}];
  let gridSize = variants.length;
  for (const n of names) gridSize *= gridValues(space.params[n]!).length;
  if (strategy === 'grid' || (strategy === 'auto' && discrete && gridSize <= budget)) {
    let combos: Record<string, number>[] = [{}];
    for (const n of names)
      combos = combos.flatMap((c) => gridValues(space.params[n]!).map((v) => ({ ...c, [n]: v })));
    const all = combos.flatMap((params) => variants.map((features) => ({ params, features })));
    if (all.length <= budget) return all;
    // an evenly spread subset of the grid, so every region and feature variant is represented
    return Array.from({ length: budget }, (_, i) => all[Math.floor((i * all.length) / budget)]!);
  }
  const rand = seededRandom(seed);
  const out: { params: Record<string, number>; features: Partial<FeatureSpec> }[] = [];
  const seen = new Set<string>();
  // each feature variant gets an equal share of the budget; within a variant the k-th draw of a
  // continuous range comes from the k-th of `strata` slices, so even a small share spans the range
  const strata = Math.max(1, Math.ceil(budget / variants.length));
  for (let tries = 0; out.length < budget && tries < budget * 20; tries++) {
    const features = variants[out.length % variants.length]!;
    const draw = Math.floor(out.length / variants.length);
    const params: Record<string, number> = {};
    for (const n of names)
      params[n] = sample(
        space.params[n]!,
        rand,
        tries < budget * 10 ? draw % strata : 0,
        tries < budget * 10 ? strata : 1,
      );
    const key = JSON.stringify([params, features]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ params, features });
  }
  return out;
}

/**
 * Seeded hyperparameter search for one family, scored by pooled MAE over the CV folds.
 * Deterministic for the same series, folds and options. A candidate that fails to fit is kept with
 * its error and no metrics; throws only when every candidate fails.
 */
export function searchFamily(
  series: Series,
  family: ModelFamily,
  folds: Fold[],
  options: SearchOptions = {},
): SearchResult {
  const seed = options.seed ?? 0;
  const space = options.space ?? DEFAULT_SPACES[family];
  const list = candidates(space, options.budget ?? 20, options.strategy ?? 'auto', seed);
  const trials: Trial[] = [];
  let best: { trial: Trial; config: ForecasterConfig; folds: FoldResult[] } | null = null;
  let firstError: unknown = null;
  list.forEach((cand, i) => {
    const config: ForecasterConfig = {
      family,
      params: cand.params,
      features: { ...options.features, ...cand.features },
      seed,
      coverage: options.coverage ?? 0.9,
    };
    try {
      const results = crossValidate(series, config, folds);
      const trial: Trial = {
        params: cand.params,
        features: cand.features,
        cv: pooledMetrics(results, series),
        folds: results.map((r) => r.metrics),
      };
      trials.push(trial);
      if (!best || trial.cv!.mae < best.trial.cv!.mae) best = { trial, config, folds: results };
    } catch (e) {
      firstError ??= e;
      trials.push({
        params: cand.params,
        features: cand.features,
        cv: null,
        folds: [],
        error: (e as Error).message,
      });
    }
    options.onTrial?.(i + 1, list.length);
  });
  if (!best)
    throw firstError instanceof Error
      ? firstError
      : new Error(`no ${family} candidate could be fitted`);
  const b = best as { trial: Trial; config: ForecasterConfig; folds: FoldResult[] };
  return { family, trials, best: b.trial, bestConfig: b.config, bestFolds: b.folds };
}
