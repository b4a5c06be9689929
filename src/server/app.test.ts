import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger';
import { fitForecaster } from '../ml';
import { syntheticSeries } from '../ml/testing';
import type { StoredModel } from '../model-store/store';
import { createApp } from './app';
import { createHttpServer } from './http-server';
import { createMetrics } from './metrics';
import { ModelHolder, toServingModel, type ServingModel } from './model-holder';
import { openGate } from './routes/types';

const series = syntheticSeries(60);
const stored = (version: string, digest = 'd'.repeat(64)): StoredModel => ({
  ref: { name: 'ice-cream-sales', version, source: 's', digest, runId: 'r1', aliases: [] },
  dir: '/nowhere',
  digest,
  forecaster: fitForecaster(series, {
    family: 'ridge',
    params: { alpha: 1 },
    seed: 1,
    coverage: 0.9,
  }),
  history: series,
});
const model: ServingModel = toServingModel(stored('4'));

/** A holder whose registry always points at `m` (or at nothing). */
function fixedHolder(m: ServingModel | undefined): ModelHolder {
  return new ModelHolder(
    'production',
    {
      resolve: () => Promise.resolve(m && { ...stored(m.version, m.digest).ref }),
      fetch: () => Promise.resolve(m!),
    },
    createLogger('silent'),
  );
}

