import { describe, expect, it } from 'vitest';
import { MlflowClient } from './client';
import {
  MlflowAlreadyExistsError,
  MlflowArtifactIntegrityError,
  MlflowError,
  MlflowInvalidParameterError,
  MlflowNotFoundError,
  MlflowPermissionError,
  MlflowUnavailableError,
  MlflowUnsupportedVersionError,
} from './errors';
import { fakeTransport, type FakeHandler } from './testing';

const base = 'http://mlflow.test:5000';
const now = 1_700_000_000_000;

function clientWith(
  handler: FakeHandler,
  options: { username?: string; password?: string; token?: string } = {},
) {
  const fake = fakeTransport(handler);
  return {
    client: new MlflowClient({
      trackingUri: `${base}/`,
      http: fake.http,
      now: () => now,
      ...options,
    }),
    requests: fake.requests,
  };
}

const errorBody = (code: string, message = 'boom') => ({ error_code: code, message });
const run = {
  info: { run_id: 'r1', experiment_id: '1', artifact_uri: 'mlflow-artifacts:/1/r1/artifacts' },
};

describe('MlflowClient requests', () => {
  it('sends GET parameters in the query string with repeated keys for arrays', async () => {
    const { client, requests } = clientWith(() => ({ body: {} }));
    await client.searchModelVersionsPage({
      filter: "name = 'a b'",
      orderBy: ['version_number DESC', 'name'],
      maxResults: 5,
    });
    const url = new URL(requests[0]!.url);
    expect(url.pathname).toBe('/api/2.0/mlflow/model-versions/search');
    expect(url.searchParams.get('filter')).toBe("name = 'a b'");
    expect(url.searchParams.getAll('order_by')).toEqual(['version_number DESC', 'name']);
    expect(url.searchParams.get('max_results')).toBe('5');
    expect(requests[0]!.data).toBeUndefined();
  });

  it('sends POST and DELETE bodies as JSON with a Content-Type', async () => {
    const { client, requests } = clientWith(() => ({ body: {} }));
    await client.setTag('r1', 'k', 'v');
    await client.deleteAlias('model', 'production');
    expect(
      requests.map((r) => [r.method, new URL(r.url).pathname, r.json, r.headers['content-type']]),
    ).toEqual([
      [
        'POST',
        '/api/2.0/mlflow/runs/set-tag',
        { run_id: 'r1', key: 'k', value: 'v' },
        'application/json',
      ],
      [
        'DELETE',
        '/api/2.0/mlflow/registered-models/alias',
        { name: 'model', alias: 'production' },
        'application/json',
      ],
    ]);
  });

  it('keeps a path prefix of the tracking URI', async () => {
    const fake = fakeTransport(() => ({ body: { run } }));
    await new MlflowClient({ trackingUri: 'https://example.com/mlflow/', http: fake.http }).getRun(
      'r1',
    );
    expect(fake.requests[0]!.url).toBe(
      'https://example.com/mlflow/api/2.0/mlflow/runs/get?run_id=r1',
    );
  });

  it('uses basic auth when a username and password are set, else a bearer token', async () => {
    const basic = clientWith(() => ({ body: { run } }), {
      username: 'ann',
      password: 's3cret',
      token: 'ignored',
    });
    await basic.client.getRun('r1');
    expect(basic.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('ann:s3cret').toString('base64')}`,
    );
    const bearer = clientWith(() => ({ body: { run } }), { token: 'tok' });
    await bearer.client.getRun('r1');
    expect(bearer.requests[0]!.headers.authorization).toBe('Bearer tok');
    const none = clientWith(() => ({ body: { run } }));
    await none.client.getRun('r1');
    expect(none.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('creates a nested run with a start time and the parent tag', async () => {
    const { client, requests } = clientWith(() => ({ body: { run } }));
    const created = await client.createRun({
      experimentId: '1',
      runName: 'child',
      parentRunId: 'p1',
      tags: { a: 'b' },
    });
    expect(created.info.run_id).toBe('r1');
    expect(requests[0]!.json).toEqual({
      experiment_id: '1',
      run_name: 'child',
      start_time: now,
      tags: [
        { key: 'a', value: 'b' },
        { key: 'mlflow.parentRunId', value: 'p1' },
      ],
    });
  });

  it('logs a large batch in as many requests as the limits need', async () => {
    const { client, requests } = clientWith(() => ({ body: {} }));
    const metrics = Array.from({ length: 2500 }, (_, i) => ({
      key: `m${i}`,
      value: i === 0 ? NaN : i,
    }));
    const params = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`p${i}`, String(i)]));
    await client.logBatch({ runId: 'r1', metrics, params });
    const bodies = requests.map(
      (r) => r.json as { run_id: string; metrics: unknown[]; params: unknown[]; tags: unknown[] },
    );
    expect(bodies.map((b) => [b.metrics.length, b.params.length, b.tags.length])).toEqual([
      [900, 100, 0],
      [980, 20, 0],
      [620, 0, 0],
    ]);
    expect(bodies.every((b) => b.run_id === 'r1')).toBe(true);
    expect(bodies[0]!.metrics[0]).toEqual({ key: 'm0', value: 'NaN', timestamp: now, step: 0 });
  });

  it('sends nothing when one value of a batch is too long', async () => {
    const { client, requests } = clientWith(() => ({ body: {} }));
    const err: unknown = await client
      .logBatch({ runId: 'r1', metrics: [{ key: 'ok', value: 1 }], tags: { t: 'x'.repeat(5001) } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowInvalidParameterError);
    expect(requests).toHaveLength(0);
  });

  it('records dataset inputs with their context tag and refuses a digest over 36 characters', async () => {
    const { client, requests } = clientWith(() => ({ body: {} }));
    await client.logInputs('r1', [
      {
        name: 'sales',
        digest: 'abc',
        sourceType: 'dvc',
        source: '{}',
        profile: '{"rows":3}',
        context: 'training',
      },
    ]);
    expect(requests[0]!.json).toEqual({
      run_id: 'r1',
      datasets: [
        {
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
          dataset: {
            name: 'sales',
            digest: 'abc',
            source_type: 'dvc',
            source: '{}',
            profile: '{"rows":3}',
          },
        },
      ],
    });
    await expect(
      client.logInputs('r1', [
        { name: 's', digest: 'd'.repeat(37), sourceType: 'dvc', source: '{}' },
      ]),
    ).rejects.toBeInstanceOf(MlflowInvalidParameterError);
  });

  it('follows page tokens', async () => {
    let page = 0;
    const { client, requests } = clientWith(() => {
      page += 1;
      return {
        body:
          page < 3
            ? { runs: [{ info: { run_id: `r${page}` } }], next_page_token: `t${page}` }
            : { runs: [{ info: { run_id: 'r3' } }] },
      };
    });
    const runs = await client.searchAllRuns({ experimentIds: ['1'], filter: "tags.a = 'b'" });
    expect(runs.map((r) => r.info?.run_id)).toEqual(['r1', 'r2', 'r3']);
    expect(requests.map((r) => (r.json as { page_token?: string }).page_token)).toEqual([
      undefined,
      't1',
      't2',
    ]);
  });

  it('treats a search with no hits ({}) as an empty list', async () => {
    const { client } = clientWith(() => ({ body: {} }));
    expect(await client.searchRuns({ experimentIds: ['1'] })).toEqual({ runs: [] });
    expect(await client.searchModelVersions("name = 'x'")).toEqual([]);
  });
});

describe('MlflowClient errors', () => {
  it('maps RESOURCE_ALREADY_EXISTS, a 400, to MlflowAlreadyExistsError', async () => {
    const { client } = clientWith(() => ({
      status: 400,
      body: errorBody('RESOURCE_ALREADY_EXISTS', 'Experiment(name=e) already exists'),
    }));
    const err: unknown = await client.createExperiment('e').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowAlreadyExistsError);
    expect(err).toMatchObject({
      status: 400,
      errorCode: 'RESOURCE_ALREADY_EXISTS',
      method: 'POST',
      path: '/api/2.0/mlflow/experiments/create',
      retryable: false,
    });
    expect((err as Error).message).toContain('Experiment(name=e) already exists');
  });

  it.each([
    [404, 'RESOURCE_DOES_NOT_EXIST', MlflowNotFoundError, false],
    [400, 'INVALID_PARAMETER_VALUE', MlflowInvalidParameterError, false],
    [403, 'PERMISSION_DENIED', MlflowPermissionError, false],
    [401, 'UNAUTHENTICATED', MlflowPermissionError, false],
    [503, 'TEMPORARILY_UNAVAILABLE', MlflowUnavailableError, true],
    [429, 'REQUEST_LIMIT_EXCEEDED', MlflowUnavailableError, true],
    [500, 'INTERNAL_ERROR', MlflowError, false],
  ] as const)('maps %i %s by its error_code', async (status, code, type, retryable) => {
    const { client } = clientWith(() => ({ status, body: errorBody(code) }));
    const err: unknown = await client.getRun('r1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect(err).toMatchObject({
      status,
      errorCode: code,
      retryable,
      method: 'GET',
      path: '/api/2.0/mlflow/runs/get',
    });
  });

  it('handles a non-JSON 502 page from a proxy', async () => {
    const { client } = clientWith(() => ({
      status: 502,
      body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
      headers: { 'x-request-id': 'req-9' },
    }));
    const err: unknown = await client.getRun('r1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowUnavailableError);
    expect(err).toMatchObject({
      status: 502,
      errorCode: 'HTTP_502',
      retryable: true,
      requestId: 'req-9',
    });
    expect((err as Error).message).toContain('502 Bad Gateway');
  });

  it('reads FastAPI {detail} bodies and unknown endpoints', async () => {
    const detail = clientWith(() => ({
      status: 503,
      body: { detail: 'Artifact serving is disabled.' },
    }));
    const err: unknown = await detail.client
      .downloadArtifact('mlflow-artifacts:/1', 'a.txt')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowUnavailableError);
    expect((err as Error).message).toContain('Artifact serving is disabled.');
    const html404 = clientWith(() => ({ status: 404, body: '<h1>Not Found</h1>' }));
    const notFound: unknown = await html404.client.getRun('r1').catch((e: unknown) => e);
    expect(notFound).not.toBeInstanceOf(MlflowNotFoundError);
    expect(notFound).toMatchObject({ errorCode: 'ENDPOINT_NOT_FOUND', status: 404 });
  });

  it('maps a refused connection and a timeout to retryable MlflowUnavailableError', async () => {
    const refused = clientWith(() =>
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    );
    expect(await refused.client.getRun('r1').catch((e: unknown) => e)).toMatchObject({
      name: 'MlflowUnavailableError',
      errorCode: 'NETWORK_ERROR',
      retryable: true,
    });
    const timeout = clientWith(() =>
      Object.assign(new Error('timeout of 30000ms exceeded'), { code: 'ECONNABORTED' }),
    );
    const err: unknown = await timeout.client.getRun('r1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowUnavailableError);
    expect(err).toMatchObject({ errorCode: 'TIMEOUT', retryable: true });
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it("explains MLflow's Host-header rejection", async () => {
    const { client } = clientWith(() => ({
      status: 403,
      body: 'Invalid Host header - possible DNS rebinding attack detected',
    }));
    const err: unknown = await client.getRun('r1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowPermissionError);
    expect((err as Error).message).toContain('--allowed-hosts');
  });

  it('reports a response that is not JSON', async () => {
    const { client } = clientWith(() => ({ body: '<html>login</html>' }));
    await expect(client.getRun('r1')).rejects.toMatchObject({ errorCode: 'INVALID_RESPONSE' });
  });

  it('turns an unknown alias (400 from MLflow) into not-found, and tryGet into undefined', async () => {
    const { client } = clientWith(() => ({
      status: 400,
      body: errorBody('INVALID_PARAMETER_VALUE', 'Registered model alias production not found.'),
    }));
    await expect(client.getModelVersionByAlias('m', 'production')).rejects.toBeInstanceOf(
      MlflowNotFoundError,
    );
    expect(await client.tryGetModelVersionByAlias('m', 'production')).toBeUndefined();
  });

  it('refuses reserved aliases before sending', async () => {
    const { client, requests } = clientWith(() => ({ body: {} }));
    await expect(client.setAlias('m', 'latest', '1')).rejects.toBeInstanceOf(
      MlflowInvalidParameterError,
    );
    await expect(client.setAlias('m', 'v2', '1')).rejects.toBeInstanceOf(
      MlflowInvalidParameterError,
    );
    await expect(client.setAlias('m', 'bad alias', '1')).rejects.toBeInstanceOf(
      MlflowInvalidParameterError,
    );
    expect(requests).toHaveLength(0);
  });
});

describe('MlflowClient.checkServer', () => {
  const server = (version: string) => (req: { url: string }) => ({
    body: req.url.endsWith('/health') ? 'OK' : version,
  });

  it('accepts a 3.x server and returns its version', async () => {
    const { client, requests } = clientWith(server('3.17.2'));
    expect(await client.checkServer()).toEqual({ raw: '3.17.2', major: 3, minor: 17, patch: 2 });
    expect(requests.map((r) => r.url)).toEqual([`${base}/health`, `${base}/version`]);
  });

  it.each(['2.22.1', '4.0.0', 'hello'])('refuses version %s', async (version) => {
    const { client } = clientWith(server(version));
    const err: unknown = await client.checkServer().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowUnsupportedVersionError);
    expect(err).toMatchObject({ retryable: false, serverVersion: version });
  });
});

describe('MlflowClient registry primitives', () => {
  it('finds the version registered from a run by searching name and run_id', async () => {
    const { client, requests } = clientWith(() => ({
      body: {
        model_versions: [
          { name: 'm', version: '3', run_id: 'r1' },
          { name: 'm', version: '2', run_id: 'r1' },
        ],
      },
    }));
    expect((await client.findModelVersionForRun('m', 'r1'))?.version).toBe('2');
    expect(new URL(requests[0]!.url).searchParams.get('filter')).toBe(
      "name = 'm' and run_id = 'r1'",
    );
  });

  it('does not create a second version for the same run', async () => {
    const { client, requests } = clientWith((req) => {
      const url = new URL(req.url);
      if (url.pathname.endsWith('/model-versions/search'))
        return {
          body: {
            model_versions: [
              { name: 'm', version: '4', run_id: 'r1', tags: [{ key: 'a', value: '1' }] },
            ],
          },
        };
      if (url.pathname.endsWith('/model-versions/get'))
        return { body: { model_version: { name: 'm', version: '4', run_id: 'r1' } } };
      return { body: {} };
    });
    const result = await client.ensureModelVersionForRun({
      name: 'm',
      source: 'mlflow-artifacts:/1/r1/artifacts/model',
      runId: 'r1',
      tags: { a: '1', b: '2' },
    });
    expect(result).toMatchObject({ created: false, version: { version: '4' } });
    const paths = requests.map(
      (r) => `${r.method} ${new URL(r.url).pathname.replace('/api/2.0/mlflow', '')}`,
    );
    expect(paths).toEqual([
      'GET /model-versions/search',
      'POST /model-versions/set-tag',
      'GET /model-versions/get',
    ]);
    expect(requests[1]!.json).toEqual({ name: 'm', version: '4', key: 'b', value: '2' });
  });

  it('restores a deleted experiment found by name', async () => {
    const { client, requests } = clientWith((req) => {
      const path = new URL(req.url).pathname;
      if (path.endsWith('/get-by-name'))
        return {
          body: { experiment: { experiment_id: '7', name: 'e', lifecycle_stage: 'deleted' } },
        };
      if (path.endsWith('/experiments/get'))
        return {
          body: { experiment: { experiment_id: '7', name: 'e', lifecycle_stage: 'active' } },
        };
      return { body: {} };
    });
    expect(await client.ensureExperiment('e')).toMatchObject({
      experimentId: '7',
      restored: true,
      created: false,
    });
    expect(requests.map((r) => new URL(r.url).pathname)).toContain(
      '/api/2.0/mlflow/experiments/restore',
    );
  });

  it('reads the winner after losing a create race', async () => {
    let lookups = 0;
    const { client } = clientWith((req) => {
      const path = new URL(req.url).pathname;
      if (path.endsWith('/get-by-name')) {
        lookups += 1;
        return lookups === 1
          ? { status: 404, body: errorBody('RESOURCE_DOES_NOT_EXIST') }
          : { body: { experiment: { experiment_id: '9', lifecycle_stage: 'active' } } };
      }
      if (path.endsWith('/experiments/create'))
        return { status: 400, body: errorBody('RESOURCE_ALREADY_EXISTS') };
      return { body: {} };
    });
    expect(await client.ensureExperiment('e')).toMatchObject({ experimentId: '9', created: false });
  });

  it('fails waiting for a version stuck in PENDING_REGISTRATION with a retryable error', async () => {
    let t = now;
    const fake = fakeTransport(() => ({
      body: { model_version: { name: 'm', version: '1', status: 'PENDING_REGISTRATION' } },
    }));
    const client = new MlflowClient({ trackingUri: base, http: fake.http, now: () => (t += 400) });
    const err: unknown = await client
      .waitForModelVersionReady('m', '1', 1000, 1)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowUnavailableError);
    expect(err).toMatchObject({ errorCode: 'MODEL_VERSION_NOT_READY', retryable: true });
  });
});

describe('MlflowClient artifacts', () => {
  it('uploads to the proxy path of the artifact URI with percent-encoded segments', async () => {
    const { client, requests } = clientWith(() => ({ body: '' }));
    const file = await client.uploadArtifact(
      'mlflow-artifacts:/1/r1/artifacts',
      'model/a b#.bin',
      Buffer.from([0, 1, 2]),
    );
    expect(file).toEqual({ path: 'model/a b#.bin', size: 3 });
    expect(requests[0]!.method).toBe('PUT');
    expect(requests[0]!.url).toBe(
      `${base}/api/2.0/mlflow-artifacts/artifacts/1/r1/artifacts/model/a%20b%23.bin`,
    );
    expect(requests[0]!.headers['content-type']).toBe('application/octet-stream');
  });

  it('looks up the artifact URI when given a run id', async () => {
    const { client, requests } = clientWith((req) =>
      req.method === 'GET' ? { body: { run } } : { body: '' },
    );
    await client.uploadArtifact('r1', 'x.txt', 'hi');
    expect(requests.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'GET /api/2.0/mlflow/runs/get',
      'PUT /api/2.0/mlflow-artifacts/artifacts/1/r1/artifacts/x.txt',
    ]);
  });

  it('lists with ?path= and returns paths relative to the artifact URI', async () => {
    const { client, requests } = clientWith(() => ({
      body: {
        files: [
          { path: 'a.bin', is_dir: false, file_size: 5 },
          { path: 'sub', is_dir: true },
        ],
      },
    }));
    expect(await client.listArtifacts('mlflow-artifacts:/1/r1/artifacts', 'model')).toEqual([
      { path: 'model/a.bin', is_dir: false, file_size: 5 },
      { path: 'model/sub', is_dir: true },
    ]);
    expect(requests[0]!.url).toBe(
      `${base}/api/2.0/mlflow-artifacts/artifacts?path=1%2Fr1%2Fartifacts%2Fmodel`,
    );
  });

  it('downloads bytes and checks Content-Length', async () => {
    const bytes = Buffer.from([255, 0, 1, 128]);
    const ok = clientWith(() => ({ body: bytes, headers: { 'content-length': '4' } }));
    expect(
      (await ok.client.downloadArtifact('mlflow-artifacts:/1/r1/artifacts', 'm.bin')).equals(bytes),
    ).toBe(true);
    const short = clientWith(() => ({ body: bytes, headers: { 'content-length': '10' } }));
    const err: unknown = await short.client
      .downloadArtifact('mlflow-artifacts:/1/r1/artifacts', 'm.bin')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowArtifactIntegrityError);
    expect(err).toMatchObject({ retryable: true });
  });

  it('decodes an error body of a binary download', async () => {
    const { client } = clientWith(() => ({
      status: 404,
      body: Buffer.from(
        JSON.stringify(errorBody('RESOURCE_DOES_NOT_EXIST', "No such artifact: '1/x'")),
      ),
    }));
    const err: unknown = await client
      .downloadArtifact('mlflow-artifacts:/1', 'x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowNotFoundError);
    expect((err as Error).message).toContain('No such artifact');
  });

  it('refuses artifact URIs that do not go through the proxy', async () => {
    const { client, requests } = clientWith(() => ({ body: '' }));
    await expect(
      client.uploadArtifact('s3://bucket/1/r1/artifacts', 'a', 'x'),
    ).rejects.toBeInstanceOf(MlflowInvalidParameterError);
    await expect(
      client.uploadArtifact('mlflow-artifacts:/1', '../escape', 'x'),
    ).rejects.toBeInstanceOf(MlflowInvalidParameterError);
    expect(requests).toHaveLength(0);
  });
});
