/**
 * Errors of the MLflow client. Every failure of a client call is an {@link MlflowError}; the
 * subclass follows MLflow's `error_code` (not the HTTP status: RESOURCE_ALREADY_EXISTS is a 400).
 *
 * The client never retries. `retryable` tells the caller (the Temporal activity adapter) whether
 * the same request may succeed later: true for outages (network errors, timeouts, 502/503/504,
 * TEMPORARILY_UNAVAILABLE from a locked SQLite, REQUEST_LIMIT_EXCEEDED), false otherwise.
 */

export interface MlflowErrorContext {
  /** HTTP status, undefined when no response arrived (network error, timeout, client-side check) */
  status?: number | undefined;
  /** MLflow's error_code, or a client code such as NETWORK_ERROR, TIMEOUT, HTTP_404 */
  errorCode: string;
  method?: string | undefined;
  /** request path without the host, e.g. /api/2.0/mlflow/runs/get */
  path?: string | undefined;
  /** x-request-id of the response, when a proxy in front of MLflow sets one */
  requestId?: string | undefined;
  cause?: unknown;
}

/** Root of all MLflow client errors. Not retryable unless a subclass says so. */
export class MlflowError extends Error {
  override readonly name: string = 'MlflowError';
  readonly status: number | undefined;
  readonly errorCode: string;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly requestId: string | undefined;
  /** whether the same request may succeed if sent again later */
  readonly retryable: boolean = false;

  constructor(message: string, context: MlflowErrorContext) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.status = context.status;
    this.errorCode = context.errorCode;
    this.method = context.method;
    this.path = context.path;
    this.requestId = context.requestId;
  }
}

/** RESOURCE_DOES_NOT_EXIST (404): the experiment, run, model, version, alias or artifact is unknown. */
export class MlflowNotFoundError extends MlflowError {
  override readonly name: string = 'MlflowNotFoundError';
}

/** RESOURCE_ALREADY_EXISTS (HTTP 400, not 409). */
export class MlflowAlreadyExistsError extends MlflowError {
  override readonly name: string = 'MlflowAlreadyExistsError';
}

/**
 * INVALID_PARAMETER_VALUE / BAD_REQUEST / MALFORMED_REQUEST from the server, or a request the
 * client refused to send (a key, value or batch over MLflow's limits). Retrying does not help.
 */
export class MlflowInvalidParameterError extends MlflowError {
  override readonly name: string = 'MlflowInvalidParameterError';
}

/** PERMISSION_DENIED (403) or UNAUTHENTICATED (401): credentials missing, wrong, or not allowed. */
export class MlflowPermissionError extends MlflowError {
  override readonly name: string = 'MlflowPermissionError';
}

/**
 * The server could not be reached or could not serve the request now: connection refused or
 * reset, DNS failure, timeout, 502/503/504, TEMPORARILY_UNAVAILABLE ("database is locked"),
 * REQUEST_LIMIT_EXCEEDED (429), or a model version that did not become READY in time.
 * Retrying later may help.
 */
export class MlflowUnavailableError extends MlflowError {
  override readonly name: string = 'MlflowUnavailableError';
  override readonly retryable: boolean = true;
}

/** The server answered /version with a version this client does not support. */
export class MlflowUnsupportedVersionError extends MlflowError {
  override readonly name: string = 'MlflowUnsupportedVersionError';
  constructor(
    message: string,
    context: MlflowErrorContext,
    /** the version string the server reported */
    readonly serverVersion: string,
  ) {
    super(message, context);
  }
}

/**
 * A transferred artifact did not match what the server reported (size of a download against
 * Content-Length or the listing, an uploaded file missing from the listing). Usually a proxy
 * that cut a transfer short, so retrying may help.
 */
export class MlflowArtifactIntegrityError extends MlflowError {
  override readonly name: string = 'MlflowArtifactIntegrityError';
  override readonly retryable: boolean = true;
}

/** A model version ended in FAILED_REGISTRATION. Registering it again needs a new version. */
export class MlflowModelVersionFailedError extends MlflowError {
  override readonly name: string = 'MlflowModelVersionFailedError';
}

