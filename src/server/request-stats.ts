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

const armCodes = ['', 'production', 'canary', 'shadow'] as const;

/**
 * The latest requests in a fixed-size ring (O(1) per request): what the canary analysis compares
 * (error rate and p99 latency per arm and version) and the request summary of /v1/monitoring.
 * Columns of typed arrays rather than an object per request: a ring of objects keeps every
 * request's sample alive into the old generation, which the collector then has to sweep.
 */
export class RequestStats {
  private readonly time: Float64Array;
  private readonly seconds: Float64Array;
  private readonly arm: Uint8Array;
  private readonly error: Uint8Array;
  /** index into `versions` + 1 (0: an empty slot) */
  private readonly version: Uint16Array;
  private readonly versions: string[] = [];
  private readonly versionIndex = new Map<string, number>();
  private next = 0;

  constructor(private readonly size = 50_000) {
    this.time = new Float64Array(size);
    this.seconds = new Float64Array(size);
    this.arm = new Uint8Array(size);
    this.error = new Uint8Array(size);
    this.version = new Uint16Array(size);
  }

  observe(sample: RequestSample): void {
    const i = this.next;
    this.time[i] = sample.time;
    this.seconds[i] = sample.seconds;
    this.arm[i] = armCodes.indexOf(sample.arm);
    this.error[i] = sample.error ? 1 : 0;
    this.version[i] = this.versionCode(sample.version);
    this.next = (i + 1) % this.size;
  }

  /** Versions get a code on first sight; past 65,535 distinct ones the table starts again. */
  private versionCode(version: string): number {
    let code = this.versionIndex.get(version);
    if (code === undefined) {
      if (this.versions.length === 0xffff) {
        this.versions.length = 0;
        this.versionIndex.clear();
        this.version.fill(0);
      }
      this.versions.push(version);
      code = this.versions.length;
      this.versionIndex.set(version, code);
    }
    return code;
  }

  /** Requests since `from` (ms) that match `arm` and `version` (all when omitted). */
  summary(
    from: number,
    filter: { arm?: RequestSample['arm']; version?: string } = {},
  ): RequestSummary {
    const arm = filter.arm === undefined ? -1 : armCodes.indexOf(filter.arm);
    const version =
      filter.version === undefined ? -1 : (this.versionIndex.get(filter.version) ?? 0);
    const seconds: number[] = [];
    let errors = 0;
    for (let i = 0; i < this.size; i++) {
      if (this.version[i] === 0 || this.time[i]! < from) continue;
      if ((arm >= 0 && this.arm[i] !== arm) || (version >= 0 && this.version[i] !== version))
        continue;
      seconds.push(this.seconds[i]!);
      errors += this.error[i]!;
    }
    return { requests: seconds.length, errors, p99Seconds: quantile(seconds, 0.99) };
  }
}
