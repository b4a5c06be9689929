import { describe, expect, it } from 'vitest';
import { BatchWriter } from './batch-writer';

/** An in-memory sink that can be switched off like a database outage. */
function sink() {
  const s = {
    rows: [] as number[],
    batches: [] as number[],
    down: false,
    attempts: 0,
    write: (rows: number[]): Promise<void> => {
      s.attempts++;
      if (s.down)
        return Promise.reject(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }));
      s.rows.push(...rows);
      s.batches.push(rows.length);
      return Promise.resolve();
    },
  };
  return s;
}

describe('BatchWriter', () => {
  it('writes full batches of batchSize and the rest on flush, in order', async () => {
    const db = sink();
    const w = new BatchWriter({ write: db.write, batchSize: 100, flushIntervalMs: 10_000 });
    for (let i = 0; i < 250; i++) expect(w.record(i)).toBe(true);
    expect(await w.flush()).toEqual({ unwritten: 0 });
    expect(db.rows).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(db.batches.every((n) => n <= 100)).toBe(true);
    expect(w.written).toBe(250);
    await w.close();
  });

  it('record() returns before anything is written (the caller never waits for the sink)', async () => {
    const db = sink();
    const w = new BatchWriter({ write: db.write, flushIntervalMs: 10_000 });
    w.record(1);
    expect(db.rows).toEqual([]);
    expect(w.buffered).toBe(1);
    await w.close();
    expect(db.rows).toEqual([1]);
  });

  it('finds a row that is recorded but not written yet, and no longer once written', async () => {
    const db = sink();
    const w = new BatchWriter({ write: db.write, flushIntervalMs: 10_000 });
    w.record(41);
    w.record(42);
    expect(w.findPending((r) => r === 42)).toBe(42);
    await w.flush();
    expect(w.findPending((r) => r === 42)).toBeUndefined();
    await w.close();
  });

  it('writes a partial batch on its own timer', async () => {
    const db = sink();
    const w = new BatchWriter({ write: db.write, flushIntervalMs: 20 });
    w.record(7);
    while (db.rows.length === 0) await new Promise((r) => setTimeout(r, 10));
    expect(db.rows).toEqual([7]);
    await w.close();
  });

  it('keeps rows through an outage, retries with backoff and writes them all when the sink is back', async () => {
    const db = sink();
    const errors: number[] = [];
    const w = new BatchWriter({
      write: db.write,
      batchSize: 10,
      flushIntervalMs: 5,
      minRetryMs: 5,
      maxRetryMs: 20,
      onWriteError: (_e, attempt) => errors.push(attempt),
    });
    db.down = true;
    for (let i = 0; i < 95; i++) w.record(i);
    while (errors.length < 3) await new Promise((r) => setTimeout(r, 5));
    expect(db.rows).toEqual([]);
    expect(w.buffered).toBe(95);
    expect(errors.slice(0, 3)).toEqual([1, 2, 3]);
    db.down = false;
    expect(await w.flush()).toEqual({ unwritten: 0 });
    expect(db.rows).toEqual(Array.from({ length: 95 }, (_, i) => i));
    await w.close();
  });

  it('drops and counts rows beyond maxBuffered while the sink is down', async () => {
    const db = sink();
    const dropped: number[] = [];
    const w = new BatchWriter({
      write: db.write,
      maxBuffered: 50,
      batchSize: 10,
      minRetryMs: 5,
      onDropped: (n) => dropped.push(n),
    });
    db.down = true;
    let accepted = 0;
    for (let i = 0; i < 80; i++) if (w.record(i)) accepted++;
    expect(accepted).toBe(50);
    expect(w.dropped).toBe(30);
    expect(dropped.reduce((a, b) => a + b, 0)).toBe(30);
    db.down = false;
    await w.close();
    expect(db.rows).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('close() writes everything accepted, then refuses new rows', async () => {
    const db = sink();
    const w = new BatchWriter({ write: db.write, batchSize: 1000, flushIntervalMs: 10_000 });
    for (let i = 0; i < 10; i++) w.record(i);
    expect(await w.close()).toEqual({ unwritten: 0 });
    expect(db.rows).toHaveLength(10);
    expect(w.record(99)).toBe(false);
    expect(w.dropped).toBe(1);
  });

  it('close() gives up after its timeout when the sink stays down and reports what is unwritten', async () => {
    const db = sink();
    const w = new BatchWriter({ write: db.write, minRetryMs: 5, maxRetryMs: 5 });
    db.down = true;
    w.record(1);
    w.record(2);
    expect(await w.close(50)).toEqual({ unwritten: 2 });
    expect(w.dropped).toBe(2);
    expect(db.attempts).toBeGreaterThan(1);
  });
});
