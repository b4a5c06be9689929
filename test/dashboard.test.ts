import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, projectRoot } from '../src/config';
import { japanColumns, parseDataset } from '../src/data/dataset';
import { createLogger } from '../src/logger';
import { fitForecaster, type Series } from '../src/ml';
import { forecast } from '../src/ml/serving';
import { createApp } from '../src/server/app';
import { HttpError } from '../src/server/errors';
import { createMetrics } from '../src/server/metrics';
import { ModelHolder, toServingModel } from '../src/server/model-holder';
import type { Gate } from '../src/server/routes/types';
import { simulate, type SimulateSummary } from '../src/simulate/replay';
import { liveFixture } from './helpers/live-fixture';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
if (!hasChromium && !inCi)
  console.warn(
    `skipping the dashboard browser test: ${CHROMIUM} is missing (install it with apt-get install -y chromium, as .ci/run does)`,
  );

const KEY = 'dash-test-key-0123456789';
const CUTOFF = '2017-04-01'; // the default pipeline's 24-month holdout starts here
const DEGRADE_AT = '2018-04-01';
const artifacts = path.join(projectRoot, '.test-artifacts');

/** Every scope needs `Authorization: Bearer KEY`: proves the page and simulate send it. */
const keyGateCheck: ReturnType<Gate['require']> = (req, _res, next) => {
  next(
    req.headers.authorization === `Bearer ${KEY}`
      ? undefined
      : new HttpError(401, 'unauthenticated', 'a valid API key is required'),
  );
};
const keyGate: Gate = { require: () => keyGateCheck, requireAny: () => keyGateCheck };

function head(s: Series, before: string): Series {
  const n = s.dates.findIndex((d) => d >= before);
  return {
    dates: s.dates.slice(0, n),
    target: s.target.slice(0, n),
    temperature: s.temperature.slice(0, n),
    covariates: Object.fromEntries(
      Object.entries(s.covariates).map(([k, v]) => [k, v.slice(0, n)]),
    ),
    frequency: s.frequency,
  };
}

