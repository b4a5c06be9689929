import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFeedback, liveSales } from '../src/db/feedback';
import { appendAudit, recentAudit, recentSnapshots, saveSnapshot } from '../src/db/journal';
import { migrate, migrations, SchemaTooNewError } from '../src/db/migrations';
import { createPool, isDatabaseUnavailable, redactUrl } from '../src/db/pool';
import { FeedbackWriter, PredictionLog } from '../src/db/prediction-log';
import { findPrediction, outcomesSince, type PredictionRecord } from '../src/db/predictions';
import { sleep } from '../src/stack/processes';
import { stackDown, stackUp } from '../src/stack/stack';
import { startTestStack, type TestStack } from './helpers/stack';

let stack: TestStack;
const pools: pg.Pool[] = [];

/** A pool on its own schema, so each test starts from an empty database. */
async function poolOn(schema: string): Promise<pg.Pool> {
  const admin = createPool(stack.config.postgres.url);
  await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await admin.end();
  const url = new URL(stack.config.postgres.url);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const pool = createPool(url.toString(), { connectionTimeoutMillis: 1000 });
  pools.push(pool);
  return pool;
}

beforeAll(async () => {
  stack = await startTestStack(['postgres']);
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  await stack?.stop();
});

let n = 0;
function prediction(overrides: Partial<PredictionRecord> = {}): PredictionRecord {
  n++;
  return {
    id: randomUUID(),
    time: new Date(),
    client: 'tester',
    route: '/v1/predict',
    modelName: 'ice-cream-sales',
    modelVersion: '3',
    modelDigest: 'sha256:abc',
    arm: 'production',
    date: '2026-07-01',
    horizon: 0,
    inputs: { temperature: 20 + (n % 10), note: 'a "quoted" value, with {braces}' },
    prediction: 100 + n,
    lower: n % 2 ? null : 90,
    upper: n % 2 ? null : 110,
    ...overrides,
  };
}

async function count(pool: pg.Pool, table: string): Promise<number> {
  return Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
}

describe('migrations', () => {
  it('two migrators starting together apply the schema once', async () => {
    const [a, b] = [await poolOn('mig_a'), await poolOn('mig_a')];
    const results = await Promise.all([migrate(a), migrate(b)]);
    const applied = results.flatMap((r) => r.applied);
    expect(applied).toEqual(migrations.map((m) => m.version));
    const latest = migrations.at(-1)!.version;
    expect(results.map((r) => r.version)).toEqual([latest, latest]);
    expect(await count(a, 'schema_migrations')).toBe(migrations.length);
    expect(await migrate(a)).toEqual({ applied: [], version: latest });
  });

  it('refuses a database migrated by a newer release', async () => {
    const pool = await poolOn('mig_newer');
    await migrate(pool);
    await pool.query("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')");
    await expect(migrate(pool)).rejects.toBeInstanceOf(SchemaTooNewError);
  });

  it('rolls a failing migration back completely', async () => {
    const pool = await poolOn('mig_fail');
    const broken = [
      ...migrations,
      { version: 99, name: 'broken', sql: 'CREATE TABLE x (); SELECT nope' },
    ];
    await expect(migrate(pool, broken)).rejects.toThrow(/nope/);
    const tables = await pool.query(
      "SELECT 1 FROM information_schema.tables WHERE table_schema = 'mig_fail'",
    );
    expect(tables.rowCount).toBe(0);
  });
});