async function listen(holder: ModelHolder): Promise<{ server: Server; url: string }> {
  const app = createApp({
    models: holder,
    log: createLogger('silent'),
    metrics: createMetrics({ defaultMetrics: false }),
    gate: openGate,
    limits: { maxBatch: 50, maxBodyBytes: 64 * 1024 },
  });
  const server = await new Promise<Server>((resolve) => {
    const s = createHttpServer(app).listen(0, '127.0.0.1', () => resolve(s));
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const post = (url: string, body: string) =>
  fetch(`${url}/v1/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });

describe('prediction API', () => {
  let ready: { server: Server; url: string };
  let empty: { server: Server; url: string };
  beforeAll(async () => {
    const holder = fixedHolder(model);
    await holder.refresh();
    ready = await listen(holder);
    empty = await listen(fixedHolder(undefined));
  });
  afterAll(() => {
    ready.server.close();
    empty.server.close();
  });

  it('predicts one row with an interval, the model version and a prediction id', async () => {
    const res = await post(ready.url, JSON.stringify({ date: '2015-01-01', temperature: 7 }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      prediction: number;
      interval: { lower: number; upper: number };
      model_version: string;
      prediction_id: string;
    };
    expect(body.model_version).toBe('4');
    expect(body.prediction_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.interval.lower).toBeLessThan(body.prediction);
    expect(body.interval.upper).toBeGreaterThan(body.prediction);
    // the synthetic series: sales ~ 200 + 12 * temperature + trend; 7 deg C sells less than 30 deg C
    const summer = (await (
      await post(ready.url, JSON.stringify({ date: '2015-01-01', temperature: 30 }))
    ).json()) as { prediction: number };
    expect(summer.prediction).toBeGreaterThan(body.prediction);
  });

  it('predicts a batch of rows', async () => {
    const res = await post(
      ready.url,
      JSON.stringify({
        rows: [
          { date: '2015-01', temperature: 7 },
          { date: '2015-02-01', temperature: 9 },
        ],
      }),
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { predictions: unknown[] }).predictions).toHaveLength(2);
  });

  it.each([
    ['a non-numeric temperature', { date: '2015-01-01', temperature: 'hot' }, 'temperature'],
    ['a missing date', { temperature: 20 }, 'date'],
    ['a malformed date', { date: '01/02/2015', temperature: 20 }, 'date'],
    ['an unknown field', { date: '2015-01-01', temperature: 20, sales: 3 }, 'sales'],
    ['an empty batch', { rows: [] }, 'rows'],
  ])('answers 400 naming the field for %s', async (_name, body, field) => {
    const res = await post(ready.url, JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain(field);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await post(ready.url, '{"date":');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
  });

  it('answers 422 for a date the model cannot forecast', async () => {
    const res = await post(ready.url, JSON.stringify({ date: '1990-01-01', temperature: 20 }));
    expect(res.status).toBe(422);
  });

  it('is live but not ready, and refuses predictions, until a model is loaded', async () => {
    expect((await fetch(`${empty.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${empty.url}/readyz`)).status).toBe(503);
    expect(
      (await post(empty.url, JSON.stringify({ date: '2015-01-01', temperature: 7 }))).status,
    ).toBe(503);
    expect((await fetch(`${ready.url}/readyz`)).status).toBe(200);
  });

  it('never answers 5xx to 300 random bodies (bounded fuzz on loopback)', async () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values: unknown[] = [
      null,
      true,
      0,
      -1,
      1e308,
      -1e308,
      'x',
      '',
      '2015-02-30',
      '2015-13-01',
      '9999-12-31',
      '0000-01-01',
      [],
      {},
      { a: 1 },
      'NaN',
      '2015-01-01T00:00:00Z',
    ];
    const pick = () => values[Math.floor(rand() * values.length)];
    const bodies: string[] = [];
    for (let i = 0; i < 300; i++) {
      const shape = Math.floor(rand() * 5);
      const row = {
        date:
          rand() < 0.8
            ? `20${10 + Math.floor(rand() * 30)}-${String(1 + Math.floor(rand() * 14)).padStart(2, '0')}-01`
            : pick(),
        temperature: rand() < 0.7 ? rand() * 140 - 70 : pick(),
      };
      if (shape === 0) bodies.push(JSON.stringify(row));
      else if (shape === 1)
        bodies.push(
          JSON.stringify({ rows: Array.from({ length: Math.floor(rand() * 4) }, () => row) }),
        );
      else if (shape === 2)
        bodies.push(JSON.stringify({ ...row, covariates: { [String(pick())]: pick() } }));
      else if (shape === 3) bodies.push(JSON.stringify(pick()));
      else bodies.push(JSON.stringify(row).slice(0, Math.floor(rand() * 30)));
    }
    for (const body of bodies) {
      const res = await post(ready.url, body);
      expect(res.status, body).toBeLessThan(500);
      await res.arrayBuffer();
    }
  });

  it('answers 415 for a body that is not application/json', async () => {
    const res = await fetch(`${ready.url}/v1/predict`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'date=2015-01-01',
    });
    expect(res.status).toBe(415);
  });

  it('answers 413 for a batch over the configured limit', async () => {
    const rows = Array.from({ length: 51 }, () => ({ date: '2015-01-01', temperature: 7 }));
    const res = await post(ready.url, JSON.stringify({ rows }));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('50');
  });

  it('refuses a date past the horizon with 422 naming the last known date and the horizon', async () => {
    const res = await post(ready.url, JSON.stringify({ date: '2040-01-01', temperature: 7 }));
    expect(res.status).toBe(422);
    const { message } = ((await res.json()) as { error: { message: string } }).error;
    expect(message).toContain(series.dates[series.dates.length - 1]);
    expect(message).toContain(`at most ${model.maxHorizon} months`);
  });

  it('widens the interval with the horizon: two years ahead is less certain than next month', async () => {
    const at = async (date: string) => {
      const res = await post(ready.url, JSON.stringify({ date, temperature: 7 }));
      const body = (await res.json()) as { prediction: number; interval: { upper: number } };
      return body.interval.upper - body.prediction;
    };
    const next = await at('2015-01-01');
    const far = await at('2016-12-01');
    expect(far).toBeGreaterThan(next);
    const widths = model.forecaster.interval.byHorizon!;
    expect(next).toBeCloseTo(model.forecaster.interval.halfWidth, 1);
    expect(far).toBeCloseTo(widths[23]!, 1);
  });

  it('rounds predictions to cents', async () => {
    const body = (await (
      await post(ready.url, JSON.stringify({ date: '2015-01-01', temperature: 7.3 }))
    ).json()) as { prediction: number; interval: { lower: number } };
    expect(Number(body.prediction.toFixed(2))).toBe(body.prediction);
    expect(Number(body.interval.lower.toFixed(2))).toBe(body.interval.lower);
  });

  it("answers MLflow's scoring protocol in all four input shapes with the same predictions", async () => {
    const bodies = [
      {
        dataframe_split: {
          columns: ['date', 'temperature'],
          data: [
            ['2015-01-01', 7],
            ['2015-02-01', 9],
          ],
        },
      },
      {
        dataframe_records: [
          { date: '2015-01-01', temperature: 7 },
          { date: '2015-02-01', temperature: 9 },
        ],
      },
      {
        instances: [
          { date: '2015-01-01T00:00:00', temperature: 7 },
          { date: '2015-02-01', temperature: 9 },
        ],
      },
      { inputs: { date: [1420070400000, 1422748800000], temperature: [7, 9] } },
    ];
    const answers: unknown[] = [];
    for (const body of bodies) {
      const res = await fetch(`${ready.url}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, JSON.stringify(body)).toBe(200);
      answers.push(await res.json());
    }
    expect((answers[0] as { predictions: number[] }).predictions).toHaveLength(2);
    for (const a of answers) expect(a).toEqual(answers[0]);
  });

  it("answers bad /invocations input with 400 in MLflow's error shape", async () => {
    for (const body of [
      {},
      { dataframe_records: [{ date: 'x', temperature: 7 }] },
      { inputs: { date: ['2015-01-01'] } },
    ]) {
      const res = await fetch(`${ready.url}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      const err = (await res.json()) as { error_code: string; message: string };
      expect(err.error_code).toBe('BAD_REQUEST');
      expect(err.message.length).toBeGreaterThan(10);
    }
  });

  it('describes the loaded model, its history and its horizon', async () => {
    const res = await fetch(`${ready.url}/v1/model`);
    expect(res.status).toBe(200);
    const info = (await res.json()) as Record<string, unknown> & {
      history: { last_date: string };
      horizon: { periods: number; last_date: string };
    };
    expect(info).toMatchObject({ name: 'ice-cream-sales', version: '4', digest: 'd'.repeat(64) });
    expect(info.history.last_date).toBe(series.dates[series.dates.length - 1]);
    expect(info.horizon.periods).toBe(24);
    expect(info.horizon.last_date > info.history.last_date).toBe(true);
    const interval = info.interval as { half_width: number; half_width_by_horizon: number[] };
    expect(interval.half_width_by_horizon).toHaveLength(24);
    expect(interval.half_width_by_horizon[23]).toBeGreaterThan(interval.half_width);
  });

  it('documents every mounted route in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${ready.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    const app = createApp({
      models: fixedHolder(model),
      log: createLogger('silent'),
      metrics: createMetrics({ defaultMetrics: false }),
      gate: openGate,
      limits: { maxBatch: 50, maxBodyBytes: 64 * 1024 },
    });
    // every route Express would answer, read from its router
    const mounted = (
      app.router.stack as unknown as {
        route?: { path: string; methods: Record<string, boolean> };
      }[]
    ).flatMap((l) =>
      l.route ? Object.keys(l.route.methods).map((m) => `${m} ${l.route!.path}`) : [],
    );
    expect(mounted.length).toBeGreaterThan(6);
    for (const r of mounted) {
      const [method, path] = r.split(' ') as [string, string];
      expect(doc.paths[path]?.[method], `${r} has no OpenAPI document`).toBeDefined();
    }
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'PredictRow',
        'PredictBatch',
        'Prediction',
        'InvocationsRequest',
        'ModelInfo',
      ]),
    );
  });

  it('exports request durations, predictions and errors on /metrics', async () => {
    await post(ready.url, JSON.stringify({ date: '2015-01-01', temperature: 7 }));
    await post(ready.url, '{');
    const text = await (await fetch(`${ready.url}/metrics`)).text();
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0.0001",route="\/v1\/predict",method="POST",status="200",model_version="4"\}/,
    );
    expect(text).toMatch(
      /icecream_predictions_total\{model_version="4",variant="production"\} \d+/,
    );
    expect(text).toMatch(/icecream_http_errors_total\{code="invalid_json"\} \d+/);
  });

  it('answers 404 with a JSON error for an unknown route', async () => {
    const res = await fetch(`${ready.url}/v2/nothing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { request_id: string } }).error.request_id).toBeTruthy();
  });
});

