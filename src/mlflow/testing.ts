import axios, {
  AxiosError,
  type AxiosInstance,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';

/** A request as the fake transport saw it, after axios built it. */
export interface RecordedRequest {
  method: string;
  /** full URL with the query string, as it would go on the wire */
  url: string;
  headers: Record<string, string>;
  /** the raw body (a JSON string for API calls, bytes for uploads) */
  data: unknown;
  /** the body parsed as JSON when it is a JSON string */
  json: unknown;
}

export interface FakeReply {
  status?: number;
  /** an object is sent as JSON; a string or Buffer as is */
  body?: unknown;
  headers?: Record<string, string>;
}

export type FakeHandler = (req: RecordedRequest) => FakeReply | Error | Promise<FakeReply | Error>;

/**
 * An axios instance whose adapter answers from `handler` instead of the network, for unit tests
 * of code that takes an MlflowClient (`new MlflowClient({ trackingUri, http: fake.http })`).
 * Every request goes through axios's own URL, params and header handling and is recorded.
 * Return an Error (e.g. with `code: 'ECONNREFUSED'`) to simulate a network failure.
 */
export function fakeTransport(handler: FakeHandler): {
  http: AxiosInstance;
  requests: RecordedRequest[];
} {
  const requests: RecordedRequest[] = [];
  const http = axios.create({
    adapter: async (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
      const url = axios.getUri(config);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(config.headers.toJSON()))
        if (typeof v === 'string') headers[k.toLowerCase()] = v;
      let json: unknown;
      if (typeof config.data === 'string') {
        try {
          json = JSON.parse(config.data);
        } catch {
          json = undefined;
        }
      }
      const req: RecordedRequest = {
        method: (config.method ?? 'get').toUpperCase(),
        url,
        headers,
        data: config.data,
        json,
      };
      requests.push(req);
      const reply = await handler(req);
      if (reply instanceof Error) {
        const code = 'code' in reply && typeof reply.code === 'string' ? reply.code : undefined;
        throw new AxiosError(reply.message, code, config);
      }
      const body = reply.body;
      const raw = Buffer.isBuffer(body)
        ? body
        : typeof body === 'string'
          ? body
          : body === undefined
            ? ''
            : JSON.stringify(body);
      const data =
        config.responseType === 'arraybuffer'
          ? Buffer.isBuffer(raw)
            ? raw
            : Buffer.from(raw)
          : raw.toString();
      return {
        data,
        status: reply.status ?? 200,
        statusText: '',
        headers: reply.headers ?? {},
        config,
        request: {},
      };
    },
  });
  return { http, requests };
}
