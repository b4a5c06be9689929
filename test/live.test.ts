// Canary releases against a real MLflow server, predictions and actuals in a real PostgreSQL: a better `staging` model is promoted (the alias
// moves in the registry, audited), a worse one is rolled back (out of traffic at once, the version
// tagged with the analysis, audited), and production answers every request throughout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';
import { fitForecaster, serializeForecaster } from '../src/ml';
import { syntheticSeries } from '../src/ml/testing';
import type { Series } from '../src/ml/types';
import type { MlflowClient } from '../src/mlflow/client';
import { mlflowClientFromConfig } from '../src/mlflow/from-config';
import { fromKeyValues } from '../src/mlflow/validation';
import { createPool } from '../src/db/pool';
import { writeBundle } from '../src/model-store/bundle';
import { publishBundle } from '../src/model-store/publish';
import { readHistory } from '../src/pipeline/registry';
import type { Gate } from '../src/server/routes/types';
import { startServer, type RunningServer } from '../src/server/server';
import { servingAdminFromConfig } from '../src/serving-admin';
import { startTestStack, type TestStack } from './helpers/stack';

const full = syntheticSeries(90);
const trained: Series = {
  dates: full.dates.slice(0, 60),
  target: full.target.slice(0, 60),
  temperature: full.temperature.slice(0, 60),
  covariates: Object.fromEntries(
    Object.entries(full.covariates).map(([k, v]) => [k, v.slice(0, 60)]),
  ),
  frequency: full.frequency,
};

/** Callers name themselves in x-client (a stand-in for the auth gate's principal). */
const clientGateCheck: ReturnType<Gate['require']> = (req, res, next) => {
  res.locals.principal = { id: req.get('x-client') ?? 'anonymous', kind: 'key', scopes: [] };
  next();
};
const clientGate: Gate = { require: () => clientGateCheck, requireAny: () => clientGateCheck };

let stack: TestStack;
let mlflow: MlflowClient;
let server: RunningServer;
let name: string;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-live-'));

/** Publishes a ridge model trained on the first 60 months with targets shifted by `bias`. */
async function publish(experimentId: string, bias: number): Promise<string> {
  const series = { ...trained, target: trained.target.map((y) => y + bias) };
  const forecaster = fitForecaster(series, {
    family: 'ridge',
    params: { alpha: 1 },
    seed: 1,
    coverage: 0.9,
  });
  const run = await mlflow.createRun({ experimentId, runName: `bias-${bias}` });
  const dir = path.join(work, `bias-${bias}`);
  writeBundle(dir, serializeForecaster(forecaster), trained, { runId: run.info.run_id });
  const { version } = await publishBundle(mlflow, {
    registeredModel: name,
    runId: run.info.run_id,
    artifactUri: run.info.artifact_uri,
    bundleDir: dir,
    tags: { holdout_mae: String(10 + bias / 10) },
  });
  return version;
}

