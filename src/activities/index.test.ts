import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { japanColumns } from '../data/dataset';
import type { MlflowClient } from '../mlflow/client';
import { MlflowUnavailableError } from '../mlflow/errors';
import { createActivities } from '.';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'activities-test-'));
fs.writeFileSync(path.join(dir, 'sales.csv'), 'hello\n'); // md5 b1946ac92492d2347c6235b4d2611184
fs.writeFileSync(
  path.join(dir, 'data.dvc'),
  'outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: sales.csv\n',
);

const unavailable = new MlflowUnavailableError('connect ECONNREFUSED 127.0.0.1:5000', {
  errorCode: 'NETWORK_ERROR',
});
const fakeMlflow = {
  tryGetModelVersionByAlias: () => Promise.reject(unavailable),
} as unknown as MlflowClient;

const activities = createActivities({
  defaults: {
    dataPath: path.join(dir, 'sales.csv'),
    dvcFile: path.join(dir, 'data.dvc'),
    columns: japanColumns,
  },
  projectRoot: dir,
  workRoot: path.join(dir, 'work'),
  mlflow: fakeMlflow,
  experimentName: 'e',
  registeredModel: 'm',
  provenance: () => Promise.resolve({}),
});

describe('activity error classification', () => {
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('fails ingest without retries when the data does not match its DVC md5, naming both hashes', async () => {
    const env = new MockActivityEnvironment();
    const err: unknown = await env.run(activities.ingestDataset, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('DataHashMismatchError');
    expect(failure.message).toContain('b1946ac92492d2347c6235b4d2611184');
    expect(failure.message).toContain('0123456789abcdef0123456789abcdef');
  });

  it('fails validation without retries for a file that is not a dataset', async () => {
    const env = new MockActivityEnvironment();
    const data = {
      dataPath: path.join(dir, 'sales.csv'),
      dvcFile: path.join(dir, 'data.dvc'),
      md5: 'x',
      size: 6,
    };
    const err = (await env
      .run(activities.validateDataset, { workflowId: 'w', runId: 'r', data, columns: undefined })
      .catch((e: unknown) => e)) as ApplicationFailure;
    expect(err.nonRetryable).toBe(true);
    expect(err.type).toBe('DatasetValidationError');
  });

  it('leaves an MLflow outage retryable, for Temporal to retry', async () => {
    const env = new MockActivityEnvironment();
    const err = await env
      .run(activities.evaluateModel, {
        workflowId: 'w',
        runId: 'r',
        seriesFile: 'x',
        split: { trainRows: 1, holdoutRows: 1, holdoutFrom: '' },
        modelFile: 'y',
      })
      .catch((e: unknown) => e);
    expect(err).toBe(unavailable);
  });
});
