import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { japanColumns } from '../data/dataset';
import type { MlflowClient } from '../mlflow/client';
import { MlflowUnavailableError } from '../mlflow/errors';
import type { IngestResult, RunRef } from '../pipeline/types';
import { createActivities } from '.';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'activities-test-'));
fs.writeFileSync(path.join(dir, 'sales.csv'), 'hello\n'); // md5 b1946ac92492d2347c6235b4d2611184
fs.writeFileSync(
  path.join(dir, 'data.dvc'),
  'outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: sales.csv\n',
);
fs.writeFileSync(path.join(dir, 'good.csv'), 'hello\n');
fs.writeFileSync(
  path.join(dir, 'good.dvc'),
  'outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  path: good.csv\n',
);

const unavailable = new MlflowUnavailableError('connect ECONNREFUSED 127.0.0.1:5000', {
  errorCode: 'NETWORK_ERROR',
});
const tags: Record<string, string>[] = [];
const fakeMlflow = {
  tryGetModelVersionByAlias: () => Promise.reject(unavailable),
  logBatch: (b: { tags?: Record<string, string> }) => {
    tags.push(b.tags ?? {});
    return Promise.resolve();
  },
} as unknown as MlflowClient;

const activities = createActivities({
  defaults: {
    dataPath: path.join(dir, 'sales.csv'),
    dvcFile: path.join(dir, 'data.dvc'),
    columns: japanColumns,
  },
  projectRoot: dir,
  cacheDir: path.join(dir, 'cache'),
  cacheMaxBytes: 1 << 20,
  dvc: undefined,
  mlflow: fakeMlflow,
  experimentName: 'e',
  registeredModel: 'm',
  provenance: () => Promise.resolve({}),
});

const run: RunRef = {
  workflowId: 'w',
  runId: 'r',
  mlflowRunId: 'm1',
  experimentId: '1',
  artifactUri: 'mlflow-artifacts:/1/m1/artifacts',
};

describe('activities', () => {
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('fails ingest without retries when the data does not match its DVC md5, naming both hashes', async () => {
    const env = new MockActivityEnvironment();
    const err: unknown = await env
      .run(activities.ingestDataset, { run, input: {} })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('DataHashMismatchError');
    expect(failure.message).toContain('b1946ac92492d2347c6235b4d2611184');
    expect(failure.message).toContain('0123456789abcdef0123456789abcdef');
  });

  it('ingests by md5 and records the digests as step tags on the run', async () => {
    const env = new MockActivityEnvironment();
    const data: IngestResult = await env.run(activities.ingestDataset, {
      run,
      input: { dataPath: 'good.csv', dvcFile: 'good.dvc' },
    });
    expect(data).toMatchObject({
      md5: 'b1946ac92492d2347c6235b4d2611184',
      size: 6,
      dataPath: 'good.csv',
      dvcFile: 'good.dvc',
    });
    expect(data.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(tags.at(-1)).toMatchObject({
      'icecream.step.ingest.md5': data.md5,
      'icecream.step.ingest.sha256': data.sha256,
      'icecream.step.ingest.size': '6',
    });
  });

  it('fails validation without retries when no copy of the ingested md5 is left', async () => {
    const env = new MockActivityEnvironment();
    const data = {
      md5: 'ffffffffffffffffffffffffffffffff', // what ingest saw; the file has other bytes now
      sha256: '',
      size: 6,
      dataPath: 'good.csv',
      dvcFile: 'good.dvc',
    };
    const err = (await env
      .run(activities.validateDataset, { run, data, columns: undefined })
      .catch((e: unknown) => e)) as ApplicationFailure;
    expect(err.nonRetryable).toBe(true);
    expect(err.type).toBe('DatasetUnavailableError');
    expect(err.message).toMatch(/validate: .*md5 ffff.*good\.csv now has md5 b1946ac9/);
  });

  it('fails validation without retries for a file that is not a dataset', async () => {
    const env = new MockActivityEnvironment();
    const data = {
      md5: 'b1946ac92492d2347c6235b4d2611184',
      sha256: '',
      size: 6,
      dataPath: 'good.csv',
      dvcFile: 'good.dvc',
    };
    const err = (await env
      .run(activities.validateDataset, { run, data, columns: undefined })
      .catch((e: unknown) => e)) as ApplicationFailure;
    expect(err.nonRetryable).toBe(true);
    expect(err.type).toBe('DatasetValidationError');
  });

  it('leaves an MLflow outage retryable, for Temporal to retry', async () => {
    const env = new MockActivityEnvironment();
    const ref = { sha256: 'a'.repeat(64), size: 1, uri: 'mlflow-artifacts:/1/m1/artifacts/x' };
    const err = await env
      .run(activities.evaluateModel, {
        run,
        series: ref,
        split: { trainRows: 1, holdoutRows: 1, holdoutFrom: '' },
        model: ref,
      })
      .catch((e: unknown) => e);
    expect(err).toBe(unavailable);
  });
});