async function post(pathname: string, body: unknown, client: string) {
  const res = await fetch(`${server.url}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-client': client },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Month i: 40 clients predict it (every answer must be a 200), then its actual arrives. */
async function simulateMonth(i: number): Promise<string[]> {
  const ids: string[] = [];
  const versions: string[] = [];
  for (let c = 0; c < 40; c++) {
    const r = await post(
      '/v1/predict',
      { date: full.dates[i], temperature: full.temperature[i] },
      `client-${c}`,
    );
    expect(r.status).toBe(200);
    ids.push(r.body.prediction_id as string);
    versions.push(r.body.model_version as string);
  }
  const fb = await post(
    '/v1/feedback',
    { items: ids.map((id) => ({ prediction_id: id, actual: full.target[i] })) },
    'shop',
  );
  expect(fb.body).toEqual({ accepted: 40, corrected: 0, duplicates: 0 });
  return versions;
}

async function runUntil(from: number, verdict: 'promote' | 'rollback'): Promise<number> {
  let last = null;
  for (let i = from; i < from + 8; i++) {
    await simulateMonth(i);
    last = await server.live.canary!.analyse();
    if (last?.decision === verdict) return i + 1;
  }
  throw new Error(`no ${verdict} after 8 months; last analysis: ${JSON.stringify(last)}`);
}

beforeAll(async () => {
  stack = await startTestStack(['mlflow', 'postgres'], {
    CANARY_MODE: 'canary',
    CANARY_SHARE: '0.5',
    CANARY_ANALYSIS_SECONDS: '3600', // the test runs the analysis itself
    CANARY_MIN_REQUESTS: '20',
    CANARY_MIN_LABELS: '10',
    // whole-request latency on a shared test machine is noise, not what this test compares
    CANARY_P99_RATIO: '1000',
    CANARY_P99_MAX_MS: '60000',
    MODEL_REFRESH_SECONDS: '3600',
    METRICS_PORT: '0',
    MLFLOW_REGISTERED_MODEL: 'live-canary',
  });
  name = stack.config.mlflow.registeredModel;
  mlflow = mlflowClientFromConfig(stack.config);
  const { experimentId } = await mlflow.ensureExperiment('live-canary');
  const biased = await publish(experimentId, 150);
  const good = await publish(experimentId, 0);
  expect([biased, good]).toEqual(['1', '2']);
  await mlflow.setAlias(name, 'production', '1');
  await mlflow.setAlias(name, 'staging', '2');
  server = await startServer(stack.config, createLogger('silent'), {
    gate: () => clientGate,
    admin: servingAdminFromConfig(stack.config),
    metricsEndpoint: false,
  });
});

afterAll(async () => {
  await server?.close();
  await stack?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('canary releases against a real MLflow registry', () => {
  let month = 60;

  it('promotes a better canary: the production alias moves in MLflow, audited with the analysis', async () => {
    expect(server.models.current?.version).toBe('1');
    expect(server.live.traffic.candidate()?.version).toBe('2');
    month = await runUntil(month, 'promote');
    expect((await mlflow.tryGetModelVersionByAlias(name, 'production'))?.version).toBe('2');
    const last = (await readHistory(mlflow, name)).at(-1);
    expect(last).toMatchObject({ action: 'promote', by: 'canary-analysis', from: '1', to: '2' });
    expect(last?.reason).toContain('significantly better');
    // the server swapped at once: every client is on v2 now
    expect(new Set(await simulateMonth(month++))).toEqual(new Set(['2']));
  });

  it('rolls a worse canary back: out of traffic at once, the version tagged, production never stops', async () => {
    const experimentId = (await mlflow.ensureExperiment('live-canary')).experimentId;
    const worse = await publish(experimentId, -150);
    await mlflow.setAlias(name, 'staging', worse);
    await server.live.staging!.refresh();
    expect(server.live.traffic.candidate()?.version).toBe(worse);
    month = await runUntil(month, 'rollback');
    // in process: the next request of every client goes to production
    expect(new Set(await simulateMonth(month++))).toEqual(new Set(['2']));
    expect((await mlflow.tryGetModelVersionByAlias(name, 'production'))?.version).toBe('2');
    const tags = fromKeyValues((await mlflow.getModelVersion(name, worse)).tags);
    expect(tags['staging.decision']).toBe('reject');
    expect(tags['staging.reason']).toContain('significantly worse');
    const last = (await readHistory(mlflow, name)).at(-1);
    expect(last).toMatchObject({ action: 'reject', alias: 'staging', by: 'canary-analysis' });
    // /v1/monitoring tells the story
    const monitoring = (await (
      await fetch(`${server.url}/v1/monitoring`, { headers: { 'x-client': 'ops' } })
    ).json()) as {
      traffic: { production_version: string; canary_version: string | null };
      canary_analysis: { decision: string };
      audit: { action: string }[];
    };
    expect(monitoring.traffic).toMatchObject({ production_version: '2', canary_version: null });
    expect(monitoring.canary_analysis.decision).toBe('rollback');
    expect(monitoring.audit.slice(0, 2).map((a) => a.action)).toEqual(['reject', 'promote']);
  });

  it('keeps predictions and actuals in PostgreSQL, idempotently, and refuses unknown ids', async () => {
    const [first] = await simulateMonth(month);
    expect(first).toBe('2');
    const p = await post('/v1/predict', { date: full.dates[month + 1], temperature: 20 }, 'x');
    const id = p.body.prediction_id as string;
    expect((await post('/v1/feedback', { prediction_id: id, actual: 300 }, 'shop')).body).toEqual({
      accepted: 1,
      corrected: 0,
      duplicates: 0,
    });
    expect((await post('/v1/feedback', { prediction_id: id, actual: 300 }, 'shop')).body).toEqual({
      accepted: 0,
      corrected: 0,
      duplicates: 1,
    });
    const unknown = await post(
      '/v1/feedback',
      { prediction_id: '8a4c2a8e-8b8f-4a55-9a8e-1c9a8a0f1b2c', actual: 3 },
      'shop',
    );
    expect(unknown.status).toBe(404);
    await server.live.sink.flush?.();
    const pool = createPool(stack.config.postgres.url);
    try {
      const arms = await pool.query<{ arm: string; n: string }>(
        'SELECT arm, count(*) AS n FROM predictions GROUP BY arm ORDER BY arm',
      );
      const byArm = Object.fromEntries(arms.rows.map((r) => [r.arm, Number(r.n)]));
      expect(byArm.canary).toBeGreaterThan(20);
      expect(byArm.production).toBeGreaterThan(100);
      const fb = await pool.query<{ n: string }>('SELECT count(*) AS n FROM feedback');
      expect(Number(fb.rows[0]!.n)).toBeGreaterThan(100);
    } finally {
      await pool.end();
    }
  });
});
