import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../src/config';
import { createLogger } from '../src/logger';
import { fitForecaster, serializeForecaster, type Series } from '../src/ml';
import { syntheticSeries } from '../src/ml/testing';
import type { MlflowClient } from '../src/mlflow/client';
import { mlflowClientFromConfig } from '../src/mlflow/from-config';
import { writeBundle } from '../src/model-store/bundle';
import { modelStoreFromConfig } from '../src/model-store/from-config';
import { digestTag, publishBundle, type PublishResult } from '../src/model-store/publish';
import type { ModelStore } from '../src/model-store/store';
import { FileKeyStore, gateFromConfig } from '../src/server/auth';
import { openGate } from '../src/server/routes/types';
import { startServer, type RunningServer } from '../src/server/server';
import { freePort } from '../src/stack/processes';
import { stackDown, stackUp } from '../src/stack/stack';
import { metricNamesIn } from './helpers/metrics-contract';
import { startTestStack, type TestStack } from './helpers/stack';

const run = promisify(execFile);

// The model store and the prediction server against a real MLflow server (pinned, on a free
// loopback port): publishing, digest verification, a tampered bundle, MLflow going away.
describe('serving from the model store (real MLflow)', () => {
  let stack: TestStack;
  let mlflow: MlflowClient;
  let store: ModelStore;
  let server: RunningServer;
  let work: string;
  const series = syntheticSeries(72);
  const name = 'ice-cream-sales';

  /** Trains a small model and publishes it as a new version (a run of its own). */
  async function publish(
    seed: number,
    history: Series = series,
  ): Promise<PublishResult & { runId: string; dir: string }> {
    const { experimentId } = await mlflow.ensureExperiment('serving-test');
    const run = await mlflow.createRun({ experimentId, runName: `seed-${seed}` });
    const runId = run.info.run_id;
    const dir = path.join(work, `bundle-${seed}`);
    const forecaster = fitForecaster(history, {
      family: 'ridge',
      params: { alpha: seed },
      seed,
      coverage: 0.9,
    });
    writeBundle(dir, serializeForecaster(forecaster), history, { runId });
    const published = await publishBundle(mlflow, {
      registeredModel: name,
      runId,
      artifactUri: run.info.artifact_uri,
      bundleDir: dir,
    });
    await mlflow.endRun(runId, 'FINISHED');
    return { ...published, runId, dir };
  }

  const get = async <T>(route: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${server.url}${route}`);
    return { status: res.status, body: (await res.json()) as T };
  };
  const predict = (body: unknown, route = '/v1/predict') =>
    fetch(`${server.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const metric = async (pattern: RegExp): Promise<number | undefined> => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const m = pattern.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  async function until(what: string, check: () => Promise<boolean>, seconds = 30): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  beforeAll(async () => {
    stack = await startTestStack(['mlflow', 'postgres'], { MODEL_REFRESH_SECONDS: '0.5' });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-serving-'));
    mlflow = mlflowClientFromConfig(stack.config);
    store = modelStoreFromConfig(stack.config, mlflow);
    const v1 = await publish(1);
    await mlflow.setAlias(name, 'production', v1.version);
    server = await startServer(stack.config, createLogger('silent'), { gate: () => openGate });
  });

  afterAll(async () => {
    await server?.close();
    await stack?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('records the digest on the version and fetches by alias into a cache keyed by it', async () => {
    const mv = await mlflow.getModelVersion(name, '1');
    const digest = mv.tags?.find((t) => t.key === digestTag)?.value;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const model = await store.load({ alias: 'production' });
    expect(model?.ref).toMatchObject({ version: '1', digest });
    expect(model?.digest).toBe(digest);
    expect(model?.dir).toBe(path.join(store.cacheDir, digest!));
    expect((await store.load({ version: '1' }))?.dir).toBe(model?.dir);
  });

  it('serves the production model and describes it with its digest and horizon', async () => {
    const { status, body } = await get<{
      version: string;
      digest: string;
      horizon: { periods: number };
    }>('/v1/model');
    expect(status).toBe(200);
    expect(body.version).toBe('1');
    expect(body.digest).toBe((await store.resolve({ alias: 'production' }))?.digest);
    expect(body.horizon.periods).toBe(24);
    const res = await predict({ date: '2016-01-01', temperature: 9 });
    expect(res.status).toBe(200);
    expect(
      await metric(
        /icecream_model_info\{alias="production",name="ice-cream-sales",version="1",digest="[0-9a-f]{64}"\} (\d+)/,
      ),
    ).toBe(1);
  });

  it(
    "answers /invocations payloads serialised by MLflow's own Python code like /v1/predict",
    { timeout: 60_000 },
    async () => {
      const rows = [
        { date: '2016-01-01', temperature: 9 },
        { date: '2016-02-01', temperature: 11.5 },
      ];
      const { stdout } = await run(path.join(projectRoot, '.tools/venv/bin/python'), [
        path.join(projectRoot, 'test/python/mlflow_payloads.py'),
        ...rows.flatMap((r) => [r.date, String(r.temperature)]),
      ]);
      const payloads = JSON.parse(stdout) as { name: string; body: string }[];
      expect(payloads.length).toBeGreaterThanOrEqual(8);
      const expected = (
        (await (await predict({ rows })).json()) as { predictions: { prediction: number }[] }
      ).predictions.map((p) => p.prediction);
      for (const p of payloads) {
        const res = await predict(p.body, '/invocations');
        expect(res.status, `${p.name}: ${p.body}`).toBe(200);
        expect(await res.json(), p.name).toEqual({ predictions: expected });
      }
    },
  );

  it('refuses a bundle changed on the server after registration and keeps serving the current one', async () => {
    const v2 = await publish(2);
    // rewrite v2's files in MLflow's artifact store: a self-consistent bundle with other history
    const changed = { ...series, target: series.target.map((y) => y + 1) };
    const forged = path.join(work, 'forged');
    writeBundle(forged, fs.readFileSync(path.join(v2.dir, 'forecaster.json'), 'utf8'), changed);
    const onServer = findArtifactDir(
      path.join(stack.config.localDir, 'mlflow', 'artifacts'),
      v2.runId,
    );
    for (const f of fs.readdirSync(forged))
      fs.copyFileSync(path.join(forged, f), path.join(onServer, f));

    const before =
      (await metric(
        /icecream_model_load_failures_total\{alias="production",reason="rejected"\} (\d+)/,
      )) ?? 0;
    await mlflow.setAlias(name, 'production', v2.version);
    await until(
      'the forged bundle is refused',
      async () =>
        ((await metric(
          /icecream_model_load_failures_total\{alias="production",reason="rejected"\} (\d+)/,
        )) ?? 0) > before,
    );
    expect(server.models.lastError).toContain('changed after registration');
    expect((await get<{ version: string }>('/v1/model')).body.version).toBe('1');
    expect((await predict({ date: '2016-01-01', temperature: 9 })).status).toBe(200);
    await expect(store.load({ version: v2.version })).rejects.toThrow(/digest/);
  });

  it('keeps serving while MLflow is down, says the registry is unreachable, and picks up an alias move when it is back', async () => {
    await stackDown(stack.config, ['mlflow']);
    try {
      await until(
        'the registry is reported unreachable',
        async () => (await metric(/^icecream_registry_up (\d+)$/m)) === 0,
      );
      for (let i = 0; i < 20; i++)
        expect((await predict({ date: '2016-01-01', temperature: 9 })).status).toBe(200);
      expect((await get<{ status: string }>('/readyz')).body.status).toBe('ready');
    } finally {
      await stackUp(stack.config, () => undefined, ['mlflow']);
    }
    const v3 = await publish(3);
    await mlflow.setAlias(name, 'production', v3.version);
    await until(
      'the new production version is served',
      async () => (await get<{ version: string }>('/v1/model')).body.version === v3.version,
    );
    expect(await metric(/^icecream_registry_up (\d+)$/m)).toBe(1);
    expect(
      await metric(
        /icecream_model_info\{alias="production",name="ice-cream-sales",version="1",digest="[0-9a-f]{64}"\} (\d+)/,
      ),
    ).toBeUndefined();
  }, 180_000);

  it('runs API_WORKERS=2 processes on one port, each serving, and drains a request in flight on SIGTERM', async () => {
    const port = await freePort();
    // auth is on in dist/server/main.js: both processes read the key file
    const keys = new FileKeyStore(path.join(work, 'cluster', 'api-keys.json'));
    const { key } = await keys.create({ name: 'cluster-test', scopes: ['predict'] });
    await keys.close();
    const child = spawn(process.execPath, [path.join(projectRoot, 'dist/server/main.js')], {
      env: {
        ...process.env,
        ...stack.config.childEnv,
        API_PORT: String(port),
        API_WORKERS: '2',
        METRICS_PORT: String(await freePort()),
        MLFLOW_TRACKING_URI: stack.config.mlflow.trackingUri,
        ICECREAM_LOCAL_DIR: path.join(work, 'cluster'),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const base = `http://127.0.0.1:${port}`;
    try {
      await until(
        'both processes are ready',
        async () => (await fetch(`${base}/readyz`)).status === 200,
        60,
      );
      // a new connection per request: the primary hands connections to the workers in turn
      const pids = new Set<number>();
      for (let i = 0; i < 200 && pids.size < 2; i++) {
        const res = await fetch(`${base}/healthz`, { headers: { connection: 'close' } });
        pids.add(((await res.json()) as { pid: number }).pid);
      }
      expect(pids.size, log).toBe(2);
      for (const pid of pids) expect(pid).not.toBe(child.pid);

      // a request whose body is still arriving when SIGTERM comes is answered, then the process exits
      const body = JSON.stringify({ date: '2016-01-01', temperature: 9 });
      const answered = new Promise<number>((resolve, reject) => {
        const req = http.request(`${base}/v1/predict`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${key}`,
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => {
          child.kill('SIGTERM');
          setTimeout(() => req.end(body.slice(10)), 500);
        }, 300);
      });
      expect(await answered).toBe(200);
      expect(await exited, log).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000);

  it(
    'holds 300 req/s for 30 s with auth, metrics and the PostgreSQL prediction log on: no errors, memory flat',
    { timeout: 120_000 },
    async () => {
      const config = {
        ...stack.config,
        api: { ...stack.config.api, port: await freePort(), metricsPort: 0 },
      };
      const keys = new FileKeyStore(config.auth.keysFile);
      const { key } = await keys.create({ name: 'soak', scopes: ['predict', 'metrics'] });
      await keys.close();
      const soaked = await startServer(config, createLogger('silent'), {
        gate: gateFromConfig(config.auth, createLogger('silent')),
      });
      try {
        // heap after a full collection, once the server is warm (10 s in) and at the end
        v8.setFlagsFromString('--expose-gc');
        const gc = vm.runInNewContext('gc') as () => void;
        const heapAfterGc = (): number => {
          gc();
          return process.memoryUsage().heapUsed;
        };
        let warm = 0;
        const sampler = setTimeout(() => (warm = heapAfterGc()), 10_000);
        const result = await autocannon({
          url: `${soaked.url}/v1/predict`,
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ date: '2016-01-01', temperature: 9 }),
          connections: 8,
          overallRate: 300,
          duration: 30,
        });
        clearTimeout(sampler);
        expect(result.errors + result.timeouts + result.non2xx).toBe(0);
        expect(result.requests.total).toBeGreaterThan(300 * 30 * 0.9);
        // flat: 6,000 more requests after the warm sample leave the live heap within 10 MB
        expect(warm).toBeGreaterThan(0);
        expect((heapAfterGc() - warm) / 1e6).toBeLessThan(10);
        const text = await (
          await fetch(`${soaked.url}/metrics`, { headers: { authorization: `Bearer ${key}` } })
        ).text();
        expect(Number(/^icecream_prediction_log_dropped_total (\d+)$/m.exec(text)?.[1] ?? 0)).toBe(
          0,
        );
        expect(
          Number(
            /^icecream_predictions_total\{model_version="\d+",variant="production"\} (\d+)$/m.exec(
              text,
            )?.[1],
          ),
        ).toBeGreaterThanOrEqual(result.requests.total);
      } finally {
        await soaked.close();
      }
    },
  );

  it('exports every metric the Grafana dashboard and the Prometheus rules query (a live scrape)', async () => {
    const exported = new Set(
      [
        ...(await (await fetch(`${server.url}/metrics`)).text()).matchAll(/^# TYPE (\S+) (\w+)$/gm),
      ].flatMap(([, name, type]) =>
        type === 'histogram' ? [`${name!}_bucket`, `${name!}_count`, `${name!}_sum`] : [name!],
      ),
    );
    const rules = parseYaml(
      fs.readFileSync(path.join(projectRoot, 'deploy/prometheus/rules/recording.yml'), 'utf8'),
    ) as {
      groups: { rules: { record: string; expr: string }[] }[];
    };
    const recorded = new Map(
      rules.groups.flatMap((g) => g.rules.map((r) => [r.record, r.expr] as const)),
    );
    const dashboard = fs.readFileSync(
      path.join(projectRoot, 'deploy/grafana/dashboards/icecream.json'),
      'utf8',
    );
    const exprs = [...dashboard.matchAll(/"expr": "((?:[^"\\]|\\.)*)"/g)].map(
      (m) => JSON.parse(`"${m[1]!}"`) as string,
    );
    expect(exprs.length).toBeGreaterThan(10);
    // expand recording rules down to the series they read
    const base = new Set<string>();
    const visit = (expr: string): void => {
      for (const name of metricNamesIn(expr)) {
        const rule = recorded.get(name);
        if (rule) visit(rule);
        else base.add(name);
      }
    };
    exprs.forEach(visit);
    // the worker's (temporal_*) and Prometheus's own (up) series come from elsewhere
    const ours = [...base].filter((n) => !n.startsWith('temporal_') && n !== 'up');
    expect(ours.length).toBeGreaterThan(5);
    expect(ours.filter((n) => !exported.has(n))).toEqual([]);
  });
});

/** The `model/` folder of a run in the MLflow server's artifact store. */
function findArtifactDir(root: string, runId: string): string {
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const full = path.join(dir, e.name);
      if (e.name === 'model' && full.includes(runId)) return full;
      stack.push(full);
    }
  }
  throw new Error(`no model artifacts for run ${runId} under ${root}`);
}
