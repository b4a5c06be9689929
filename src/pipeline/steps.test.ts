import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  dieboldMariano,
  fitForecaster,
  sliceSeries,
  type DieboldMarianoResult,
  type Metrics,
  type ModelFamily,
} from '../ml';
import type { ChampionComparison } from './types';
import { writeSeries } from '../data/series-file';
import {
  PipelineInputError,
  compareWithChampion,
  promotionDecision,
  scoreOnHoldout,
  splitSeries,
  splitStep,
  planTraining,
  trainFinal,
  trainSeries,
  trainTrials,
} from './steps';
import { syntheticSeries } from '../ml/testing';

const metrics = (mae: number): Metrics => ({ mae, rmse: mae, mape: 0, smape: 0, r2: 0, n: 24 });
// paired holdout errors: the challenger's are clearly, or barely, smaller than the champion's
const champErrors = [30, -28, 33, -31, 29, -30, 27, -32, 31, -29, 30, -30];
const significant = dieboldMariano(
  champErrors.map((e) => e * 0.5),
  champErrors,
);
const noise = dieboldMariano(
  champErrors.map((e, i) => (i % 2 ? e * 0.9 : e * 1.05)),
  champErrors,
);
const policy = { minImprovement: 0.05, maxPValue: 0.05 };

const champ = (
  version: string,
  theirs: number,
  ours: number,
  significance: DieboldMarianoResult,
): ChampionComparison => ({
  version,
  trainedTo: '2012-12-01',
  rows: 24,
  from: '2013-01-01',
  metrics: metrics(theirs),
  challenger: metrics(ours),
  significance,
});

describe('promotion rule', () => {
  it('promotes the first version', () => {
    expect(promotionDecision({ metrics: metrics(30), champion: null }, policy)).toMatchObject({
      promote: true,
    });
  });

  it('promotes a challenger that beats the champion by more than the margin, significantly', () => {
    expect(significant.pValue).toBeLessThan(0.001);
    const d = promotionDecision(
      { metrics: metrics(15), champion: champ('3', 30, 15, significant) },
      policy,
    );
    expect(d.promote).toBe(true);
    expect(d.reason).toContain('50.0% better');
  });

  it('keeps the champion when the gain is below the margin, and says why', () => {
    const d = promotionDecision(
      { metrics: metrics(29.5), champion: champ('3', 30, 29.5, significant) },
      policy,
    );
    expect(d.promote).toBe(false);
    expect(d.reason).toMatch(/not enough gain: .*v3/);
  });

  it('keeps the champion when the gain could be noise', () => {
    expect(noise.pValue).toBeGreaterThan(0.05);
    const d = promotionDecision(
      { metrics: metrics(27), champion: champ('3', 30, 27, noise) },
      policy,
    );
    expect(d.promote).toBe(false);
    expect(d.reason).toMatch(/gain not significant: .*Diebold-Mariano p = /);
  });

  it('keeps the champion on a tie', () => {
    const tie = dieboldMariano(champErrors, champErrors);
    expect(
      promotionDecision(
        { metrics: metrics(30), champion: champ('1', 30, 30, tie) },
        { minImprovement: 0, maxPValue: 0.05 },
      ).promote,
    ).toBe(false);
  });

  it('compares on the rows after the champion’s window only, not on the whole holdout', () => {
    // whole-holdout MAE says 10 vs 30; on the fair rows the new model is worse
    const d = promotionDecision(
      { metrics: metrics(10), champion: champ('2', 30, 35, significant) },
      policy,
    );
    expect(d.promote).toBe(false);
    expect(d.reason).toContain('MAE 35.00 vs production v2 30.00');
  });

  it('says so instead of comparing when too few rows are after the champion’s window', () => {
    const d = promotionDecision(
      {
        metrics: metrics(10),
        champion: {
          ...champ('2', 30, 10, significant),
          rows: 2,
          metrics: null,
          challenger: null,
          significance: null,
          insufficient: 'only 2 of 24 holdout rows are after ...',
        },
      },
      policy,
    );
    expect(d).toEqual({
      promote: false,
      reason: 'no fair comparison with production v2: only 2 of 24 holdout rows are after ...',
    });
  });
});

