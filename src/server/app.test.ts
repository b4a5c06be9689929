import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger';
import { fitForecaster } from '../ml';
import { syntheticSeries } from '../ml/testing';
import { createApp } from './app';
import { ModelHolder, type ServingModel } from './model-holder';

const series = syntheticSeries(60);
const model: ServingModel = {
  name: 'ice-cream-sales',
  version: '4',
  forecaster: fitForecaster(series, {
    family: 'ridge',
    params: { alpha: 1 },
    seed: 1,
    coverage: 0.9,
  }),
  history: series,
  digest: 'd',
  loadedAt: '2026-01-01T00:00:00Z',
};

async function listen(holder: ModelHolder): Promise<{ server: Server; url: string }> {
  const app = createApp({ models: holder, log: createLogger('silent') });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
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
    const holder = new ModelHolder(() => Promise.resolve(model), createLogger('silent'));
    await holder.refresh();
    ready = await listen(holder);
    empty = await listen(new ModelHolder(() => Promise.resolve(undefined), createLogger('silent')));
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

  it('answers 404 with a JSON error for an unknown route', async () => {
    const res = await fetch(`${ready.url}/v2/nothing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { request_id: string } }).error.request_id).toBeTruthy();
  });
});

describe('model holder', () => {
  it('keeps serving the current model when a refresh fails', async () => {
    let fail = false;
    const holder = new ModelHolder(
      () => (fail ? Promise.reject(new Error('checksum mismatch')) : Promise.resolve(model)),
      createLogger('silent'),
    );
    await holder.refresh();
    fail = true;
    await holder.refresh();
    expect(holder.current?.version).toBe('4');
    expect(holder.lastError).toContain('checksum mismatch');
  });
});
