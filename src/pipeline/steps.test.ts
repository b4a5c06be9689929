import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Metrics } from '../ml';
import { writeSeries } from './series-file';
import { PipelineInputError, promotionDecision, splitStep } from './steps';
import { monthlyTestSeries } from './test-series';

const metrics = (mae: number): Metrics => ({ mae, rmse: mae, mape: 0, smape: 0, r2: 0, n: 24 });

describe('promotion rule', () => {
  it('promotes the first version', () => {
    expect(promotionDecision({ metrics: metrics(30), champion: null }, 0.02)).toMatchObject({ promote: true });
  });

  it('promotes a challenger that beats the champion by more than the margin', () => {
    const d = promotionDecision({ metrics: metrics(27), champion: { version: '3', metrics: metrics(30) } }, 0.05);
    expect(d.promote).toBe(true);
    expect(d.reason).toContain('10.0% better');
  });

  it('keeps the champion when the gain is below the margin, and says why', () => {
    const d = promotionDecision({ metrics: metrics(29.5), champion: { version: '3', metrics: metrics(30) } }, 0.05);
    expect(d.promote).toBe(false);
    expect(d.reason).toMatch(/does not beat production: .*v3/);
  });

  it('keeps the champion on a tie', () => {
    expect(promotionDecision({ metrics: metrics(30), champion: { version: '1', metrics: metrics(30) } }, 0).promote).toBe(false);
  });
});

describe('split', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'split-test-'));
  const file = path.join(dir, 'series.json');
  writeSeries(file, monthlyTestSeries(60));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps two seasons out by default', () => {
    expect(splitStep(file)).toEqual({ trainRows: 36, holdoutRows: 24, holdoutFrom: '2013-01-01' });
  });

  it('refuses a holdout that leaves too little to train on', () => {
    expect(() => splitStep(file, 40)).toThrow(PipelineInputError);
    expect(() => splitStep(file, 0)).toThrow(/positive integer/);
  });
});
