import { describe, expect, it } from 'vitest';
import { buildModelCard, renderModelCard, type RunSummary } from './model-card';

const summary = (over: Partial<RunSummary> = {}): RunSummary => ({
  modelName: 'ice-cream-sales',
  version: '3',
  runId: 'r3',
  aliases: ['production'],
  params: {
    family: 'ridge',
    'param.alpha': '0.5',
    seed: '7',
    coverage: '0.9',
    data_path: 'japan.csv',
    rows: '231',
    frequency: 'monthly',
    train_rows: '207',
    holdout_rows: '24',
    holdout_from: '2017-12',
    features: '{"lags":[1,12]}',
  },
  metrics: {
    holdout_mae: 52.5,
    holdout_rmse: 70.25,
    holdout_mape: 6.5,
    baseline_seasonal_naive_mae: 90,
    baseline_seasonal_naive_rmse: 120,
    baseline_last_value_mae: 200,
    cv_mae: 60,
    cv_baseline_seasonal_naive_mae: 95,
    holdout_interval_coverage: 0.875,
  },
  tags: {
    'data.md5': 'abc299c0792c7a51a8525b5f3cfb718b',
    'data.pinned': 'true',
    'mlflow.source.git.commit': 'c0ffee',
    'mlflow.source.git.dirty': 'false',
    'temporal.workflow_id': 'training-1',
    'runtime.node': 'v20.19.0',
  },
  versionTags: {
    'production.decision': 'promote',
    'production.reason': 'beats production: Diebold-Mariano p = 0.010',
    'production.previous_version': '2',
    'staging.previous_version': '2',
  },
  config: { minImprovement: 0.05 },
  featureNames: ['lag_1', 'lag_12', 'temperature'],
  intervalByHorizon: [40, 45, 50, 52, 55, 60],
  training: { from: '2000-01', to: '2017-11', rows: 207, minTemp: 2.5, maxTemp: 30.125 },
  errorAnalysis: {
    n: 40,
    byTemperatureBand: [
      { key: '0..5 C', n: 10, mae: 20, bias: 1 },
      { key: '25..30 C', n: 8, mae: 95, bias: -30 },
    ],
    byMonth: [
      { key: 'Jan', n: 4, mae: 10, bias: 0 },
      { key: 'Aug', n: 4, mae: 120, bias: -40 },
      { key: 'Jul', n: 4, mae: 80, bias: 5 },
      { key: 'Dec', n: 4, mae: 30, bias: 2 },
    ],
    byWeekday: null,
    worst: [
      {
        date: '2010-08',
        actual: 1500,
        prediction: 1300,
        temperature: 29.6,
        source: 'cv',
        error: 200,
      },
    ],
  },
  ...over,
});

describe('model card', () => {
  it('puts the holdout and CV metrics next to the naive baselines', () => {
    const card = buildModelCard(summary());
    expect(card.metrics.holdout).toMatchObject({ mae: 52.5, rmse: 70.25 });
    expect(card.metrics.cv).toEqual({ mae: 60 });
    expect(card.metrics.baselines.seasonalNaive).toMatchObject({ mae: 90 });
    expect(card.metrics.baselines.cvSeasonalNaive).toEqual({ mae: 95 });
    const md = renderModelCard(card);
    expect(md).toContain('| holdout | 52.50 | 70.25 | 6.50 |');
    expect(md).toContain('| naive: seasonal, holdout | 90.00 | 120.00 | - |');
    expect(md).toContain('empirical holdout coverage 87.5%');
    expect(card.interval.halfWidthByHorizon).toEqual([40, 45, 50, 52, 55, 60]);
    expect(md).toContain('40.0 at 1, 50.0 at 3, 60.0 at 6');
    const old = buildModelCard(summary({ intervalByHorizon: null }));
    expect(old.interval.halfWidthByHorizon).toBeNull();
    expect(renderModelCard(old)).not.toContain('half-width by periods ahead');
  });

  it('names the worst months first and every temperature band', () => {
    const card = buildModelCard(summary());
    expect(card.errorAnalysis?.worstMonths.map((g) => g.key)).toEqual(['Aug', 'Jul', 'Dec']);
    expect(card.errorAnalysis?.temperatureBands.map((g) => g.key)).toEqual(['0..5 C', '25..30 C']);
    expect(renderModelCard(card)).toContain('worst months (MAE): Aug 120.00 (bias -40.00)');
  });

  it('states the horizon and the training temperature range as limitations', () => {
    const { limitations } = buildModelCard(summary());
    expect(limitations[0]).toMatch(/^One step ahead.*previous month/);
    expect(limitations[1]).toContain('from 2.5 to 30.1 deg C');
    expect(limitations.join(' ')).not.toContain('dirty');
  });

  it('warns about a dirty tree and an unpinned data file', () => {
    const card = buildModelCard(
      summary({
        tags: {
          'mlflow.source.git.dirty': 'true',
          'data.pinned': 'false',
          'data.pinned_reason': '/tmp/x.dvc is not tracked by git',
        },
      }),
    );
    expect(card.limitations.join('\n')).toMatch(/dirty working tree/);
    expect(card.limitations.join('\n')).toContain('/tmp/x.dvc is not tracked by git');
    expect(card.data.pinned).toBe(false);
  });

  it('records lineage and the promotion decision with its test', () => {
    const card = buildModelCard(summary());
    expect(card.lineage).toEqual({
      runId: 'r3',
      dataMd5: 'abc299c0792c7a51a8525b5f3cfb718b',
      commit: 'c0ffee',
      workflowId: 'training-1',
      parentVersions: ['2'],
    });
    expect(card.promotion).toMatchObject({ decision: 'promote', forced: false });
    expect(card.promotion.policy).toEqual({ minImprovement: 0.05, maxPValue: 0.05 });
    const md = renderModelCard(card);
    expect(md).toContain('Diebold-Mariano p = 0.010');
    expect(md).toContain('at least 5.0% better');
    expect(md).toContain('parent versions: v2');
  });

  it('marks a forced promotion', () => {
    const card = buildModelCard(
      summary({ versionTags: { 'production.decision': 'promote', 'production.forced': 'true' } }),
    );
    expect(card.promotion.forced).toBe(true);
    expect(renderModelCard(card)).toContain('FORCED');
  });

  it('says what was not recorded instead of inventing it', () => {
    const card = buildModelCard(
      summary({ training: null, errorAnalysis: null, config: null, versionTags: {} }),
    );
    expect(card.data.trainingTemperature).toBeNull();
    const md = renderModelCard(card);
    expect(md).toContain('training temperatures not recorded');
    expect(md).toContain('no error analysis recorded');
    expect(md).toContain('no promotion decision yet');
  });
});
