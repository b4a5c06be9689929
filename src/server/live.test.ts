import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger';
import { fitForecaster } from '../ml';
import { syntheticSeries } from '../ml/testing';
import type { Series } from '../ml/types';
import type { AdminActions, AuditEntry } from './admin';
import { apiRoutes, createApp } from './app';
import { createLive, type Live } from './live';
import { createMetrics } from './metrics';
import { ModelHolder, toServingModel, type ServingModel } from './model-holder';
import type { Gate } from './routes/types';
import { monitoringResponse } from './schemas';
import { clientBucket } from './traffic';

const full = syntheticSeries(84);
const head = (s: Series, n: number, bias = 0): Series => ({
  dates: s.dates.slice(0, n),
  target: s.target.slice(0, n).map((y) => y + bias),
  temperature: s.temperature.slice(0, n),
  covariates: Object.fromEntries(Object.entries(s.covariates).map(([k, v]) => [k, v.slice(0, n)])),
  frequency: s.frequency,
});
const trained = head(full, 60);

/** A model of version `version`, trained on the first 60 months (targets shifted by `bias`). */
function model(version: string, bias = 0): ServingModel {
  const series = head(full, 60, bias);
  const forecaster = fitForecaster(series, {
    family: 'ridge',
    params: { alpha: 1 },
    seed: 1,
    coverage: 0.9,
  });
  const digest = version.repeat(64).slice(0, 64);
  return toServingModel({
    ref: {
      name: 'ice-cream-sales',
      version,
      source: 's',
      digest,
      runId: 'r',
      aliases: [],
      tags: { holdout_mae: '12.5' },
    },
    dir: '/nowhere',
    digest,
    forecaster,
    // the history is the real one: only the model's fit is off
    history: trained,
  });
}

/** A holder whose alias points wherever `point.at` says. */
function holder(alias: string, point: { at: ServingModel | undefined }): ModelHolder {
  return new ModelHolder(
    alias,
    {
      resolve: () =>
        Promise.resolve(
          point.at && {
            name: point.at.name,
            version: point.at.version,
            source: 's',
            digest: point.at.digest,
            runId: 'r',
            aliases: [alias],
            tags: point.at.tags,
          },
        ),
      fetch: () => Promise.resolve(point.at!),
    },
    createLogger('silent'),
  );
}

/** Callers name themselves in x-client (a stand-in for the auth gate's principal). */
const clientGateCheck: ReturnType<Gate['require']> = (req, res, next) => {
  res.locals.principal = { id: req.get('x-client') ?? 'anonymous', kind: 'key', scopes: [] };
  next();
};
const clientGate: Gate = { require: () => clientGateCheck, requireAny: () => clientGateCheck };

