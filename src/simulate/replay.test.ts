import { describe, expect, it } from 'vitest';
import { syntheticSeries } from '../ml/testing';
import { SimulateError, simulate } from './replay';

interface Call {
  method: string;
  path: string;
  auth: string | null;
  body: Record<string, unknown> | undefined;
}

/** A fake service: answers /v1/model, /v1/predict and /v1/feedback and records every call. */
function fakeService(
  options: {
    lastDate?: string;
    frequency?: string;
    refuse?: (body: Record<string, unknown>) => { status: number; body: unknown } | undefined;
    monitoring?: unknown;
  } = {},
) {
  const calls: Call[] = [];
  let n = 0;
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  const fetchFake = (input: string, init?: RequestInit): Promise<Response> => {
    const url = new URL(input);
    const body = init?.body
      ? (JSON.parse(init.body as string) as Record<string, unknown>)
      : undefined;
    const auth = new Headers(init?.headers).get('authorization');
    calls.push({ method: init?.method ?? 'GET', path: url.pathname, auth, body });
    if (url.pathname === '/v1/model')
      return Promise.resolve(
        json(200, {
          version: '7',
          frequency: options.frequency ?? 'monthly',
          feature_spec: { covariates: ['rain'] },
          history: { first_date: '2010-01-01', last_date: options.lastDate ?? '2012-12-01' },
        }),
      );
    if (url.pathname === '/v1/predict') {
      const refused = options.refuse?.(body!);
      if (refused) return Promise.resolve(json(refused.status, refused.body));
      n++;
      return Promise.resolve(
        json(200, {
          date: body!.date,
          prediction: 100,
          interval: { lower: 80, upper: 120, coverage: 0.9 },
          model_version: '7',
          prediction_id: `id-${n}`,
        }),
      );
    }
    if (url.pathname === '/v1/feedback')
      return Promise.resolve(json(200, { accepted: 1, corrected: 0, duplicates: 0 }));
    if (url.pathname === '/v1/monitoring' && options.monitoring)
      return Promise.resolve(json(200, options.monitoring));
    return Promise.resolve(json(404, { error: { code: 'not_found', message: 'no such route' } }));
  };
  return { calls, fetch: fetchFake as unknown as typeof fetch };
}

const series = syntheticSeries(48); // monthly 2010-01 .. 2013-12, with a `rain` covariate

describe('simulate', () => {
  it('predicts then sends the actual for each period after the model history, with the key', async () => {
    const svc = fakeService();
    const seen: string[] = [];
    const summary = await simulate({
      url: 'http://svc/',
      key: 'k1',
      series,
      speed: Infinity,
      fetch: svc.fetch,
      onPeriod: (p) => seen.push(p.date),
    });
    expect(summary.periods).toBe(12);
    expect(summary.from).toBe('2013-01-01');
    expect(seen[0]).toBe('2013-01');
    const work = svc.calls.filter((c) => c.path !== '/v1/model' && c.path !== '/v1/monitoring');
    expect(work.map((c) => c.path).slice(0, 4)).toEqual([
      '/v1/predict',
      '/v1/feedback',
      '/v1/predict',
      '/v1/feedback',
    ]);
    expect(work[0]!.body).toEqual({
      date: '2013-01',
      temperature: Math.round(series.temperature[36]! * 100) / 100,
      covariates: { rain: series.covariates.rain![36] },
    });
    expect(work[1]!.body).toEqual({
      prediction_id: 'id-1',
      actual: Math.round(series.target[36]! * 100) / 100,
    });
    expect(svc.calls.every((c) => c.auth === 'Bearer k1')).toBe(true);
    expect(summary.feedback.accepted).toBe(12);
    // the fake always predicts 100: the MAE is the mean distance of the actuals from 100
    const expected =
      Array.from(series.target.slice(36)).reduce(
        (s, y) => s + Math.abs(Math.round(y * 100) / 100 - 100),
        0,
      ) / 12;
    expect(summary.mae.all).toBeCloseTo(expected, 1);
    expect(summary.service).toBeNull();
  });

  it("replays the file's last periods when the model's history already covers the file", async () => {
    const svc = fakeService({ lastDate: '2013-12-01' });
    const summary = await simulate({
      url: 'http://svc',
      series,
      periods: 6,
      speed: Infinity,
      fetch: svc.fetch,
    });
    expect([summary.from, summary.to]).toEqual(['2013-07-01', '2013-12-01']);
  });

  it('shifts the temperature and scales the actuals from the degradation date on', async () => {
    const svc = fakeService();
    const summary = await simulate({
      url: 'http://svc',
      series,
      speed: Infinity,
      from: '2013-01',
      periods: 4,
      degrade: { at: '2013-03-01', temperatureShift: 5, salesFactor: 0.5 },
      fetch: svc.fetch,
    });
    const predicts = svc.calls.filter((c) => c.path === '/v1/predict').map((c) => c.body!);
    const actuals = svc.calls.filter((c) => c.path === '/v1/feedback').map((c) => c.body!);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    expect(predicts[1]!.temperature).toBe(r2(series.temperature[37]!));
    expect(predicts[2]!.temperature).toBe(r2(series.temperature[38]! + 5));
    expect(actuals[1]!.actual).toBe(r2(series.target[37]!));
    expect(actuals[3]!.actual).toBe(r2(series.target[39]! * 0.5));
    expect(summary.degradedPeriods).toBe(2);
  });

  it('names the period and the service reason when a prediction is refused', async () => {
    const svc = fakeService({
      refuse: (b) =>
        b.date === '2013-03'
          ? {
              status: 422,
              body: { error: { code: 'unprocessable', message: 'too far ahead' } },
            }
          : undefined,
    });
    const run = simulate({ url: 'http://svc', series, speed: Infinity, fetch: svc.fetch });
    await expect(run).rejects.toThrow(SimulateError);
    await expect(run).rejects.toThrow(
      'predicting 2013-03 failed with HTTP 422: unprocessable: too far ahead',
    );
  });

  it('asks for a key with the right scopes when the service answers 401', async () => {
    const fetch401 = (() =>
      Promise.resolve(
        new Response(JSON.stringify({ error: { code: 'unauthenticated', message: 'no key' } }), {
          status: 401,
        }),
      )) as typeof fetch;
    await expect(
      simulate({ url: 'http://svc', series, speed: Infinity, fetch: fetch401 }),
    ).rejects.toThrow('pass --key with a key that has the predict and feedback scopes');
  });

  it('refuses data of another frequency than the served model', async () => {
    const svc = fakeService({ frequency: 'daily' });
    await expect(
      simulate({ url: 'http://svc', series, speed: Infinity, fetch: svc.fetch }),
    ).rejects.toThrow('the data is monthly but the served model is daily');
  });

  it("reports the service's own live MAE when it has /v1/monitoring", async () => {
    const svc = fakeService({
      monitoring: {
        versions: [{ version: '7', arm: 'production', live: [{ window: '1h', n: 12, mae: 9.5 }] }],
      },
    });
    const summary = await simulate({
      url: 'http://svc',
      series,
      speed: Infinity,
      fetch: svc.fetch,
    });
    expect(summary.service).toEqual([
      { version: '7', arm: 'production', window: '1h', n: 12, mae: 9.5 },
    ]);
  });
});
