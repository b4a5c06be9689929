import type { ModelHolder, ServingModel } from './model-holder';

export const trafficModes = ['off', 'canary', 'shadow'] as const;
/** off: production only; canary: `staging` answers a sticky share of clients; shadow: it only scores copies. */
export type TrafficMode = (typeof trafficModes)[number];

export interface TrafficConfig {
  mode: TrafficMode;
  /** 0..1, the share of clients the canary answers in canary mode. */
  canaryShare: number;
}

/** Which model answers a request, and which (if any) scores a copy of it. */
export interface Route {
  model: ServingModel;
  arm: 'production' | 'canary';
  shadow: ServingModel | undefined;
}

/**
 * FNV-1a of the client id with murmur3's final mix (so ids differing in one character spread
 * evenly), scaled to [0, 1): the same client always lands on the same side.
 */
export function clientBucket(clientId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < clientId.length; i++) {
    h ^= clientId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/**
 * The traffic split between the `production` and `staging` models. A candidate takes part only
 * when it is loaded, differs from production and was not rejected (a rolled-back version stays out
 * until `staging` moves to another one). Routing is in process, so a change (a rollback) applies to
 * the very next request.
 */
export class Traffic {
  private config: TrafficConfig;
  private readonly rejected = new Set<string>();

  constructor(
    private readonly production: ModelHolder,
    private readonly staging: ModelHolder | undefined,
    initial: TrafficConfig,
    private readonly onChange: (share: { version: string; share: number }[]) => void = () =>
      undefined,
  ) {
    this.config = { ...initial };
  }

  get current(): TrafficConfig {
    return { ...this.config };
  }

  set(config: TrafficConfig): void {
    this.config = { ...config };
    this.report();
  }

  /** Takes `version` out of traffic at once (a rollback of the canary). */
  reject(version: string): void {
    this.rejected.add(version);
    this.report();
  }

  isRejected(version: string): boolean {
    return this.rejected.has(version);
  }

  /** The staging model when it takes part in the current mode, else undefined. */
  candidate(): ServingModel | undefined {
    if (this.config.mode === 'off' || !this.staging) return undefined;
    const s = this.staging.current;
    const p = this.production.current;
    if (!s || (p && s.version === p.version) || this.rejected.has(s.version)) return undefined;
    if (s.tags['staging.decision'] === 'reject') return undefined;
    return s;
  }

  /** The route of one request from `clientId`, or undefined when no production model is loaded. */
  route(clientId: string): Route | undefined {
    const production = this.production.current;
    if (!production) return undefined;
    const candidate = this.candidate();
    if (!candidate) return { model: production, arm: 'production', shadow: undefined };
    if (this.config.mode === 'shadow')
      return { model: production, arm: 'production', shadow: candidate };
    return clientBucket(clientId) < this.config.canaryShare
      ? { model: candidate, arm: 'canary', shadow: undefined }
      : { model: production, arm: 'production', shadow: undefined };
  }

  /** Shares per version for `icecream_canary_traffic_share`. */
  shares(): { version: string; share: number }[] {
    const p = this.production.current;
    const c = this.candidate();
    const canaryShare = c && this.config.mode === 'canary' ? this.config.canaryShare : 0;
    const out: { version: string; share: number }[] = [];
    if (p) out.push({ version: p.version, share: 1 - canaryShare });
    if (c) out.push({ version: c.version, share: canaryShare });
    return out;
  }

  /** Re-reports the shares (after a model load). */
  report(): void {
    this.onChange(this.shares());
  }
}