interface Harness {
  url: string;
  live: Live;
  production: { at: ServingModel | undefined };
  staging: { at: ServingModel | undefined };
  actions: { calls: { kind: string; version?: string; reason: string }[] } & AdminActions;
  metrics: ReturnType<typeof createMetrics>;
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function start(
  prod: ServingModel,
  stage: ServingModel | undefined,
  mode: 'off' | 'canary' | 'shadow' = 'off',
  decides?: () => boolean,
): Promise<Harness> {
  const production = { at: prod };
  const staging = { at: stage };
  const models = holder('production', production);
  const stagingHolder = holder('staging', staging);
  await Promise.all([models.refresh(), stagingHolder.refresh()]);
  const metrics = createMetrics({ defaultMetrics: false });
  const calls: { kind: string; version?: string; reason: string }[] = [];
  const entry = (action: string, from: string | null, to: string, by: string, reason: string) => ({
    at: new Date().toISOString(),
    by,
    action,
    alias: 'production',
    from,
    to,
    reason,
  });
  const actions = {
    calls,
    promote: ({ version, reason, by }: { version: string; reason: string; by: string }) => {
      calls.push({ kind: 'promote', version, reason });
      const from = production.at?.version ?? null;
      production.at = staging.at?.version === version ? staging.at : production.at;
      return Promise.resolve(entry('promote', from, version, by, reason));
    },
    rollback: ({ reason, by }: { to?: string | undefined; reason: string; by: string }) => {
      calls.push({ kind: 'rollback', reason });
      return Promise.resolve(entry('rollback', null, '1', by, reason));
    },
    rejectCanary: ({ version, reason, by }: { version: string; reason: string; by: string }) => {
      calls.push({ kind: 'reject', version, reason });
      return Promise.resolve(entry('reject', version, version, by, reason));
    },
    history: () => Promise.resolve([] as AuditEntry[]),
  };
  const log = createLogger('silent');
  const live = createLive({
    production: models,
    staging: stagingHolder,
    metrics,
    log,
    actions,
    traffic: { mode, canaryShare: 0.5 },
    windows: [{ label: 'last100', count: 100 }],
    // latency is not what these tests compare: a shared test machine makes p99 noisy
    policy: { minRequests: 20, minLabels: 10, p99Ratio: 1000, p99MaxSeconds: 60 },
    ...(decides ? { decides } : {}),
  });
  const app = createApp({
    models,
    live,
    log,
    metrics,
    gate: clientGate,
    limits: { maxBatch: 50, maxBodyBytes: 64 * 1024 },
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    live,
    production,
    staging,
    actions,
    metrics,
  };
}

const call = async (h: Harness, method: string, path: string, body?: unknown, client = 'c1') => {
  const res = await fetch(`${h.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-client': client },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

interface PredictionBody {
  prediction: number;
  prediction_id: string;
  model_version: string;
  date: string;
}

/** Month `i` of the synthetic series as YYYY-MM-DD. */
const month = (i: number) => full.dates[i]!;

describe('POST /v1/feedback', () => {
  it('stores an actual by prediction id, then answers a duplicate and a correction', async () => {
    const h = await start(model('1'), undefined);
    const p = (await call(h, 'POST', '/v1/predict', { date: month(60), temperature: 20 }))
      .body as unknown as PredictionBody;
    const first = await call(h, 'POST', '/v1/feedback', {
      prediction_id: p.prediction_id,
      actual: 500,
    });
    expect(first).toEqual({ status: 200, body: { accepted: 1, corrected: 0, duplicates: 0 } });
    const again = await call(h, 'POST', '/v1/feedback', {
      prediction_id: p.prediction_id,
      actual: 500,
    });
    expect(again.body).toEqual({ accepted: 0, corrected: 0, duplicates: 1 });
    const fixed = await call(h, 'POST', '/v1/feedback', {
      prediction_id: p.prediction_id,
      actual: 510,
    });
    expect(fixed.body).toEqual({ accepted: 0, corrected: 1, duplicates: 0 });
  });

  it('takes a batch by date and by id', async () => {
    const h = await start(model('1'), undefined);
    const p = (await call(h, 'POST', '/v1/predict', { date: month(60), temperature: 20 }))
      .body as unknown as PredictionBody;
    const res = await call(h, 'POST', '/v1/feedback', {
      items: [
        { prediction_id: p.prediction_id, actual: 480 },
        { date: month(60).slice(0, 7), actual: 480 },
      ],
    });
    expect(res).toEqual({ status: 200, body: { accepted: 2, corrected: 0, duplicates: 0 } });
  });

  it.each([
    [
      'an unknown prediction id',
      { prediction_id: '8a4c2a8e-8b8f-4a55-9a8e-1c9a8a0f1b2c', actual: 3 },
      404,
      'unknown_prediction',
    ],
    ['a future date', { date: '2999-01-01', actual: 3 }, 422, 'future_date'],
    ['a non-number', { date: '2014-01-01', actual: 'lots' }, 400, 'invalid_request'],
    ['a negative actual', { date: '2014-01-01', actual: -1 }, 400, 'invalid_request'],
    ['a malformed id', { prediction_id: 'nope', actual: 3 }, 400, 'invalid_request'],
  ])('refuses %s with a clear 4xx', async (_name, body, status, code) => {
    const h = await start(model('1'), undefined);
    const res = await call(h, 'POST', '/v1/feedback', body);
    expect(res.status).toBe(status);
    expect((res.body.error as { code: string }).code).toBe(code);
  });

  it('stores nothing from a batch with an unknown id, and says which item', async () => {
    const h = await start(model('1'), undefined);
    const res = await call(h, 'POST', '/v1/feedback', {
      items: [
        { date: month(60), actual: 400 },
        { prediction_id: '8a4c2a8e-8b8f-4a55-9a8e-1c9a8a0f1b2c', actual: 3 },
      ],
    });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain('items.1');
    // the valid item was not stored either: sending it now is new
    const again = await call(h, 'POST', '/v1/feedback', { date: month(60), actual: 400 });
    expect(again.body).toEqual({ accepted: 1, corrected: 0, duplicates: 0 });
  });

  it('extends the live history: the next period uses the real actual, and the horizon moves on', async () => {
    const h = await start(model('1'), undefined);
    const ask = async (i: number) =>
      (
        (await call(h, 'POST', '/v1/predict', { date: month(i), temperature: 20 }))
          .body as unknown as PredictionBody
      ).prediction;
    const before = await ask(61);
    // a very different actual for month 60 changes month 61's lag
    await call(h, 'POST', '/v1/feedback', { date: month(60), actual: 5000 });
    const after = await ask(61);
    expect(after).not.toBeCloseTo(before, 1);
    // the model forecasts 24 months past its history: one actual later, month 84 is in range
    expect(
      (await call(h, 'POST', '/v1/predict', { date: '2017-01-01', temperature: 5 })).status,
    ).toBe(200);
    const swapped = model('2');
    h.production.at = swapped;
    await h.live.production.refresh();
    // a new model keeps the live history
    expect(await ask(61)).not.toBeCloseTo(before, 1);
  });

  it('updates the live MAE gauge after feedback', async () => {
    const h = await start(model('1'), undefined);
    const p = (await call(h, 'POST', '/v1/predict', { date: month(60), temperature: 20 }))
      .body as unknown as PredictionBody;
    await call(h, 'POST', '/v1/feedback', {
      prediction_id: p.prediction_id,
      actual: p.prediction + 10,
    });
    await h.live.monitor.update();
    const text = await h.metrics.registry.metrics();
    expect(text).toMatch(/icecream_live_mae\{model_version="1",window="last100"\} 10/);
    expect(text).toContain('icecream_feedback_total{result="created"} 1');
  });
});

/** One simulated month: `clients` callers predict it, then its actual arrives for each id. */
async function simulateMonth(h: Harness, i: number, clients = 40): Promise<PredictionBody[]> {
  const out: PredictionBody[] = [];
  for (let c = 0; c < clients; c++) {
    const r = await call(
      h,
      'POST',
      '/v1/predict',
      { date: month(i), temperature: full.temperature[i]! },
      `client-${c}`,
    );
    expect(r.status).toBe(200);
    out.push(r.body as unknown as PredictionBody);
  }
  await call(h, 'POST', '/v1/feedback', {
    items: out.map((p) => ({ prediction_id: p.prediction_id, actual: full.target[i]! })),
  });
  return out;
}

describe('canary and shadow', () => {
  it('keeps each client on the same side of the split', async () => {
    const h = await start(model('1'), model('2', 30), 'canary');
    const versions = new Map<string, Set<string>>();
    for (let round = 0; round < 3; round++)
      for (let c = 0; c < 20; c++) {
        const r = (
          await call(h, 'POST', '/v1/predict', { date: month(60), temperature: 20 }, `k${c}`)
        ).body as unknown as PredictionBody;
        versions.set(`k${c}`, (versions.get(`k${c}`) ?? new Set()).add(r.model_version));
      }
    for (const [client, seen] of versions) {
      expect(seen.size).toBe(1);
      expect([...seen][0]).toBe(clientBucket(client) < 0.5 ? '2' : '1');
    }
    expect(new Set([...versions.values()].map((s) => [...s][0])).size).toBe(2);
  });

  it('shadow mode answers with production and only records the candidate', async () => {
    const h = await start(model('1'), model('2', 30), 'shadow');
    for (let c = 0; c < 5; c++) {
      const r = await call(h, 'POST', '/v1/predict', { date: month(60), temperature: 20 }, `s${c}`);
      expect(r.body.model_version).toBe('1');
    }
    await new Promise((resolve) => setImmediate(resolve));
    const text = await h.metrics.registry.metrics();
    expect(text).toContain('icecream_predictions_total{model_version="2",variant="shadow"} 5');
    expect(text).toContain('icecream_predictions_total{model_version="1",variant="production"} 5');
  });

  it('rolls a worse canary back at once, audited with the analysis, and production keeps serving', async () => {
    const h = await start(model('1'), model('2', 120), 'canary');
    let decision = null;
    for (let i = 60; i < 66 && decision?.decision !== 'rollback'; i++) {
      await simulateMonth(h, i);
      decision = await h.live.canary!.analyse();
    }
    expect(decision?.decision).toBe('rollback');
    expect(h.actions.calls).toEqual([
      expect.objectContaining({
        kind: 'reject',
        version: '2',
        reason: expect.stringContaining('quality') as unknown,
      }),
    ]);
    // the very next requests of every client go to production
    const after = await simulateMonth(h, 66, 20);
    expect(new Set(after.map((p) => p.model_version))).toEqual(new Set(['1']));
    const monitoring = await call(h, 'GET', '/v1/monitoring');
    expect(monitoring.status).toBe(200);
    const parsed = monitoringResponse.parse(monitoring.body);
    expect(parsed.canary_analysis?.decision).toBe('rollback');
    expect(parsed.traffic).toMatchObject({
      mode: 'canary',
      production_version: '1',
      canary_version: null,
    });
  });

  it('leaves the decision to the leading process: a follower neither analyses nor acts', async () => {
    let leads = false;
    const h = await start(model('1'), model('2', 120), 'canary', () => leads);
    for (let i = 60; i < 66; i++) {
      await simulateMonth(h, i);
      expect(await h.live.canary!.analyse()).toBeNull();
    }
    expect(h.actions.calls).toEqual([]);
    expect(h.live.traffic.candidate()?.version).toBe('2');
    // leadership moves here: the same evidence now rolls the canary back
    leads = true;
    expect((await h.live.canary!.analyse())?.decision).toBe('rollback');
    expect(h.actions.calls.map((c) => c.kind)).toEqual(['reject']);
  });

  it('promotes a better canary and swaps production to it', async () => {
    const h = await start(model('1', 120), model('2'), 'canary');
    let decision = null;
    for (let i = 60; i < 66 && decision?.decision !== 'promote'; i++) {
      await simulateMonth(h, i);
      decision = await h.live.canary!.analyse();
    }
    expect(decision?.decision).toBe('promote');
    expect(h.actions.calls[0]).toMatchObject({ kind: 'promote', version: '2' });
    expect(h.live.production.current?.version).toBe('2');
    const r = await call(h, 'POST', '/v1/predict', { date: month(67), temperature: 20 }, 'anyone');
    expect(r.body.model_version).toBe('2');
  });
});

describe('admin routes and /v1/monitoring', () => {
  it('sets the traffic, audited with the caller, and shows it in /v1/monitoring', async () => {
    const h = await start(model('1'), model('2', 30));
    const set = await call(
      h,
      'PUT',
      '/v1/admin/traffic',
      { mode: 'canary', canary_share: 0.25 },
      'alice',
    );
    expect(set.body).toEqual({
      mode: 'canary',
      canary_share: 0.25,
      production_version: '1',
      canary_version: '2',
    });
    const m = monitoringResponse.parse((await call(h, 'GET', '/v1/monitoring')).body);
    expect(m.audit[0]).toMatchObject({ by: 'alice', action: 'traffic', to: 'canary 0.25' });
    expect(m.versions.map((v) => [v.version, v.arm, v.holdout_mae])).toEqual([
      ['1', 'production', 12.5],
      ['2', 'canary', 12.5],
    ]);
    expect(m.requests.rate_per_s).toBeGreaterThan(0);
  });

  it('refuses a bad traffic body and a promote without a version', async () => {
    const h = await start(model('1'), undefined);
    expect(
      (await call(h, 'PUT', '/v1/admin/traffic', { mode: 'blue', canary_share: 2 })).status,
    ).toBe(400);
    expect((await call(h, 'POST', '/v1/admin/promote', { reason: 'x' })).status).toBe(400);
  });

  it('promotes and rolls back through the registry actions with the caller as actor', async () => {
    const h = await start(model('1'), model('2'));
    const res = await call(
      h,
      'POST',
      '/v1/admin/promote',
      { version: '2', reason: 'manual' },
      'bob',
    );
    expect(res.body).toMatchObject({
      production_version: '2',
      audit: { by: 'bob', action: 'promote' },
    });
    const back = await call(h, 'POST', '/v1/admin/rollback', { reason: 'oops' }, 'bob');
    expect(back.status).toBe(200);
    expect(h.actions.calls.map((c) => c.kind)).toEqual(['promote', 'rollback']);
  });
});

describe('extra routes', () => {
  it('replace a built-in route with the same method and path, and stay documented', () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const routes = apiRoutes({
      models: holder('production', { at: undefined }),
      log: createLogger('silent'),
      metrics,
      gate: clientGate,
      limits: { maxBatch: 1, maxBodyBytes: 1024 },
      routes: [
        {
          method: 'post',
          path: '/v1/feedback',
          summary: 'replacement',
          scope: 'feedback',
          responses: { 200: { description: 'ok' } },
          handler: (_req, res) => void res.json({}),
        },
      ],
    });
    const feedback = routes.filter((r) => r.path === '/v1/feedback');
    expect(feedback.map((r) => r.summary)).toEqual(['replacement']);
    expect(routes.some((r) => r.path === '/v1/monitoring')).toBe(true);
  });
});
