import { describe, expect, it } from 'vitest';
import { checkPipelineInput, parsePipelineInput } from './pipeline-input';

describe('pipeline input from JSON', () => {
  it('accepts an empty object and every documented field', () => {
    expect(parsePipelineInput('{}')).toEqual({});
    const full = {
      dataPath: 'data/x.csv',
      dvcFile: 'data.dvc',
      columns: {
        date: 'd',
        target: 's',
        temperature: 't',
        temperatureScale: 41,
        covariates: ['h'],
      },
      holdout: 24,
      family: 'ridge',
      params: { alpha: 0.5 },
      families: ['ridge', 'gbm'],
      budget: 5,
      folds: 3,
      seed: 1,
      coverage: 0.9,
      minImprovement: 0.02,
      maxPValue: 0.05,
      reason: 'because',
      force: true,
    };
    expect(parsePipelineInput(JSON.stringify(full))).toEqual(full);
  });

  it('names broken JSON and a value that is not one object', () => {
    expect(() => parsePipelineInput('{seed:1}', '--input')).toThrow(
      'invalid --input: not valid JSON',
    );
    expect(() => parsePipelineInput('[1]')).toThrow(
      'expected one JSON object such as {"seed": 1}, got an array',
    );
    expect(() => parsePipelineInput('null')).toThrow('got null');
    expect(() => checkPipelineInput(3, 'retraining input')).toThrow(
      'invalid retraining input: expected one JSON object',
    );
  });

  it('lists every wrong field with its path, and unknown fields with the known ones', () => {
    const err = (() => {
      try {
        parsePipelineInput('{"budget":0,"family":"svm","columns":{"date":"d"},"sede":1}');
      } catch (e) {
        return e as Error & { problems: string[] };
      }
      throw new Error('no error');
    })();
    expect(err.problems).toHaveLength(5);
    expect(err.message).toContain('budget:');
    expect(err.message).toContain('family:');
    expect(err.message).toContain('columns.target:');
    expect(err.message).toContain('columns.temperature:');
    expect(err.message).toMatch(/unknown field "sede" \(known: dataPath, .*seed/);
  });
});
