import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit';

describe('RateLimiter', () => {
  it('lets a burst through, then refuses with the whole seconds until the next token', () => {
    let t = 0;
    const limiter = new RateLimiter(0.5, 3, () => t);
    expect([1, 2, 3].map(() => limiter.take('a'))).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(2); // 1 token at 0.5/s = 2 s
    t = 1000;
    expect(limiter.take('a')).toBe(1); // half a token back: 1 s more
    t = 2000;
    expect(limiter.take('a')).toBe(0);
  });

  it('keeps a bucket per client', () => {
    const limiter = new RateLimiter(1, 1, () => 0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0);
  });

  it('never refills above the burst', () => {
    let t = 0;
    const limiter = new RateLimiter(100, 2, () => t);
    limiter.take('a');
    t = 60_000;
    expect([1, 2, 3].map(() => limiter.take('a'))).toEqual([0, 0, 1]);
  });

  it('rounds Retry-After up to at least one second at high rates', () => {
    const limiter = new RateLimiter(1000, 1, () => 0);
    limiter.take('a');
    expect(limiter.take('a')).toBe(1);
  });

  it('refuses a rate or burst that cannot work', () => {
    expect(() => new RateLimiter(0, 1)).toThrow(RangeError);
    expect(() => new RateLimiter(1, 0)).toThrow(RangeError);
  });
});
