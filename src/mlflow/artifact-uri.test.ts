import { describe, expect, it } from 'vitest';
import { artifactPath, joinArtifactPath } from './artifact-uri';
import { MlflowInvalidParameterError } from './errors';

describe('artifactPath', () => {
  it.each([
    ['mlflow-artifacts:/1/abc/artifacts', '1/abc/artifacts'],
    ['mlflow-artifacts:/1/abc/artifacts/', '1/abc/artifacts'],
    ['mlflow-artifacts://mlflow.internal:5000/1/abc/artifacts', '1/abc/artifacts'],
    ['mlflow-artifacts:/', ''],
    ['http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts', '1/abc/artifacts'],
    [
      'https://example.com/mlflow/api/2.0/mlflow-artifacts/artifacts/2/r/artifacts/model',
      '2/r/artifacts/model',
    ],
    ['https://example.com/api/2.0/mlflow-artifacts/artifacts/1/a%20b', '1/a b'],
  ])('maps %s to %s', (uri, path) => {
    expect(artifactPath(uri)).toBe(path);
  });

  it.each([
    's3://bucket/1/abc/artifacts',
    'file:///tmp/mlruns/1/abc/artifacts',
    'runs:/abc/model',
    '/tmp/mlruns/1',
    'https://example.com/files/1/abc',
    'mlflow-artifacts:/1/../../etc',
  ])('refuses %s', (uri) => {
    expect(() => artifactPath(uri)).toThrow(MlflowInvalidParameterError);
  });
});

describe('joinArtifactPath', () => {
  it('joins segments and trims slashes', () => {
    expect(joinArtifactPath('1/r/artifacts/', '/model', 'a.bin')).toBe('1/r/artifacts/model/a.bin');
    expect(joinArtifactPath('', 'x')).toBe('x');
  });

  it('refuses .., . and empty segments', () => {
    expect(() => joinArtifactPath('1', '../2')).toThrow(MlflowInvalidParameterError);
    expect(() => joinArtifactPath('1', 'a//b')).toThrow(MlflowInvalidParameterError);
    expect(() => joinArtifactPath('1', './a')).toThrow(MlflowInvalidParameterError);
    expect(() => joinArtifactPath('1', 'a\\b')).toThrow(MlflowInvalidParameterError);
  });
});
