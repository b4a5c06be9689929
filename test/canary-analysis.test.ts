import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  analyse,
  decide,
  defaultThresholds,
  judgeStep,
  PrometheusQueryError,
  queryValue,
  type Fetch,
  type Sample,
} from '../scripts/canary-analysis';
import { freePort } from '../src/stack/processes';
import { describeWithTools } from './helpers/deploy-tools';

const healthy: Sample = {
  canaryRequests: 600,
  canaryErrorRatio: 0,
  stableErrorRatio: 0.001,
  canaryP99: 0.004,
  stableP99: 0.0035,
  liveMaeRatio: 1.1,
};

describe('judgeStep', () => {
  it('passes a canary as good as stable', () => {
    const r = judgeStep(healthy);
    expect(r.verdict).toBe('pass');
    expect(r.reasons).toEqual([
      'error ratio 0.00% (limit 1.10%)',
      'p99 4.0ms (stable 3.5ms, SLO 250.0ms)',
      'live MAE 1.10x holdout (limit 1.5x)',
    ]);
  });

  it('fails a canary whose 5xx ratio exceeds both 1% and stable + 1 point', () => {
    const r = judgeStep({ ...healthy, canaryErrorRatio: 0.03, stableErrorRatio: 0.005 });
    expect(r.verdict).toBe('fail');
    expect(r.reasons).toEqual(['error ratio 3.00% (limit 1.50%)']);
  });

  it('tolerates the error ratio stable has too (a shared dependency failing)', () => {
    expect(judgeStep({ ...healthy, canaryErrorRatio: 0.05, stableErrorRatio: 0.045 }).verdict).toBe(
      'pass',
    );
  });

  it('fails a p99 above the SLO, or well above stable, but not a tiny absolute difference', () => {
    expect(judgeStep({ ...healthy, canaryP99: 0.3, stableP99: 0.29 }).verdict).toBe('fail');
    expect(judgeStep({ ...healthy, canaryP99: 0.05, stableP99: 0.01 }).verdict).toBe('fail');
    // 2 ms vs 1 ms is twice as slow but within noise
    expect(judgeStep({ ...healthy, canaryP99: 0.002, stableP99: 0.001 }).verdict).toBe('pass');
  });

  it('fails when live MAE is past 1.5x the holdout MAE, and ignores a live MAE not yet known', () => {
    expect(judgeStep({ ...healthy, liveMaeRatio: 1.8 }).reasons).toEqual([
      'live MAE 1.80x holdout (limit 1.5x)',
    ]);
    expect(judgeStep({ ...healthy, liveMaeRatio: undefined }).verdict).toBe('pass');
  });

  it('does not judge a step with too little canary traffic', () => {
    expect(judgeStep({ ...healthy, canaryRequests: 3, canaryErrorRatio: 1 })).toEqual({
      verdict: 'inconclusive',
      reasons: [`canary served 3 requests (< ${defaultThresholds.minRequests})`],
    });
  });
});

describe('decide', () => {
  it('promotes when the steps pass, tolerating failureLimit failures', () => {
    expect(decide(['pass', 'fail', 'pass'], 1).decision).toBe('promote');
    expect(decide(['pass', 'fail', 'fail'], 1)).toEqual({
      decision: 'rollback',
      reason: '2 of 3 steps failed',
    });
  });

  it('rolls back when most steps had too little traffic to judge', () => {
    expect(decide(['inconclusive', 'inconclusive', 'pass'], 1)).toEqual({
      decision: 'rollback',
      reason: 'only 1 of 3 steps had enough canary traffic to judge',
    });
  });
});

const answer =
  (body: unknown, status = 200): Fetch =>
  () =>
    Promise.resolve({ ok: status < 300, status, json: () => Promise.resolve(body) });

describe('queryValue', () => {
  it('reads a one-element vector, and an empty vector or NaN as no data', async () => {
    const vector = (v: string[]) => ({
      status: 'success',
      data: { resultType: 'vector', result: v.map((x) => ({ metric: {}, value: [1, x] })) },
    });
    expect(await queryValue('http://p', 'q', answer(vector(['0.25'])))).toBe(0.25);
    expect(await queryValue('http://p', 'q', answer(vector([])))).toBeUndefined();
    expect(await queryValue('http://p', 'q', answer(vector(['NaN'])))).toBeUndefined();
  });

  it("throws naming the query when Prometheus rejects it or can't be reached", async () => {
    const bad = answer({ status: 'error', errorType: 'bad_data', error: 'parse error' }, 400);
    await expect(queryValue('http://p', 'sum(', bad)).rejects.toThrow(
      'Prometheus query failed: parse error (query: sum()',
    );
    const down: Fetch = () => Promise.reject(new Error('connect ECONNREFUSED'));
    await expect(queryValue('http://p', 'up', down)).rejects.toBeInstanceOf(PrometheusQueryError);
  });
});

