import type { ErrorRequestHandler } from 'express';
import type { Logger } from '../logger';
import { StoreUnavailableError } from './live-store';

/** A request the service refuses, with the status and a stable error code clients can test. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The error body of every route but `/invocations`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; request_id: string };
}

/** MLflow's scoring-server error codes for our statuses (`/invocations` answers in its shape). */
function mlflowErrorCode(status: number): string {
  if (status === 404) return 'RESOURCE_DOES_NOT_EXIST';
  if (status === 401 || status === 403) return 'PERMISSION_DENIED';
  if (status === 429) return 'REQUEST_LIMIT_EXCEEDED';
  if (status === 422) return 'INVALID_PARAMETER_VALUE';
  if (status >= 500) return 'INTERNAL_ERROR';
  return 'BAD_REQUEST';
}

/** Maps what body-parser and Express throw to our errors; undefined for anything else. */
function fromExpress(err: unknown, maxBody: string): HttpError | undefined {
  const e = err as { status?: number; type?: string; message?: string };
  if (e.type === 'entity.parse.failed')
    return new HttpError(400, 'invalid_json', `the body is not valid JSON: ${e.message ?? ''}`);
  if (e.type === 'entity.too.large')
    return new HttpError(413, 'too_large', `the body is larger than ${maxBody}`);
  if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported')
    return new HttpError(415, 'unsupported_encoding', e.message ?? 'unsupported encoding');
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
    return new HttpError(e.status, 'bad_request', e.message ?? 'bad request');
  return undefined;
}

/**
 * The one error handler: HttpErrors and body-parser errors become their 4xx, anything else a
 * logged 500 with a generic body. Never a stack trace to a client. `/invocations` answers in
 * MLflow's shape (`{error_code, message}`), every other route in ours.
 */
export function errorHandler(
  log: Logger,
  onError: (code: string) => void,
  maxBody: string,
): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let http =
      err instanceof HttpError
        ? err
        : err instanceof StoreUnavailableError
          ? new HttpError(
              503,
              'store_unavailable',
              'the prediction and feedback store is unavailable; retry later',
              undefined,
              { 'retry-after': '5' },
            )
          : fromExpress(err, maxBody);
    if (!http) {
      ((res.locals.log as Logger | undefined) ?? log).error({ err }, 'unhandled error');
      http = new HttpError(500, 'internal', 'internal error');
    }
    onError(http.code);
    if (res.headersSent) return;
    if (http.headers) res.set(http.headers);
    if (req.path === '/invocations') {
      res.status(http.status).json({
        error_code: mlflowErrorCode(http.status),
        message: http.details ? `${http.message}: ${JSON.stringify(http.details)}` : http.message,
      });
      return;
    }
    const body: ErrorBody = {
      error: {
        code: http.code,
        message: http.message,
        ...(http.details ? { details: http.details } : {}),
        request_id: res.locals.requestId as string,
      },
    };
    res.status(http.status).json(body);
  };
}
