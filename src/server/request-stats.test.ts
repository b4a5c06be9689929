import { describe, expect, it } from 'vitest';
import { RequestStats, type RequestSample } from './request-stats';

const sample = (s: Partial<RequestSample>): RequestSample => ({
  time: 1000,
  arm: 'production',
  version: '1',
  seconds: 0.001,
  error: false,
  ...s,
});

describe('RequestStats', () => {
  it('summarises by time, arm and version, with the nearest-rank p99', () => {
    const stats = new RequestStats(1000);
    for (let i = 1; i <= 100; i++)
      stats.observe(sample({ seconds: i / 1000, error: i % 10 === 0 }));
    stats.observe(sample({ arm: 'canary', version: '2', seconds: 0.5, error: true }));
    stats.observe(sample({ time: 10, seconds: 9 }));
    expect(stats.summary(500, { arm: 'production', version: '1' })).toEqual({
      requests: 100,
      errors: 10,
      p99Seconds: 0.099,
    });
    expect(stats.summary(500, { arm: 'canary' })).toEqual({
      requests: 1,
      errors: 1,
      p99Seconds: 0.5,
    });
    expect(stats.summary(500).requests).toBe(101);
    expect(stats.summary(0).requests).toBe(102);
    expect(stats.summary(500, { version: '3' })).toEqual({
      requests: 0,
      errors: 0,
      p99Seconds: null,
    });
  });

  it('keeps only the latest `size` requests', () => {
    const stats = new RequestStats(10);
    for (let i = 0; i < 25; i++) stats.observe(sample({ time: i, seconds: i }));
    const s = stats.summary(0);
    expect(s.requests).toBe(10);
    expect(s.p99Seconds).toBe(24);
    expect(stats.summary(15).requests).toBe(10);
    expect(stats.summary(16).requests).toBe(9);
  });
});
