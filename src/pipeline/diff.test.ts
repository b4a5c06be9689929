import { describe, expect, it } from 'vitest';
import { diffVersions, formatVersionDiff } from './diff';
import type { RunSummary } from './model-card';

const base: RunSummary = {
  modelName: 'ice-cream-sales',
  version: '1',
  runId: 'r1',
  aliases: [],
  params: { family: 'ridge', seed: '7', 'param.alpha': '1', rows: '231', data_path: 'a.csv' },
  metrics: { holdout_mae: 50, holdout_rmse: 60, fold_mae: 3 },
  tags: {
    'data.md5': 'a'.repeat(32),
    'mlflow.source.git.commit': '1'.repeat(40),
    'mlflow.source.git.dirty': 'false',
    'code.package_lock_sha256': 'p1',
  },
  versionTags: {},
  config: { seed: 7, holdout: 24, columns: { date: 'date' }, dataPath: '/x/a.csv' },
  featureNames: ['lag_1', 'lag_12', 'temperature'],
  training: null,
  errorAnalysis: null,
};

describe('version diff', () => {
  it('finds nothing between a version and itself', () => {
    const d = diffVersions(base, { ...base, version: '2', runId: 'r2' });
    expect(d.same).toBe(true);
    expect(formatVersionDiff(d)).toContain('same data, code, configuration, metrics and features');
  });

  it('names changed data, code, config, metrics and features', () => {
    const b: RunSummary = {
      ...base,
      version: '2',
      runId: 'r2',
      params: { ...base.params, seed: '8', rows: '232' },
      metrics: { holdout_mae: 45, holdout_rmse: 60 },
      tags: { ...base.tags, 'data.md5': 'b'.repeat(32), 'mlflow.source.git.dirty': 'true' },
      config: { ...base.config, seed: 8 },
      featureNames: ['lag_1', 'temperature', 'temperature_sq'],
    };
    const d = diffVersions(base, b);
    expect(d.same).toBe(false);
    expect(d.data.filter((f) => f.changed).map((f) => f.name)).toEqual(['md5', 'rows']);
    expect(d.code.filter((f) => f.changed)).toEqual([
      { name: 'dirty', a: 'false', b: 'true', changed: true },
    ]);
    expect(d.config.filter((f) => f.changed).map((f) => f.name)).toEqual(['config.seed', 'seed']);
    expect(d.metrics.find((m) => m.name === 'holdout_mae')).toEqual({
      name: 'holdout_mae',
      a: 50,
      b: 45,
      delta: -5,
      relative: -0.1,
    });
    // per-fold series are not compared (the latest step's value says nothing)
    expect(d.metrics.map((m) => m.name)).not.toContain('fold_mae');
    expect(d.features).toEqual({ added: ['temperature_sq'], removed: ['lag_12'], kept: 2 });
    const text = formatVersionDiff(d);
    expect(text).toContain('holdout_mae');
    expect(text).toContain('-5.000 (-10.0%)');
    expect(text).toContain('added temperature_sq; removed lag_12');
    expect(text).toMatch(/md5\s+aaaaaaaaaaaa {2}-> {2}bbbbbbbbbbbb/);
  });
});