describe('champion comparison', () => {
  const series = syntheticSeries(96);
  const split = splitSeries(series, 24); // holdout 2016-01 .. 2017-12
  const fit = (rows: number) =>
    fitForecaster(sliceSeries(series, 0, rows), {
      family: 'ridge',
      params: { alpha: 1 },
      seed: 1,
      coverage: 0.9,
    });
  const ours = scoreOnHoldout(fit(split.trainRows), series, split);

  it('scores a champion trained before the holdout on every holdout row', () => {
    const c = compareWithChampion(ours, { version: '1', forecaster: fit(60) }, series, split);
    expect(c).toMatchObject({ rows: 24, from: '2016-01-01', trainedTo: '2014-12-01' });
    expect(c.challenger?.mae).toBeCloseTo(ours.metrics.mae, 10);
    expect(c.significance?.n).toBe(24);
  });

  it('leaves out holdout rows the champion was trained on', () => {
    const c = compareWithChampion(ours, { version: '1', forecaster: fit(84) }, series, split);
    expect(c).toMatchObject({ rows: 12, from: '2017-01-01', trainedTo: '2016-12-01' });
    expect(c.significance?.n).toBe(12);
    // both models on the same 12 rows
    const tail = ours.holdout
      .slice(12)
      .map((p, i) => Math.abs(ours.actual[12 + i]! - p.prediction));
    expect(c.challenger?.mae).toBeCloseTo(tail.reduce((a, b) => a + b, 0) / 12, 10);
  });

  it('reports too few rows when the champion saw almost the whole holdout', () => {
    const c = compareWithChampion(ours, { version: '4', forecaster: fit(93) }, series, split);
    expect(c.rows).toBe(3);
    expect(c.metrics).toBeNull();
    expect(c.insufficient).toMatch(/only 3 of 24 holdout rows .* production v4/);
  });
});

describe('split', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'split-test-'));
  const file = path.join(dir, 'series.json');
  writeSeries(file, syntheticSeries(60));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps two seasons out by default', () => {
    expect(splitStep(file)).toEqual({ trainRows: 36, holdoutRows: 24, holdoutFrom: '2013-01-01' });
  });

  it('refuses a holdout that leaves too little to train on', () => {
    expect(() => splitStep(file, 40)).toThrow(PipelineInputError);
    expect(() => splitStep(file, 0)).toThrow(/positive integer/);
  });
});

describe('model search in chunks', () => {
  const series = syntheticSeries(144);
  const split = splitSeries(series, 24);
  const options = { families: ['ridge', 'tree'] as ModelFamily[], budget: 5, folds: 3, seed: 3 };

  it('gives the same model bytes and report as the search in one piece, whatever the chunk order', () => {
    const whole = trainSeries(series, split, options);
    const planned = planTraining(series, split, options)!;
    expect(planned.total).toBe(10);
    expect(new Set(planned.chunks.map((c) => c.family))).toEqual(new Set(['ridge', 'tree']));
    // chunks evaluated in reverse (as parallel workers may finish), put back in plan order
    const done = [...planned.chunks]
      .reverse()
      .map((chunk) => ({ chunk, trials: trainTrials(series, split, planned.plan, chunk) }))
      .reverse();
    const byFamily = planned.plan.families.map((f) =>
      done.filter((d) => d.chunk.family === f.family).flatMap((d) => d.trials),
    );
    // through JSON, as the trials travel between workers
    const parts = JSON.parse(JSON.stringify(byFamily)) as typeof byFamily;
    const plan = JSON.parse(JSON.stringify(planned.plan)) as typeof planned.plan;
    const final = trainFinal(series, split, options, plan, parts);
    expect(final.forecasterText).toBe(whole.forecasterText);
    expect(final.experimentText).toBe(whole.experimentText);
    expect(final.checksum).toBe(whole.checksum);
  });

  it('has nothing to plan when the configuration is fixed', () => {
    expect(planTraining(series, split, { family: 'ridge', params: { alpha: 1 } })).toBeNull();
  });
});
