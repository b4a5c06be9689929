/**
 * A token bucket per client: `burst` requests at once, refilled at `perSecond`. In-process: with
 * N API processes (API_WORKERS or replicas) a client can make N times the limit.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(perSecond > 0) || !(burst >= 1)) {
      throw new RangeError(`a rate limit needs perSecond > 0 and burst >= 1`);
    }
  }

  /**
   * Takes one token for this client. Returns 0 when the request may go ahead, otherwise the whole
   * seconds to wait before a token is available (at least 1), for a Retry-After header.
   */
  take(client: string): number {
    const t = this.now();
    let b = this.buckets.get(client);
    if (!b) {
      if (this.buckets.size >= 10_000) this.sweep(t);
      b = { tokens: this.burst, at: t };
      this.buckets.set(client, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
      b.at = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }

  /** Forgets clients whose bucket has refilled (they would start full anyway). */
  private sweep(t: number): void {
    for (const [client, b] of this.buckets) {
      if (b.tokens + ((t - b.at) / 1000) * this.perSecond >= this.burst)
        this.buckets.delete(client);
    }
  }
}