describe('analyse', () => {
  it('rolls back after four Prometheus errors in a row', async () => {
    const lines: object[] = [];
    const down: Fetch = () => Promise.reject(new Error('connect ECONNREFUSED'));
    const d = await analyse({
      prometheusUrl: 'http://p',
      windowSeconds: 600,
      intervalSeconds: 60,
      fetch: down,
      sleep: () => Promise.resolve(),
      log: (l) => lines.push(l),
    });
    expect(d).toEqual({ decision: 'rollback', reason: 'Prometheus failed 4 times in a row' });
    expect(lines).toHaveLength(4);
  });
});

// Against a real Prometheus (Debian's `prometheus` package, the same one that brings promtool):
// two fake API jobs export the contract histogram, each with a stable and a canary target; in
// job `good` the canary behaves like stable, in job `bad` it answers 10% 5xx, slowly.
describeWithTools('canary analysis against a real Prometheus', ['prometheus'], (bin) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canary-prom-'));
  const servers: http.Server[] = [];
  const traffic: NodeJS.Timeout[] = [];
  let prometheus: ChildProcess | undefined;
  let url = '';

  async function target(behaviour: { errors: number; seconds: number }): Promise<number> {
    const registry = new Registry();
    const h = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'request duration',
      labelNames: ['route', 'method', 'status', 'model_version'],
      buckets: [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
      ],
      registers: [registry],
    });
    let n = 0;
    traffic.push(
      setInterval(() => {
        for (let i = 0; i < 10; i += 1, n += 1) {
          const failed = n % 100 < behaviour.errors * 100;
          h.observe(
            {
              route: '/v1/predict',
              method: 'POST',
              status: failed ? '500' : '200',
              model_version: '3',
            },
            behaviour.seconds,
          );
        }
        h.observe({ route: '/healthz', method: 'GET', status: '500', model_version: '3' }, 0.0001);
      }, 100),
    );
    const port = await freePort();
    const server = http.createServer((_req, res) => {
      void registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    return port;
  }

  beforeAll(async () => {
    const jobs = {
      good: {
        stable: await target({ errors: 0, seconds: 0.004 }),
        canary: await target({ errors: 0, seconds: 0.004 }),
      },
      bad: {
        stable: await target({ errors: 0, seconds: 0.004 }),
        canary: await target({ errors: 0.1, seconds: 0.4 }),
      },
    };
    const scrape = Object.entries(jobs).map(([job, t]) => ({
      job_name: job,
      scrape_interval: '1s',
      static_configs: Object.entries(t).map(([track, port]) => ({
        targets: [`127.0.0.1:${port}`],
        labels: { track },
      })),
    }));
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), JSON.stringify({ scrape_configs: scrape }));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      bin.prometheus!,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'prometheus.log'), 'w')] },
    );
    for (let i = 0; ; i += 1) {
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (i > 100) throw new Error(fs.readFileSync(path.join(dir, 'prometheus.log'), 'utf8'));
      await new Promise((r) => setTimeout(r, 200));
    }
    // as the release workflow does after rolling out the canary: wait until every target has
    // a few scrapes, so that a step's rate() has samples to work on
    for (let i = 0; ; i += 1) {
      const scrapes = await queryValue(url, 'min(count_over_time(up[10s]))', fetch);
      if ((scrapes ?? 0) >= 4) break;
      if (i > 100) throw new Error('Prometheus does not scrape the targets');
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 60_000);

  afterAll(async () => {
    traffic.forEach(clearInterval);
    prometheus?.kill('SIGTERM');
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (prometheus && prometheus.exitCode === null)
      await new Promise((r) => prometheus!.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('promotes a canary as good as stable and rolls back one that errs and is slow', async () => {
    const logs: { good: object[]; bad: object[] } = { good: [], bad: [] };
    const run = (job: 'good' | 'bad') =>
      analyse({
        prometheusUrl: url,
        windowSeconds: 9,
        intervalSeconds: 3,
        job,
        failureLimit: 0,
        log: (l) => logs[job].push(l),
      });
    const [good, bad] = await Promise.all([run('good'), run('bad')]);
    expect(good.decision, JSON.stringify(logs.good)).toBe('promote');
    expect(bad.decision, JSON.stringify(logs.bad)).toBe('rollback');
    const firstJudged = logs.bad.find((l) => (l as { verdict?: string }).verdict === 'fail') as {
      reasons: string[];
    };
    expect(firstJudged.reasons.join(' ')).toMatch(/error ratio \d+\.\d+% \(limit 1\.00%\)/);
    expect(firstJudged.reasons.join(' ')).toMatch(/p99 \d+\.\dms/);
  }, 60_000);
});
