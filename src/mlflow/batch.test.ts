import { describe, expect, it } from 'vitest';
import { chunkBatch, type MetricInput } from './batch';
import { MlflowInvalidParameterError } from './errors';
import { MlflowLimits } from './validation';

const now = 1_700_000_000_000;
const metrics = (n: number): MetricInput[] =>
  Array.from({ length: n }, (_, i) => ({ key: `m${i}`, value: i }));
const record = (n: number, prefix: string): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, `v${i}`]));
const sizes = (chunks: ReturnType<typeof chunkBatch>) =>
  chunks.map((c) => [c.metrics.length, c.params.length, c.tags.length]);

describe('chunkBatch', () => {
  it('sends exactly 1000 metrics in one request and 1001 in two', () => {
    expect(sizes(chunkBatch({ metrics: metrics(1000) }, now))).toEqual([[1000, 0, 0]]);
    expect(sizes(chunkBatch({ metrics: metrics(1001) }, now))).toEqual([
      [1000, 0, 0],
      [1, 0, 0],
    ]);
  });

  it('sends exactly 100 params in one request and 101 in two', () => {
    expect(sizes(chunkBatch({ params: record(100, 'p') }, now))).toEqual([[0, 100, 0]]);
    expect(sizes(chunkBatch({ params: record(101, 'p') }, now))).toEqual([
      [0, 100, 0],
      [0, 1, 0],
    ]);
  });

  it('splits tags at 100', () => {
    expect(sizes(chunkBatch({ tags: record(250, 't') }, now))).toEqual([
      [0, 0, 100],
      [0, 0, 100],
      [0, 0, 50],
    ]);
  });

  it('keeps every request at or under 1000 items in total', () => {
    const chunks = chunkBatch(
      { metrics: metrics(1500), params: record(150, 'p'), tags: record(120, 't') },
      now,
    );
    expect(sizes(chunks)).toEqual([
      [800, 100, 100],
      [700, 50, 20],
    ]);
    for (const c of chunks) {
      expect(c.metrics.length + c.params.length + c.tags.length).toBeLessThanOrEqual(
        MlflowLimits.maxEntitiesPerBatch,
      );
      expect(c.params.length).toBeLessThanOrEqual(100);
      expect(c.tags.length).toBeLessThanOrEqual(100);
    }
    expect(chunks.flatMap((c) => c.metrics).map((m) => m.key)).toEqual(
      metrics(1500).map((m) => m.key),
    );
    expect(chunks.flatMap((c) => c.params)).toHaveLength(150);
    expect(chunks.flatMap((c) => c.tags)).toHaveLength(120);
  });

  it('keeps every request under the byte limit', () => {
    const bigParams = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`p${i}`, 'x'.repeat(6000)]),
    );
    const bigTags = Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [`t${i}`, 'y'.repeat(5000)]),
    );
    const chunks = chunkBatch({ params: bigParams, tags: bigTags }, now);
    expect(chunks.length).toBe(2);
    for (const c of chunks)
      expect(
        Buffer.byteLength(JSON.stringify({ run_id: 'r'.repeat(32), ...c })),
      ).toBeLessThanOrEqual(1_000_000);
  });

  it('sends NaN and infinities as protobuf JSON strings', () => {
    const [chunk] = chunkBatch(
      {
        metrics: [
          { key: 'a', value: NaN },
          { key: 'b', value: Infinity },
          { key: 'c', value: -Infinity },
          { key: 'd', value: 1.5 },
        ],
      },
      now,
    );
    expect(JSON.parse(JSON.stringify(chunk!.metrics))).toEqual([
      { key: 'a', value: 'NaN', timestamp: now, step: 0 },
      { key: 'b', value: 'Infinity', timestamp: now, step: 0 },
      { key: 'c', value: '-Infinity', timestamp: now, step: 0 },
      { key: 'd', value: 1.5, timestamp: now, step: 0 },
    ]);
  });

  it('takes metrics as a {key: value} record', () => {
    const [chunk] = chunkBatch({ metrics: { rmse: 2, mae: 1 } }, now);
    expect(chunk!.metrics).toEqual([
      { key: 'rmse', value: 2, timestamp: now, step: 0 },
      { key: 'mae', value: 1, timestamp: now, step: 0 },
    ]);
  });

  it('keeps explicit timestamps and steps', () => {
    const [chunk] = chunkBatch(
      { metrics: [{ key: 'fold_rmse', value: 3, step: 4, timestamp: 5 }] },
      now,
    );
    expect(chunk!.metrics[0]).toEqual({ key: 'fold_rmse', value: 3, timestamp: 5, step: 4 });
  });

  it('returns no request for an empty batch', () => {
    expect(chunkBatch({}, now)).toEqual([]);
  });

  it('refuses over-long values and bad keys before anything is sent', () => {
    expect(() => chunkBatch({ params: { p: 'x'.repeat(6001) } }, now)).toThrow(
      MlflowInvalidParameterError,
    );
    expect(() => chunkBatch({ params: { p: 'x'.repeat(6000) } }, now)).not.toThrow();
    expect(() => chunkBatch({ tags: { t: 'x'.repeat(5001) } }, now)).toThrow(
      /5001 characters, the limit is 5000/,
    );
    expect(() => chunkBatch({ metrics: [{ key: 'k'.repeat(251), value: 1 }] }, now)).toThrow(
      /limit is 250/,
    );
    expect(() => chunkBatch({ metrics: [{ key: 'bad*key', value: 1 }] }, now)).toThrow(
      MlflowInvalidParameterError,
    );
    expect(() => chunkBatch({ metrics: [{ key: '../up', value: 1 }] }, now)).toThrow(
      /different path/,
    );
    expect(() => chunkBatch({ metrics: [{ key: 'a', value: 1, step: 1.5 }] }, now)).toThrow(
      /integer/,
    );
    expect(() => chunkBatch({ metrics: [{ key: 'a', value: 1, timestamp: -1 }] }, now)).toThrow(
      /non-negative/,
    );
  });
});