describe.skipIf(!hasChromium && !inCi)('monitoring dashboard in headless Chromium', () => {
  let server: Server;
  let url: string;
  let context: BrowserContext;
  let userDataDir: string;
  let series: Series;
  let feedbackCount: () => number;

  beforeAll(async () => {
    if (!hasChromium)
      throw new Error(
        `${CHROMIUM} is missing in CI: .ci/run installs it (apt-get install -y chromium)`,
      );
    // a real model: ridge on the Japan monthly data before the cut-off, the full history for lags
    series = parseDataset(fs.readFileSync(loadConfig().dataPath, 'utf8'), japanColumns);
    const train = head(series, CUTOFF);
    const forecaster = fitForecaster(train, {
      family: 'ridge',
      params: { alpha: 1 },
      seed: 42,
      coverage: 0.9,
    });
    const holdout = series.dates.map((d, i) => ({ d, i })).filter(({ d }) => d >= CUTOFF);
    const holdoutPredictions = forecast(
      forecaster,
      series,
      holdout.map(({ d, i }) => ({
        date: d,
        temperature: series.temperature[i]!,
        covariates: Object.fromEntries(
          Object.entries(series.covariates).map(([k, v]) => [k, v[i]!]),
        ),
      })),
      { maxHorizon: 24 },
    );
    const holdoutMae =
      holdoutPredictions.reduce(
        (s, p, j) => s + Math.abs(p.prediction - series.target[holdout[j]!.i]!),
        0,
      ) / holdout.length;

    const digest = 'a'.repeat(64);
    const model = toServingModel(
      {
        ref: {
          name: 'ice-cream-sales',
          version: '3',
          source: 's',
          digest,
          runId: 'r',
          aliases: [],
        },
        dir: '/nowhere',
        digest,
        forecaster,
        history: series,
      },
      24,
    );
    const holder = new ModelHolder(
      'production',
      {
        resolve: () =>
          Promise.resolve({
            name: 'ice-cream-sales',
            version: '3',
            source: 's',
            digest,
            runId: 'r',
            aliases: ['production'],
          }),
        fetch: () => Promise.resolve(model),
      },
      createLogger('silent'),
    );
    await holder.refresh();

    const fixture = liveFixture({
      productionVersion: '3',
      holdoutMae,
      reference: { temperature: Array.from(train.temperature) },
      audit: [
        {
          at: '2026-12-01T09:00:00.000Z',
          by: 'pipeline',
          action: 'promote',
          alias: 'production',
          from: null,
          to: '2',
          reason: 'first production model',
        },
        {
          at: '2026-12-01T10:00:00.000Z',
          by: 'admin@example.com',
          action: 'promote',
          alias: 'production',
          from: '2',
          to: '3',
          reason: 'beats v2 on the holdout (<script>alert(1)</script>)',
        },
      ],
    });
    feedbackCount = fixture.feedbackCount;
    const app = express();
    app.use(fixture.tap);
    app.use(
      createApp({
        models: holder,
        log: createLogger('silent'),
        metrics: createMetrics({ defaultMetrics: false }),
        gate: keyGate,
        limits: { maxBatch: 100, maxBodyBytes: 64 * 1024 },
        routes: fixture.routes,
      }),
    );
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-chromium-'));
    // Debian's chromium; playwright-core never downloads a browser
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      viewport: { width: 1280, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await context?.close();
    server?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  it('renders live charts and the audit table from a simulated replay, and keeps the key out of the URL', async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(`${url}/dashboard#key=${KEY}`);
    // the page counts its refreshes in <body data-refreshes> (polled from here: its CSP forbids eval)
    const refreshes = async () => Number(await page.locator('body').getAttribute('data-refreshes'));
    await expect.poll(refreshes, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(page.url()).toBe(`${url}/dashboard`);

    const summary: SimulateSummary = await simulate({
      url,
      key: KEY,
      series,
      speed: 40,
      degrade: { at: DEGRADE_AT, temperatureShift: 6, salesFactor: 0.6 },
    });
    expect(summary.periods).toBe(24);
    expect(summary.from).toBe(CUTOFF);
    expect(summary.degradedPeriods).toBe(12);
    expect(feedbackCount()).toBe(24);
    expect(summary.mae.afterDegrade!).toBeGreaterThan(summary.mae.beforeDegrade!);
    expect(summary.service![0]!.n).toBe(24);

    const seen = await refreshes();
    await expect.poll(refreshes, { timeout: 20_000 }).toBeGreaterThanOrEqual(seen + 2);

    const count = (selector: string) => page.locator(selector).count();
    expect(await page.locator('#status').getAttribute('class')).not.toBe('bad');
    expect(await count('#chart-rate circle.pt')).toBeGreaterThanOrEqual(3);
    expect(await count('#chart-latency circle.pt')).toBeGreaterThanOrEqual(3);
    expect(await count('#chart-mae circle.pt')).toBeGreaterThanOrEqual(2);
    expect(await count('#chart-mae line.ref')).toBe(1);
    // the latest live MAE point is the service's MAE over the 24 replayed periods
    const maePoints = await Promise.all(
      (await page.locator('#chart-mae circle.pt').all()).map(async (c) =>
        Number(await c.getAttribute('data-value')),
      ),
    );
    expect(maePoints.at(-1)).toBeCloseTo(summary.service![0]!.mae!, 6);
    expect(await count('#chart-traffic rect.bar')).toBe(3); // set: production + canary; served: production
    const drift = await page.locator('#chart-drift rect.bar').getAttribute('data-value');
    expect(Number(drift)).toBeGreaterThan(0);
    expect(await count('#drift-rows tr')).toBe(1);
    expect(await count('#audit-rows tr')).toBe(2);
    // audit text is inserted as text, never as markup
    expect(await page.locator('#audit-rows').textContent()).toContain('<script>alert(1)</script>');
    const stored = await page.evaluate(() =>
      (
        globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }
      ).sessionStorage.getItem('icecream.dashboard.key'),
    );
    expect(stored).toBe(KEY);
    expect(problems).toEqual([]);

    fs.mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'dashboard.png'), fullPage: true });
    await page.close();
  });

  it('says the key was refused when the page has no key (also at /dashboard/)', async () => {
    const page = await context.newPage();
    await page.goto(`${url}/dashboard/`);
    await page.locator('#status.bad').waitFor();
    expect(await page.locator('#status').textContent()).toContain('refused (HTTP 401)');
    await page.close();
  });
});