describe('model holder', () => {
  const source = (load: () => Promise<ServingModel>, version = () => '4') => ({
    resolve: () => Promise.resolve(stored(version()).ref),
    fetch: load,
  });

  it('keeps serving the current model when a new one fails to load, and reports why', async () => {
    const failures: string[] = [];
    let version = '4';
    const holder = new ModelHolder(
      'production',
      source(
        () =>
          version === '4' ? Promise.resolve(model) : Promise.reject(new Error('digest mismatch')),
        () => version,
      ),
      createLogger('silent'),
      { failure: (r) => failures.push(r) },
      () => 'rejected',
    );
    await holder.refresh();
    version = '5';
    await holder.refresh();
    expect(holder.current?.version).toBe('4');
    expect(holder.lastError).toContain('digest mismatch');
    expect(failures).toEqual(['rejected']);
  });

  it('runs one load at a time: refreshes during a load join it', async () => {
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const holder = new ModelHolder(
      'production',
      source(async () => {
        loads++;
        await gate;
        return model;
      }),
      createLogger('silent'),
    );
    const a = holder.refresh();
    const b = holder.refresh();
    expect(a).toBe(b);
    release();
    await Promise.all([a, b]);
    await holder.refresh(); // same version and digest: nothing to fetch
    expect(loads).toBe(1);
    expect(holder.current?.version).toBe('4');
  });
});
