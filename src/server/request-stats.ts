/** One answered request (or one shadow scoring). */
export interface RequestSample {
  /** ms since the epoch */
  time: number;
  /** the traffic arm, or '' for requests that are not predictions */
  arm: '' | 'production' | 'canary' | 'shadow';
  version: string;
  seconds: number;
  /** a server-side failure (5xx, or a shadow scoring that threw) */
  error: boolean;
}

export interface RequestSummary {
  requests: number;
  errors: number;
  /** null without samples */
  p99Seconds: number | null;
}

/** The p-quantile of unsorted values (nearest rank). */
function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/**
 * The latest requests in a fixed-size ring (O(1) per request): what the canary analysis compares
 * (error rate and p99 latency per arm and version) and the request summary of /v1/monitoring.
 */
export class RequestStats {
  private readonly ring: (RequestSample | undefined)[];
  private next = 0;

  constructor(size = 50_000) {
    this.ring = new Array<RequestSample | undefined>(size);
  }

  observe(sample: RequestSample): void {
    this.ring[this.next] = sample;
    this.next = (this.next + 1) % this.ring.length;
  }

  private since(from: number, keep: (s: RequestSample) => boolean): RequestSample[] {
    const out: RequestSample[] = [];
    for (const s of this.ring) if (s && s.time >= from && keep(s)) out.push(s);
    return out;
  }

  /** Requests since `from` (ms) that match `arm` and `version` (all when omitted). */
  summary(
    from: number,
    filter: { arm?: RequestSample['arm']; version?: string } = {},
  ): RequestSummary {
    const rows = this.since(
      from,
      (s) =>
        (filter.arm === undefined || s.arm === filter.arm) &&
        (filter.version === undefined || s.version === filter.version),
    );
    return {
      requests: rows.length,
      errors: rows.filter((s) => s.error).length,
      p99Seconds: quantile(
        rows.map((s) => s.seconds),
        0.99,
      ),
    };
  }
}
