import http from 'node:http';
import https from 'node:https';
import axios, { isAxiosError, type AxiosInstance, type AxiosResponse, type Method } from 'axios';
import { MlflowError, errorFromNetwork, errorFromResponse } from './errors';

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_ARTIFACT_TIMEOUT_MS = 600_000;

export interface TransportOptions {
  /** e.g. http://127.0.0.1:5000 (a path prefix such as https://host/mlflow is kept) */
  trackingUri: string;
  /** with `password`: HTTP Basic auth (MLflow's basic-auth app); takes precedence over `token` */
  username?: string | undefined;
  password?: string | undefined;
  /** `Authorization: Bearer <token>` (an OIDC proxy in front of MLflow) when no username/password */
  token?: string | undefined;
  /** per JSON request; default 30 s */
  timeoutMs?: number | undefined;
  /** per artifact upload or download; default 10 min */
  artifactTimeoutMs?: number | undefined;
  /**
   * the transport; tests pass `fakeTransport(...).http`. Default: an axios instance without
   * keep-alive (see the constructor). A custom instance with keep-alive must close idle sockets
   * before the server does (uvicorn: 5 s).
   */
  http?: AxiosInstance | undefined;
}

export interface RequestSpec {
  method: Method;
  path: string;
  /** GET: query string (arrays as repeated keys) */
  params?: Record<string, unknown>;
  /** other methods, DELETE included: JSON body */
  body?: unknown;
}

/**
 * MLflow's wire rules in one place: GET parameters in the query string (arrays as repeated
 * keys), JSON bodies with a Content-Type for every other method (DELETE included), auth
 * headers, timeouts, and the mapping of every failure to a typed {@link MlflowError}.
 * No retries.
 */
export class MlflowTransport {
  readonly trackingUri: string;
  readonly timeoutMs: number;
  readonly artifactTimeoutMs: number;
  private readonly http: AxiosInstance;
  private readonly authorization: string | undefined;

  constructor(options: TransportOptions) {
    this.trackingUri = options.trackingUri.replace(/\/+$/, '');
    // No keep-alive: uvicorn closes idle connections after 5 s, and Node (whose global agent keeps
    // sockets alive since v19) then reuses a closed socket and fails with ECONNRESET. A fresh
    // connection per call costs ~1 ms locally and is always correct.
    this.http =
      options.http ??
      axios.create({
        httpAgent: new http.Agent({ keepAlive: false }),
        httpsAgent: new https.Agent({ keepAlive: false }),
      });
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.artifactTimeoutMs = options.artifactTimeoutMs ?? DEFAULT_ARTIFACT_TIMEOUT_MS;
    if (options.username !== undefined && options.password !== undefined) {
      this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
    } else if (options.token !== undefined) {
      this.authorization = `Bearer ${options.token}`;
    }
  }

  /** A JSON call. GET sends `params` in the query string; other methods send `body` as JSON. */
  async call<T>(spec: RequestSpec): Promise<T> {
    const res = await this.raw({
      method: spec.method,
      path: spec.path,
      ...(spec.params === undefined ? {} : { params: spec.params }),
      ...(spec.method === 'GET'
        ? {}
        : {
            data: JSON.stringify(spec.body ?? {}),
            headers: { 'Content-Type': 'application/json' },
          }),
      responseType: 'text',
      timeout: this.timeoutMs,
    });
    const text = typeof res.data === 'string' ? res.data : toBuffer(res.data).toString('utf8');
    if (text.trim() === '') return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new MlflowError(
        `${spec.method.toUpperCase()} ${spec.path}: the response is not JSON (${text.slice(0, 120)})`,
        {
          errorCode: 'INVALID_RESPONSE',
          status: res.status,
          method: spec.method.toUpperCase(),
          path: spec.path,
          cause,
        },
      );
    }
  }

  /** A plain-text GET such as /health or /version. */
  async text(method: Method, urlPath: string): Promise<string> {
    const res = await this.raw({
      method,
      path: urlPath,
      responseType: 'text',
      timeout: this.timeoutMs,
    });
    return typeof res.data === 'string' ? res.data : toBuffer(res.data).toString('utf8');
  }

  /** Sends a request; any non-2xx answer or network failure becomes a typed MlflowError. */
  async raw(spec: {
    method: Method;
    path: string;
    params?: Record<string, unknown>;
    data?: unknown;
    headers?: Record<string, string>;
    responseType: 'text' | 'arraybuffer';
    timeout?: number;
  }): Promise<AxiosResponse<unknown>> {
    const method = spec.method.toUpperCase();
    const headers: Record<string, string> = { Accept: 'application/json, */*', ...spec.headers };
    if (this.authorization !== undefined) headers.Authorization = this.authorization;
    let res: AxiosResponse<unknown>;
    try {
      res = await this.http.request<unknown>({
        baseURL: this.trackingUri,
        url: spec.path,
        method: spec.method,
        params: spec.params,
        paramsSerializer: { indexes: null },
        data: spec.data,
        headers,
        timeout: spec.timeout ?? this.timeoutMs,
        responseType: spec.responseType,
        // keep the raw body: JSON.parse here would turn a /version of "3.2" into a number
        transformResponse: [(d: unknown) => d],
        validateStatus: () => true,
        maxBodyLength: Infinity,
        maxContentLength: Infinity,
      });
    } catch (err) {
      if (
        isAxiosError(err) &&
        err.response === undefined &&
        !programmingErrors.has(err.code ?? '')
      ) {
        throw errorFromNetwork(err, {
          method,
          path: spec.path,
          timeoutMs: spec.timeout ?? this.timeoutMs,
        });
      }
      throw new MlflowError(
        `${method} ${spec.path}: ${err instanceof Error ? err.message : String(err)}`,
        { errorCode: 'CLIENT_ERROR', method, path: spec.path, cause: err },
      );
    }
    if (res.status >= 200 && res.status < 300) return res;
    const body =
      typeof res.data === 'string'
        ? res.data
        : res.data === undefined || res.data === null
          ? ''
          : toBuffer(res.data).toString('utf8');
    const requestId: unknown = res.headers['x-request-id'];
    throw errorFromResponse(res.status, body, {
      method,
      path: spec.path,
      requestId: typeof requestId === 'string' ? requestId : undefined,
    });
  }
}

/** axios codes for a request that was never valid; everything else without a response is an outage */
const programmingErrors = new Set([
  'ERR_INVALID_URL',
  'ERR_BAD_OPTION',
  'ERR_BAD_OPTION_VALUE',
  'ERR_NOT_SUPPORT',
  'ERR_DEPRECATED',
]);

/** The bytes of a response body, whatever axios made of it. */
export function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.alloc(0);
}
