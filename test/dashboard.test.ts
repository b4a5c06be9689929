// The monitoring dashboard on the real service: the real server (MLflow registry, PostgreSQL live
// store, a real model) takes a simulated replay with feedback (src/simulate), and headless Chromium
// renders /dashboard from its real /v1/monitoring and /metrics.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../src/config';
import { japanColumns, parseDataset } from '../src/data/dataset';
import { createLogger } from '../src/logger';
import { fitForecaster, serializeForecaster, type Series } from '../src/ml';
import { forecast } from '../src/ml/serving';
import { mlflowClientFromConfig } from '../src/mlflow/from-config';
import { writeBundle } from '../src/model-store/bundle';
import { publishBundle } from '../src/model-store/publish';
import { aliases, moveAlias } from '../src/pipeline/registry';
import { HttpError } from '../src/server/errors';
import type { Gate } from '../src/server/routes/types';
import { startServer, type RunningServer } from '../src/server/server';
import { servingAdminFromConfig } from '../src/serving-admin';
import { simulate, type SimulateSummary } from '../src/simulate/replay';
import { startTestStack, type TestStack } from './helpers/stack';

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
  let stack: TestStack | undefined;
  let server: RunningServer | undefined;
  let url: string;
  let context: BrowserContext;
  let userDataDir: string;
  let series: Series;
  let holdoutMae: number;

  beforeAll(async () => {
    if (!hasChromium)
      throw new Error(
        `${CHROMIUM} is missing in CI: .ci/run installs it (apt-get install -y chromium)`,
      );
    // a real model: ridge on the Japan monthly data before the cut-off, the full history for lags
    series = parseDataset(
      fs.readFileSync(path.join(projectRoot, 'data', 'japan_icecream_tokyo_monthly.csv'), 'utf8'),
      japanColumns,
    );
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
    holdoutMae =
      holdoutPredictions.reduce(
        (s, p, j) => s + Math.abs(p.prediction - series.target[holdout[j]!.i]!),
        0,
      ) / holdout.length;

    // published to the real registry: v1, then v2 promoted over it (both audited)
    stack = await startTestStack(['mlflow', 'postgres'], {
      LIVE_UPDATE_SECONDS: '1',
      DRIFT_CHECK_SECONDS: '1',
      DRIFT_MIN_ROWS: '12',
      LIVE_MAE_RETRAIN_RATIO: '0',
      MODEL_REFRESH_SECONDS: '3600',
      METRICS_PORT: '0',
      FORECAST_MAX_HORIZON: '24',
    });
    const mlflow = mlflowClientFromConfig(stack.config);
    const name = stack.config.mlflow.registeredModel;
    const { experimentId } = await mlflow.ensureExperiment('dashboard');
    const bundleDir = path.join(stack.dir, 'bundle');
    const publish = async () => {
      const run = await mlflow.createRun({ experimentId, runName: 'ridge' });
      fs.rmSync(bundleDir, { recursive: true, force: true });
      writeBundle(bundleDir, serializeForecaster(forecaster), series, { runId: run.info.run_id });
      return (
        await publishBundle(mlflow, {
          registeredModel: name,
          runId: run.info.run_id,
          artifactUri: run.info.artifact_uri,
          bundleDir,
          tags: { holdout_mae: String(holdoutMae) },
        })
      ).version;
    };
    const v1 = await publish();
    const v2 = await publish();
    await moveAlias(mlflow, name, aliases.production, v1, {
      action: 'promote',
      by: 'pipeline',
      reason: 'first production model',
    });
    await moveAlias(mlflow, name, aliases.production, v2, {
      action: 'promote',
      by: 'admin@example.com',
      reason: 'beats v1 on the holdout (<script>alert(1)</script>)',
    });
    server = await startServer(stack.config, createLogger('silent'), {
      gate: () => keyGate,
      admin: servingAdminFromConfig(stack.config),
      metricsEndpoint: false,
    });
    expect(server.models.current?.version).toBe(v2);
    url = server.url;

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
    await server?.close();
    await stack?.stop();
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
    expect(summary.feedback).toEqual({ accepted: 24, corrected: 0, duplicates: 0 });
    expect(summary.mae.afterDegrade!).toBeGreaterThan(summary.mae.beforeDegrade!);

    // the service's own live quality (PostgreSQL) has all 24 actuals, and drift has been checked
    const served = server!.models.current!.version;
    const liveOf = async () => {
      const res = await fetch(`${url}/v1/monitoring`, {
        headers: { authorization: `Bearer ${KEY}` },
      });
      const mon = (await res.json()) as {
        versions: { version: string; live: { n: number; mae: number | null }[] }[];
        drift: { features: unknown[] };
      };
      const w = mon.versions.find((v) => v.version === served)?.live.find((x) => x.n > 0);
      return { n: w?.n ?? 0, mae: w?.mae ?? null, drift: mon.drift.features.length };
    };
    await expect.poll(async () => (await liveOf()).n, { timeout: 20_000 }).toBe(24);
    await expect.poll(async () => (await liveOf()).drift, { timeout: 20_000 }).toBeGreaterThan(0);
    const serviceMae = (await liveOf()).mae!;
    // the service's MAE is the client's, over the same 24 periods (the summary rounds to 0.01)
    expect(serviceMae).toBeCloseTo(summary.mae.all!, 1);

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
    expect(maePoints.at(-1)).toBeCloseTo(serviceMae, 6);
    expect(await page.locator('#mae-note').textContent()).toContain(`v${served}: `);
    expect(await page.locator('#mae-note').textContent()).toContain(' over 24 ');
    // canary mode is off: production is set to answer everything (no canary bar), and did
    const traffic = await Promise.all(
      (await page.locator('#chart-traffic rect.bar').all()).map(async (b) =>
        Number(await b.getAttribute('data-value')),
      ),
    );
    expect(traffic).toEqual([1, 1]);
    expect(await page.locator('#traffic-note').textContent()).toBe('mode off, no canary');
    const drift = await page.locator('#chart-drift rect.bar').first().getAttribute('data-value');
    expect(Number(drift)).toBeGreaterThan(0);
    expect(await count('#drift-rows tr')).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#drift-rows').textContent()).toContain('temperature');
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
