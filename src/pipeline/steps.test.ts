import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dieboldMariano, type Metrics } from '../ml';
import { writeSeries } from '../data/series-file';
import { PipelineInputError, promotionDecision, splitStep } from './steps';
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

describe('promotion rule', () => {
  it('promotes the first version', () => {
    expect(promotionDecision({ metrics: metrics(30), champion: null }, policy)).toMatchObject({
      promote: true,
    });
  });

  it('promotes a challenger that beats the champion by more than the margin, significantly', () => {
    expect(significant.pValue).toBeLessThan(0.001);
    const d = promotionDecision(
      {
        metrics: metrics(15),
        champion: { version: '3', metrics: metrics(30), significance: significant },
      },
      policy,
    );
    expect(d.promote).toBe(true);
    expect(d.reason).toContain('50.0% better');
  });

  it('keeps the champion when the gain is below the margin, and says why', () => {
    const d = promotionDecision(
      {
        metrics: metrics(29.5),
        champion: { version: '3', metrics: metrics(30), significance: significant },
      },
      policy,
    );
    expect(d.promote).toBe(false);
    expect(d.reason).toMatch(/not enough gain: .*v3/);
  });

  it('keeps the champion when the gain could be noise', () => {
    expect(noise.pValue).toBeGreaterThan(0.05);
    const d = promotionDecision(
      {
        metrics: metrics(27),
        champion: { version: '3', metrics: metrics(30), significance: noise },
      },
      policy,
    );
    expect(d.promote).toBe(false);
    expect(d.reason).toMatch(/gain not significant: .*Diebold-Mariano p = /);
  });

  it('keeps the champion on a tie', () => {
    const tie = dieboldMariano(champErrors, champErrors);
    expect(
      promotionDecision(
        {
          metrics: metrics(30),
          champion: { version: '1', metrics: metrics(30), significance: tie },
        },
        { minImprovement: 0, maxPValue: 0.05 },
      ).promote,
    ).toBe(false);
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