const notFoundCodes = new Set(['RESOURCE_DOES_NOT_EXIST', 'NOT_FOUND']);
const alreadyExistsCodes = new Set(['RESOURCE_ALREADY_EXISTS']);
const invalidCodes = new Set(['INVALID_PARAMETER_VALUE', 'BAD_REQUEST', 'MALFORMED_REQUEST']);
const permissionCodes = new Set(['PERMISSION_DENIED', 'UNAUTHENTICATED', 'CUSTOMER_UNAUTHORIZED']);
const unavailableCodes = new Set([
  'TEMPORARILY_UNAVAILABLE',
  'REQUEST_LIMIT_EXCEEDED',
  'DEADLINE_EXCEEDED',
]);
const unavailableStatuses = new Set([429, 502, 503, 504]);

/**
 * Builds the typed error for an HTTP error response. `body` may be MLflow's
 * `{error_code, message}`, FastAPI's `{detail}`, an HTML page or empty: without an error_code the
 * class follows the status (404 without error_code is an unknown endpoint, not a missing resource).
 */
export function errorFromResponse(
  status: number,
  body: string,
  request: { method: string; path: string; requestId?: string | undefined },
): MlflowError {
  const parsed = parseErrorBody(body);
  const errorCode = parsed.errorCode ?? (status === 404 ? 'ENDPOINT_NOT_FOUND' : `HTTP_${status}`);
  let detail =
    parsed.message ?? (body.trim() === '' ? `HTTP ${status}` : `HTTP ${status}: ${squash(body)}`);
  if (status === 403 && body.includes('Invalid Host header')) {
    detail +=
      ' (MLflow 3.5+ accepts only localhost and private-IP Host headers: start the server with --allowed-hosts <its DNS name>)';
  }
  const message = `${request.method} ${request.path} failed (${status} ${errorCode}): ${detail}`;
  const context: MlflowErrorContext = {
    status,
    errorCode,
    method: request.method,
    path: request.path,
    requestId: request.requestId,
  };
  if (unavailableCodes.has(errorCode) || unavailableStatuses.has(status))
    return new MlflowUnavailableError(message, context);
  if (notFoundCodes.has(errorCode)) return new MlflowNotFoundError(message, context);
  if (alreadyExistsCodes.has(errorCode)) return new MlflowAlreadyExistsError(message, context);
  if (invalidCodes.has(errorCode)) return new MlflowInvalidParameterError(message, context);
  if (permissionCodes.has(errorCode) || status === 401 || status === 403)
    return new MlflowPermissionError(message, context);
  if (parsed.errorCode === undefined && status === 400)
    return new MlflowInvalidParameterError(message, context);
  return new MlflowError(message, context);
}

/** Network-level failure codes (Node and axios) that mean "no usable response arrived". */
const timeoutCodes = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);

/** Builds the typed error for a request that got no HTTP response (refused, reset, timeout). */
export function errorFromNetwork(
  cause: unknown,
  request: { method: string; path: string; timeoutMs?: number | undefined },
): MlflowUnavailableError {
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string'
      ? cause.code
      : undefined;
  const timedOut = code !== undefined && timeoutCodes.has(code);
  const reason = cause instanceof Error ? cause.message : String(cause);
  const what = timedOut
    ? `timed out${request.timeoutMs === undefined ? '' : ` after ${request.timeoutMs} ms`}`
    : `could not reach the server (${code ?? 'network error'})`;
  return new MlflowUnavailableError(`${request.method} ${request.path} ${what}: ${reason}`, {
    errorCode: timedOut ? 'TIMEOUT' : 'NETWORK_ERROR',
    method: request.method,
    path: request.path,
    cause,
  });
}

function parseErrorBody(body: string): { errorCode?: string; message?: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return {};
  }
  if (typeof json !== 'object' || json === null) return {};
  const out: { errorCode?: string; message?: string } = {};
  if ('error_code' in json && typeof json.error_code === 'string') out.errorCode = json.error_code;
  if ('message' in json && typeof json.message === 'string') out.message = json.message;
  else if ('detail' in json)
    out.message = typeof json.detail === 'string' ? json.detail : JSON.stringify(json.detail);
  return out;
}

/** One line, at most 300 characters of a non-JSON body (an HTML error page, a proxy message). */
function squash(body: string): string {
  const text = body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}
