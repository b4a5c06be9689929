/**
 * Retryability, decided once for every activity, as an allow-list of what is transient: network
 * errors, timeouts, HTTP 5xx and 429 from MLflow or the stores. Those are rethrown as they are
 * for Temporal to retry. Everything else (bad data, bad config, a digest mismatch, an engine
 * RangeError or TypeError, any error we did not foresee) is deterministic until proven otherwise:
 * it becomes a non-retryable ApplicationFailure whose message names the step and the problem.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { DvcCommandError } from '../data/dvc';
import { MlflowError } from '../mlflow/errors';

/** Node/axios error codes of a request that got no usable answer (the peer may answer later). */
export const transientErrorCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** What a DVC remote (S3, HTTP) prints when it is down or throttling, not when data is missing. */
const dvcTransient =
  /timed? ?out|connection (?:refused|reset|aborted)|temporar|unavailable|throttl|slow ?down|too many requests|\b(?:429|500|502|503|504)\b/i;

/** HTTP statuses of a store that may answer later. */
const transientStatus = (status: number): boolean => status === 429 || status >= 500;

/** True when retrying the same request later may succeed. Looks through `cause` chains. */
export function isTransient(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e !== null && e !== undefined && depth < 8; depth++) {
    // the MLflow client marks outages (502-504, 429, network, timeout, locked SQLite); a plain
    // 500 from the server is an outage too as far as the pipeline is concerned
    if (e instanceof MlflowError)
      return e.retryable || (e.status !== undefined && transientStatus(e.status));
    if (e instanceof DvcCommandError) return dvcTransient.test(e.stderr);
    if (typeof e === 'object') {
      const { code, status } = e as { code?: unknown; status?: unknown };
      if (typeof code === 'string' && transientErrorCodes.has(code)) return true;
      if (typeof status === 'number' && transientStatus(status)) return true;
    }
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}

/**
 * Runs one activity body and classifies what it throws: cancellations and failures already
 * classified pass through, transient errors are rethrown for Temporal to retry, everything else
 * becomes a non-retryable ApplicationFailure `"<step>: <message>"` typed with the error's name.
 */
export async function classify<T>(step: string, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw classifyError(step, err);
  }
}

/** The error an activity should throw for `err` (see {@link classify}). */
export function classifyError(step: string, err: unknown): unknown {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  if (isTransient(err)) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  return ApplicationFailure.create({
    message: `${step}: ${e.message}`,
    type: e.name,
    nonRetryable: true,
    cause: e,
  });
}
