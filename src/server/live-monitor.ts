import type { LiveWindow } from '../config';
import type { Logger } from '../logger';
import { liveQuality, type LabelledPrediction } from '../monitoring/live-quality';
import type { FeedbackStore, Outcome } from './live-store';
import type { Metrics } from './metrics';

/** Live quality of one version over one window. Null where nothing can be computed yet. */
export interface WindowQuality {
  window: string;
  n: number;
  mae: number | null;
  rmse: number | null;
  coverage: number | null;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const month = 30 * 86_400_000;

/**
 * Live MAE / RMSE / interval coverage per model version and window, from the predictions that
 * received an actual; exported as gauges and kept for /v1/monitoring. Recomputed every
 * LIVE_UPDATE_SECONDS and shortly after each feedback (`soon()`), so the gauges trail feedback by
 * well under 5 s. Count windows (`last100`) look back over the longest duration window, at least
 * 30 days.
 */
export class LiveMonitor {
  private snapshot = new Map<string, WindowQuality[]>();
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private exported = new Set<string>();

  constructor(
    private readonly store: FeedbackStore,
    private readonly metrics: Metrics,
    private readonly windows: LiveWindow[],
    private readonly log: Logger,
    /** Called after each update (the live-MAE alarm judges the new numbers). */
    private readonly afterUpdate: () => Promise<unknown> = () => Promise.resolve(),
  ) {}

  /** The latest quality per version (empty list for a version without actuals). */
  quality(version: string): WindowQuality[] {
    return (
      this.snapshot.get(version) ??
      this.windows.map((w) => ({ window: w.label, n: 0, mae: null, rmse: null, coverage: null }))
    );
  }

  /** Recomputes now (a call during a run joins it). Never throws. */
  update(now = Date.now()): Promise<void> {
    this.running ??= this.compute(now)
      .catch((err: unknown) => this.log.warn({ err }, 'live quality update failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Schedules an update within 250 ms (coalescing bursts of feedback). */
  soon(): void {
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      void this.update();
    }, 250);
  }

  start(seconds: number): void {
    this.timer = setInterval(() => void this.update(), seconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    await this.running;
  }

  private async compute(now: number): Promise<void> {
    const lookback = Math.max(month, ...this.windows.map((w) => w.ms ?? 0));
    const outcomes = await this.store.outcomesSince(new Date(now - lookback));
    const byVersion = new Map<string, LabelledPrediction[]>();
    for (const o of outcomes) {
      const rows = byVersion.get(o.modelVersion) ?? [];
      rows.push(labelled(o));
      byVersion.set(o.modelVersion, rows);
    }
    const next = new Map<string, WindowQuality[]>();
    for (const [version, rows] of byVersion) {
      rows.sort((a, b) => a.time - b.time);
      next.set(
        version,
        this.windows.map((w) => {
          const inWindow =
            w.count !== undefined
              ? rows.slice(-w.count)
              : rows.filter((r) => r.time > now - w.ms! && r.time <= now);
          const q = liveQuality(inWindow);
          return {
            window: w.label,
            n: q.n,
            mae: finite(q.mae),
            rmse: finite(q.rmse),
            coverage: finite(q.coverage),
          };
        }),
      );
    }
    this.snapshot = next;
    this.export();
    await this.afterUpdate();
  }

  private export(): void {
    const { liveMae, liveRmse, liveCoverage } = this.metrics;
    const now = new Set<string>();
    for (const [version, windows] of this.snapshot) {
      for (const w of windows) {
        const labels = { model_version: version, window: w.window };
        now.add(JSON.stringify(labels));
        if (w.mae !== null) liveMae.set(labels, w.mae);
        else liveMae.remove(labels);
        if (w.rmse !== null) liveRmse.set(labels, w.rmse);
        else liveRmse.remove(labels);
        if (w.coverage !== null) liveCoverage.set(labels, w.coverage);
        else liveCoverage.remove(labels);
      }
    }
    for (const key of this.exported) {
      if (now.has(key)) continue;
      const labels = JSON.parse(key) as { model_version: string; window: string };
      liveMae.remove(labels);
      liveRmse.remove(labels);
      liveCoverage.remove(labels);
    }
    this.exported = now;
  }
}

/** An outcome as the pure statistics take it. */
export function labelled(o: Outcome): LabelledPrediction {
  return {
    time: o.time.getTime(),
    prediction: o.prediction,
    actual: o.actual,
    lower: o.lower,
    upper: o.upper,
  };
}
