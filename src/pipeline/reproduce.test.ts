import { describe, expect, it } from 'vitest';
import { formatReproduceReport, type ReproduceReport } from './reproduce';

const sha = (c: string) => c.repeat(64);
const report = (over: Partial<ReproduceReport> = {}): ReproduceReport => ({
  format: 'icecream-reproduce-report',
  formatVersion: 1,
  runId: 'r1',
  modelName: 'ice-cream-sales',
  version: '1',
  reproduced: true,
  firstDifferingStep: null,
  inputs: [],
  steps: (['ingest', 'validate', 'split', 'train', 'evaluate'] as const).map((step) => ({
    step,
    recorded: sha('a'),
    actual: sha('a'),
    same: true,
  })),
  model: { recorded: sha('b'), actual: sha('b'), same: true },
  metrics: [{ name: 'holdout_mae', recorded: 50, actual: 50, delta: 0 }],
  atHead: false,
  mode: 'in-process',
  commit: { recorded: '1'.repeat(40), actual: '1'.repeat(40) },
  data: { md5: 'c'.repeat(32), remote: '/r', file: null },
  overrides: {},
  at: '2026-12-02T00:00:00.000Z',
  ...over,
});

describe('reproduce report text', () => {
  it('says where the steps ran again: the workflow and MLflow run of a Temporal re-run', () => {
    const text = formatReproduceReport(
      report({ mode: 'temporal', rerun: { workflowId: 'reproduce-r1-x', mlflowRunId: 'r2' } }),
    );
    expect(text).toContain('re-run on Temporal: workflow reproduce-r1-x, MLflow run r2');
    expect(formatReproduceReport(report())).not.toContain('Temporal');
  });

  it('ends with "reproduced" when every digest and metric matches', () => {
    const text = formatReproduceReport(report());
    expect(text).toContain('model      bbbbbbbbbbbb   bbbbbbbbbbbb   same bytes');
    expect(text).toContain('metrics: all 1 equal');
    expect(text.trim().split('\n').at(-1)).toBe('reproduced');
  });

  it('names the first differing step, the inputs that differ and how far each metric moved', () => {
    const r = report({
      reproduced: false,
      firstDifferingStep: 'train',
      inputs: [{ kind: 'configuration', name: 'seed', recorded: '7', actual: '8' }],
      metrics: [{ name: 'holdout_mae', recorded: 50, actual: 51.5, delta: 1.5 }],
      overrides: { seed: 8 },
    });
    r.steps[3] = { step: 'train', recorded: sha('a'), actual: sha('d'), same: false };
    const text = formatReproduceReport(r);
    expect(text).toContain('train      aaaaaaaaaaaa   dddddddddddd   DIFFERS');
    expect(text).toContain('holdout_mae                  50.0000 -> 51.5000 (+1.5000)');
    expect(text).toContain('configuration seed: 7 -> 8');
    expect(text.trim().split('\n').at(-1)).toBe(
      'NOT reproduced: first differing step train; differing inputs: configuration',
    );
  });
});
