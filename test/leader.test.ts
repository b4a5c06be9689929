// One decision loop across API processes: a PostgreSQL advisory lock on a real PostgreSQL. Each
// leadership below has its own pool, as separate processes (or hosts) sharing the database do.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { projectRoot } from '../src/config';
import { createPool } from '../src/db/pool';
import { createLogger } from '../src/logger';
import { AdvisoryLockLeadership } from '../src/server/leader';
import { freePort } from '../src/stack/processes';
import { startTestStack, type TestStack } from './helpers/stack';

const log = createLogger('silent');

describe('leadership by a PostgreSQL advisory lock', () => {
  let stack: TestStack;
  const pools: pg.Pool[] = [];
  const leaderships: AdvisoryLockLeadership[] = [];

  const contender = (name = 'ice-cream-sales') => {
    const pool = createPool(stack.config.postgres.url, { max: 2 });
    pools.push(pool);
    const l = new AdvisoryLockLeadership(pool, name, log);
    leaderships.push(l);
    return l;
  };

  beforeAll(async () => {
    stack = await startTestStack(['mlflow', 'postgres']);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(leaderships.map((l) => l.stop()));
    await Promise.all(pools.map((p) => p.end()));
    await stack?.stop();
  });

  it('lets exactly one contender lead, and another take over when it stops or its connection dies', async () => {
    const all = [contender(), contender(), contender()];
    for (let round = 0; round < 3; round++) await Promise.all(all.map((l) => l.tick()));
    expect(all.filter((l) => l.isLeader())).toHaveLength(1);

    // the leader stops (a process shutting down): its lock goes with its connection
    const first = all.find((l) => l.isLeader())!;
    await first.stop();
    const rest = all.filter((l) => l !== first);
    expect(rest.filter((l) => l.isLeader())).toHaveLength(0);
    await Promise.all(rest.map((l) => l.tick()));
    expect(rest.filter((l) => l.isLeader())).toHaveLength(1);

    // the leader's session is killed (a crash, a network cut): PostgreSQL frees the lock
    const second = rest.find((l) => l.isLeader())!;
    const third = rest.find((l) => l !== second)!;
    const admin = createPool(stack.config.postgres.url, { max: 1 });
    try {
      const killed = await admin.query<{ n: string }>(
        `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`,
      );
      expect(Number(killed.rows[0]!.n)).toBe(1);
    } finally {
      await admin.end();
    }
    // PostgreSQL freed the lock with the session: the other contender gets it
    await expect
      .poll(
        async () => {
          await third.tick();
          return third.isLeader();
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe(true);
    await second.tick();
    expect([second.isLeader(), third.isLeader()]).toEqual([false, true]);
  });

  it('keeps one leader per registered model', async () => {
    const a = contender('model-a');
    const b = contender('model-b');
    await Promise.all([a.tick(), b.tick()]);
    expect([a.isLeader(), b.isLeader()]).toEqual([true, true]);
  });
});

/** What each answering process says in /v1/monitoring, by pid, over fresh connections. */
async function processes(base: string): Promise<Map<number, boolean>> {
  const seen = new Map<number, boolean>();
  for (let i = 0; i < 100 && seen.size < 2; i++) {
    try {
      const res = await fetch(`${base}/v1/monitoring`, {
        headers: { connection: 'close' },
        signal: AbortSignal.timeout(2000),
      });
      const body = (await res.json()) as { process: { pid: number; decides: boolean } };
      seen.set(body.process.pid, body.process.decides);
    } catch {
      // a process that just died: ask again
    }
  }
  return seen;
}

describe.skipIf(!fs.existsSync(path.join(projectRoot, 'dist/server/main.js')))(
  'API_WORKERS=2: one process decides (dist/server/main.js, npm run build)',
  () => {
    let stack: TestStack;

    beforeAll(async () => {
      stack = await startTestStack(['mlflow', 'postgres']);
    }, 120_000);

    afterAll(async () => {
      await stack?.stop();
    });

    async function cluster(store: 'memory' | 'postgres') {
      const port = await freePort();
      const child = spawn(process.execPath, [path.join(projectRoot, 'dist/server/main.js')], {
        env: {
          ...process.env,
          ...stack.config.childEnv,
          API_PORT: String(port),
          API_WORKERS: '2',
          METRICS_PORT: '0',
          MLFLOW_TRACKING_URI: stack.config.mlflow.trackingUri,
          DATABASE_URL: stack.config.postgres.url,
          LIVE_STORE: store,
          AUTH_DISABLED: 'true',
          ICECREAM_LOCAL_DIR: path.join(stack.dir, `cluster-${store}`),
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      child.stderr.on('data', (d: Buffer) => (log += d.toString()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const base = `http://127.0.0.1:${port}`;
      await expect
        .poll(
          () =>
            fetch(`${base}/healthz`).then(
              (r) => r.status,
              () => 0,
            ),
          { timeout: 60_000, interval: 250 },
        )
        .toBe(200);
      return {
        base,
        log: () => log,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      };
    }

    /** Polls until both processes answered and exactly one decides; returns the leader's pid. */
    async function oneLeader(base: string, log: () => string): Promise<number> {
      let seen = new Map<number, boolean>();
      await expect
        .poll(
          async () => {
            seen = await processes(base);
            return [seen.size, [...seen.values()].filter(Boolean).length];
          },
          { timeout: 20_000, interval: 250, message: log() },
        )
        .toEqual([2, 1]);
      return [...seen].find(([, decides]) => decides)![0];
    }

    it('without a database: the primary designates one worker, and another when it dies', async () => {
      const c = await cluster('memory');
      try {
        const leader = await oneLeader(c.base, c.log);
        process.kill(leader, 'SIGKILL');
        // the other worker is designated at once; the primary forks a replacement that follows
        const next = await oneLeader(c.base, c.log);
        expect(next).not.toBe(leader);
      } finally {
        await c.stop();
      }
    }, 120_000);

    it('with PostgreSQL: the advisory lock picks one process', async () => {
      const c = await cluster('postgres');
      try {
        await oneLeader(c.base, c.log);
      } finally {
        await c.stop();
      }
    }, 120_000);
  },
);
