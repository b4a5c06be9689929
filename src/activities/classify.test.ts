import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { DataHashMismatchError, DvcCommandError } from '../data/dvc';
import {
  MlflowError,
  MlflowInvalidParameterError,
  errorFromNetwork,
  errorFromResponse,
} from '../mlflow/errors';
import { classify, isTransient } from './classify';

const request = { method: 'POST', path: '/api/2.0/mlflow/runs/create' };
const failWith = (err: unknown) =>
  classify('register', () => {
    throw err;
  });
const nonRetryable = async (err: unknown): Promise<ApplicationFailure> => {
  const thrown: unknown = await failWith(err).catch((e: unknown) => e);
  expect(thrown).toBeInstanceOf(ApplicationFailure);
  expect((thrown as ApplicationFailure).nonRetryable).toBe(true);
  return thrown as ApplicationFailure;
};

describe('activity error classification', () => {
  it('retries MLflow HTTP 500, 503 and 429 (rethrown unchanged for Temporal)', async () => {
    for (const status of [500, 503, 429]) {
      const err = errorFromResponse(
        status,
        '{"error_code":"INTERNAL_ERROR","message":"boom"}',
        request,
      );
      expect(isTransient(err), `status ${status}`).toBe(true);
    }
    const unavailable = errorFromResponse(503, '', request);
    expect(await failWith(unavailable).catch((e: unknown) => e)).toBe(unavailable);
  });

  it('retries network errors and timeouts, also when wrapped as a cause', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5000'), {
      code: 'ECONNREFUSED',
    });
    expect(isTransient(errorFromNetwork(refused, request))).toBe(true);
    expect(isTransient(new Error('upload failed', { cause: refused }))).toBe(true);
    const timeout = Object.assign(new Error('socket hang up'), { code: 'ETIMEDOUT' });
    expect(await failWith(timeout).catch((e: unknown) => e)).toBe(timeout);
  });

  it('retries a DVC remote that times out, not one that lacks the object', () => {
    expect(isTransient(new DvcCommandError(['fetch'], 'ERROR: connection timed out'))).toBe(true);
    expect(
      isTransient(
        new DvcCommandError(['fetch'], 'ERROR: failed to fetch data: missing cache files'),
      ),
    ).toBe(false);
  });

  it('does not retry an engine RangeError or TypeError, and names the step', async () => {
    const failure = await nonRetryable(new RangeError('Invalid array length'));
    expect(failure.type).toBe('RangeError');
    expect(failure.message).toBe('register: Invalid array length');
    expect((await nonRetryable(new TypeError('x is undefined'))).type).toBe('TypeError');
  });

  it('does not retry bad data, a digest mismatch or a bad MLflow request', async () => {
    const mismatch = new DataHashMismatchError(
      'data.csv',
      'a'.repeat(32),
      'b'.repeat(32),
      'data.dvc',
    );
    const failure = await nonRetryable(mismatch);
    expect(failure.type).toBe('DataHashMismatchError');
    expect(failure.message).toContain('a'.repeat(32));
    const invalid = new MlflowInvalidParameterError('bad key', {
      errorCode: 'INVALID_PARAMETER_VALUE',
      status: 400,
    });
    expect((await nonRetryable(invalid)).type).toBe('MlflowInvalidParameterError');
    expect(
      (await nonRetryable(new MlflowError('forbidden', { errorCode: 'HTTP_403', status: 403 })))
        .nonRetryable,
    ).toBe(true);
  });

  it('does not retry an unknown error or a thrown non-Error', async () => {
    expect((await nonRetryable(new Error('something new'))).message).toBe(
      'register: something new',
    );
    expect((await nonRetryable('a string')).message).toBe('register: a string');
  });

  it('passes cancellation and already-classified failures through', async () => {
    const cancelled = new CancelledFailure('cancelled');
    expect(await failWith(cancelled).catch((e: unknown) => e)).toBe(cancelled);
    const retryable = ApplicationFailure.retryable('try again', 'Busy');
    expect(await failWith(retryable).catch((e: unknown) => e)).toBe(retryable);
  });
});