describe('prediction log against PostgreSQL', () => {
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = await poolOn('plog');
    await migrate(pool);
  });

  it('writes rows in batches with their inputs, intervals and arms intact', async () => {
    const log = new PredictionLog(pool, { batchSize: 500, flushIntervalMs: 50 });
    const rows = Array.from({ length: 1200 }, () => prediction());
    rows[0] = { ...rows[0]!, arm: 'canary', horizon: 2 };
    for (const r of rows) expect(log.record(r)).toBe(true);
    expect(await log.flush()).toEqual({ unwritten: 0 });
    expect(await count(pool, 'predictions')).toBe(1200);
    const first = (
      await pool.query(
        "SELECT arm, horizon, inputs, lower, upper, to_char(date, 'YYYY-MM-DD') AS date FROM predictions WHERE id = $1",
        [rows[0].id],
      )
    ).rows[0] as Record<string, unknown>;
    expect(first).toEqual({
      arm: 'canary',
      horizon: 2,
      inputs: rows[0].inputs,
      lower: rows[0].lower,
      upper: rows[0].upper,
      date: '2026-07-01',
    });
    expect(await findPrediction(pool, rows[0].id)).toMatchObject({
      arm: 'canary',
      date: '2026-07-01',
    });
    await log.close();
  });

  it('close() writes everything recorded before it, even a partial batch', async () => {
    const before = await count(pool, 'predictions');
    const log = new PredictionLog(pool, { batchSize: 10_000, flushIntervalMs: 60_000 });
    for (let i = 0; i < 37; i++) log.record(prediction());
    const last = prediction();
    log.record(last);
    expect(log.pending(last.id)).toBe(last);
    expect(await findPrediction(pool, last.id)).toBeUndefined();
    expect(await log.close()).toEqual({ unwritten: 0 });
    expect(log.pending(last.id)).toBeUndefined();
    expect(await findPrediction(pool, last.id)).toMatchObject({ id: last.id });
    expect(await count(pool, 'predictions')).toBe(before + 38);
    expect(log.dropped).toBe(0);
  });

  it('drops only a row the table refuses, and writes the rest of its batch', async () => {
    const before = await count(pool, 'predictions');
    const errors: unknown[] = [];
    const log = new PredictionLog(pool, { onWriteError: (e) => errors.push(e) });
    log.record(prediction());
    log.record(prediction({ horizon: -1 }));
    log.record(prediction());
    await log.close();
    expect(await count(pool, 'predictions')).toBe(before + 2);
    expect(log.dropped).toBe(1);
    expect(String(errors[0])).toMatch(/check constraint/);
  });

  it('loses nothing while PostgreSQL is stopped for 10 s under a steady stream of records', async () => {
    const before = await count(pool, 'predictions');
    const writeErrors: unknown[] = [];
    const log = new PredictionLog(pool, {
      flushIntervalMs: 100,
      maxRetryMs: 1000,
      onWriteError: (e) => writeErrors.push(e),
    });
    let recorded = 0;
    let stop = false;
    const producer = (async () => {
      while (!stop) {
        for (let i = 0; i < 5; i++) if (log.record(prediction())) recorded++;
        await sleep(20);
      }
    })();
    await sleep(500);
    await stackDown(stack.config, ['postgres']);
    await sleep(10_000);
    const bufferedDuringOutage = log.buffered;
    await stackUp(stack.config, () => undefined, ['postgres']);
    await sleep(500);
    stop = true;
    await producer;
    expect(await log.close(30_000)).toEqual({ unwritten: 0 });
    expect(log.dropped).toBe(0);
    expect(bufferedDuringOutage).toBeGreaterThan(100);
    expect(writeErrors.length).toBeGreaterThan(0);
    expect(writeErrors.every(isDatabaseUnavailable)).toBe(true);
    expect(await count(pool, 'predictions')).toBe(before + recorded);
  }, 60_000);
});

