import { describe, expect, it } from 'vitest';
import { predictionId } from './prediction-id';

const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('predictionId', () => {
  it('is a UUIDv7 whose first 48 bits are the time in milliseconds', () => {
    const now = Date.UTC(2026, 11, 2, 13, 30, 0, 123);
    const id = predictionId(now);
    expect(id).toMatch(v7);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
  });

  it('sorts by time and does not repeat', () => {
    const ids = Array.from({ length: 100_000 }, (_, i) =>
      predictionId(1_800_000_000_000 + (i >> 4)),
    );
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => v7.test(id))).toBe(true);
    const prefixes = ids.map((id) => id.slice(0, 13));
    expect([...prefixes].sort()).toEqual(prefixes);
  });
});
