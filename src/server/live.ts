import type { LiveWindow } from '../config';
import type { Logger } from '../logger';
import type { CanaryPolicy } from '../monitoring/canary';
import { AuditTrail, type AdminActions } from './admin';
import { CanaryController } from './canary-controller';
import { DriftMonitor, type DriftOptions } from './drift-monitor';
import { LiveHistory } from './live-history';
import { LiveMaeAlarm, type LiveMaeAlarmOptions } from './live-mae-alarm';
import { LiveMonitor } from './live-monitor';
import { MemoryLiveStore, type FeedbackStore, type PredictionSink } from './live-store';
import type { Metrics } from './metrics';
import type { ModelHolder } from './model-holder';
import { RequestStats } from './request-stats';
import { Traffic, type TrafficConfig } from './traffic';

/** The result of the latest drift check, as /v1/monitoring shows it. */
export interface DriftSnapshot {
  checkedAt: string | null;
  features: {
    feature: string;
    statistic: string;
    value: number;
    pValue: number | null;
    psi: number;
    drifted: boolean;
  }[];
}

/** Everything the live-quality routes and the predict path share. */
export interface Live {
  production: ModelHolder;
  /** The `staging` alias's model (canary and shadow); undefined when not served. */
  staging: ModelHolder | undefined;
  history: LiveHistory;
  sink: PredictionSink;
  store: FeedbackStore;
  traffic: Traffic;
  stats: RequestStats;
  monitor: LiveMonitor;
  canary: CanaryController | undefined;
  audit: AuditTrail;
  actions: AdminActions | undefined;
  driftMonitor: DriftMonitor;
  drift: () => DriftSnapshot;
  /** Whether this process decides (canary actions, retraining on alarms). */
  decides: () => boolean;
  /** Retraining on live MAE; undefined when not configured. */
  maeAlarm: LiveMaeAlarm | undefined;
  /** Starts the periodic jobs (live metrics, canary analysis). */
  start(): void;
  stop(): Promise<void>;
}

export interface LiveOptions {
  production: ModelHolder;
  staging?: ModelHolder | undefined;
  metrics: Metrics;
  log: Logger;
  /** Both default to one in-memory store (a single process). */
  sink?: PredictionSink;
  store?: FeedbackStore;
  actions?: AdminActions | undefined;
  traffic?: TrafficConfig;
  windows?: LiveWindow[];
  updateSeconds?: number;
  analysisSeconds?: number;
  analysisWindowMs?: number;
  policy?: Partial<CanaryPolicy>;
  drift?: DriftOptions & { checkSeconds?: number };
  /** Retraining when the production model's live MAE passes its limit (off when unset). */
  liveMaeAlarm?: LiveMaeAlarmOptions;
  /**
   * Whether this process decides (canary actions, retraining on alarms); default: always. With
   * several API processes exactly one leads (src/server/leader.ts).
   */
  decides?: () => boolean;
}

/** Wires the live-quality parts; nothing runs until start(). */
export function createLive(o: LiveOptions): Live {
  const memory = o.sink && o.store ? undefined : new MemoryLiveStore();
  const sink = o.sink ?? memory!;
  const store = o.store ?? memory!;
  const { metrics } = o;
  const traffic = new Traffic(
    o.production,
    o.staging,
    o.traffic ?? { mode: 'off', canaryShare: 0 },
    (shares) => {
      metrics.canaryShare.reset();
      for (const s of shares) metrics.canaryShare.set({ version: s.version }, s.share);
    },
  );
  const stats = new RequestStats();
  const decides = o.decides ?? (() => true);
  let maeAlarm: LiveMaeAlarm | undefined;
  const monitor = new LiveMonitor(
    store,
    metrics,
    o.windows ?? [{ label: 'last100', count: 100 }],
    o.log,
    () => maeAlarm?.check() ?? Promise.resolve(),
  );
  if (o.liveMaeAlarm)
    maeAlarm = new LiveMaeAlarm(o.production, (v) => monitor.quality(v), o.log, {
      ...o.liveMaeAlarm,
      decides,
    });
  const audit = new AuditTrail(o.actions);
  const driftMonitor = new DriftMonitor(o.production, metrics, o.log, { ...o.drift, decides });
  let shareTimer: NodeJS.Timeout | undefined;
  const canary = o.staging
    ? new CanaryController({
        production: o.production,
        staging: o.staging,
        traffic,
        stats,
        store,
        actions: o.actions,
        audit,
        log: o.log,
        windowMs: o.analysisWindowMs ?? 3_600_000,
        decides,
        ...(o.policy ? { policy: o.policy } : {}),
      })
    : undefined;
  return {
    production: o.production,
    staging: o.staging,
    history: new LiveHistory(),
    sink,
    store,
    traffic,
    stats,
    monitor,
    canary,
    audit,
    actions: o.actions,
    driftMonitor,
    drift: () => driftMonitor.current,
    decides,
    maeAlarm,
    start() {
      monitor.start(o.updateSeconds ?? 15);
      driftMonitor.start(o.drift?.checkSeconds ?? 60);
      // models load in the background: keep icecream_canary_traffic_share current
      shareTimer = setInterval(() => traffic.report(), 5000);
      shareTimer.unref();
      canary?.start(o.analysisSeconds ?? 60);
    },
    async stop() {
      driftMonitor.stop();
      if (shareTimer) clearInterval(shareTimer);
      await monitor.stop();
      await canary?.stop();
    },
  };
}