describe('feedback, live sales and outcomes', () => {
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = await poolOn('fb');
    await migrate(pool);
  });

  it('stores an actual once, treats the same value as a duplicate and a new value as a correction', async () => {
    const p = prediction({ date: '2026-07-02' });
    const log = new PredictionLog(pool);
    log.record(p);
    await log.close();
    const input = { predictionId: p.id, date: '2026-07-02', actual: 120 };
    expect(await recordFeedback(pool, input)).toBe('created');
    expect(await recordFeedback(pool, input)).toBe('duplicate');
    expect(await recordFeedback(pool, { ...input, actual: 125 })).toBe('corrected');
    const row = (
      await pool.query('SELECT actual, corrections FROM feedback WHERE prediction_id = $1', [p.id])
    ).rows[0] as Record<string, unknown>;
    expect(row).toEqual({ actual: 125, corrections: 1 });
    expect(await liveSales(pool, '2026-07-02')).toEqual([
      { date: '2026-07-02', sales: 125, source: 'feedback' },
    ]);
  });

  it('keeps one by-date actual per date next to by-id ones', async () => {
    expect(await recordFeedback(pool, { date: '2026-07-03', actual: 80 })).toBe('created');
    expect(await recordFeedback(pool, { date: '2026-07-03', actual: 80 })).toBe('duplicate');
    expect(await recordFeedback(pool, { date: '2026-07-03', actual: 82 })).toBe('corrected');
    expect(
      await recordFeedback(pool, { predictionId: randomUUID(), date: '2026-07-03', actual: 81 }),
    ).toBe('created');
    expect((await pool.query("SELECT 1 FROM feedback WHERE date = '2026-07-03'")).rowCount).toBe(2);
  });

  it('joins predictions to their actuals by id, else by date, shadows through what they shadow', async () => {
    const since = new Date();
    await sleep(5);
    const served = prediction({ date: '2026-08-01', prediction: 100 });
    const shadow = prediction({
      date: '2026-08-01',
      prediction: 90,
      arm: 'shadow',
      shadowOf: served.id,
      modelVersion: '4',
    });
    const byDate = prediction({ date: '2026-08-02', prediction: 50 });
    const noActual = prediction({ date: '2026-08-03' });
    const log = new PredictionLog(pool);
    for (const r of [served, shadow, byDate, noActual]) log.record(r);
    await log.close();
    await recordFeedback(pool, { predictionId: served.id, date: '2026-08-01', actual: 110 });
    await recordFeedback(pool, { date: '2026-08-02', actual: 55 });
    const outcomes = await outcomesSince(pool, since);
    expect(outcomes.map((o) => [o.arm, o.modelVersion, o.prediction, o.actual]).sort()).toEqual(
      [
        ['production', '3', 100, 110],
        ['production', '3', 50, 55],
        ['shadow', '4', 90, 110],
      ].sort(),
    );
  });

  it('buffers feedback while PostgreSQL is down (202) and writes it when it is back', async () => {
    const writer = new FeedbackWriter(pool, { minRetryMs: 100, maxRetryMs: 500 });
    expect(await writer.submit({ date: '2026-09-01', actual: 10 })).toEqual({
      status: 'stored',
      result: 'created',
    });
    await stackDown(stack.config, ['postgres']);
    try {
      expect(await writer.submit({ date: '2026-09-02', actual: 20 })).toEqual({
        status: 'accepted',
      });
      expect(await writer.submit({ date: '2026-09-01', actual: 11 })).toEqual({
        status: 'accepted',
      });
      expect(writer.buffered).toBe(2);
    } finally {
      await stackUp(stack.config, () => undefined, ['postgres']);
    }
    expect(await writer.close(20_000)).toEqual({ unwritten: 0 });
    expect(await liveSales(pool, '2026-09-01')).toEqual([
      { date: '2026-09-01', sales: 11, source: 'feedback' },
      { date: '2026-09-02', sales: 20, source: 'feedback' },
    ]);
  }, 60_000);

  it('keeps monitoring snapshots and the audit trail, newest first', async () => {
    await saveSnapshot(pool, 'drift', { psi: 0.01 });
    await saveSnapshot(pool, 'drift', { psi: 0.3 });
    expect((await recentSnapshots(pool, 'drift', 1)).map((s) => s.payload)).toEqual([{ psi: 0.3 }]);
    await appendAudit(pool, 'admin-key', 'traffic', { canary: 0.1 });
    expect((await recentAudit(pool, 1))[0]).toMatchObject({
      actor: 'admin-key',
      action: 'traffic',
      payload: { canary: 0.1 },
    });
  });

  it('never shows the password in a redacted URL', () => {
    expect(redactUrl(stack.config.postgres.url)).not.toContain('icecream-local-only');
    expect(redactUrl(stack.config.postgres.url)).toContain('127.0.0.1');
  });
});
