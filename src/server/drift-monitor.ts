import type { Logger } from '../logger';
import type { RetrainTrigger } from '../retraining';
import { driftReport, type DriftThresholds } from '../monitoring/drift';
import type { DriftSnapshot } from './live';
import type { Metrics } from './metrics';
import type { ModelHolder } from './model-holder';

export type { RetrainTrigger };

export interface DriftOptions {
  /** Distinct periods of recent requests compared with the reference (default 60). */
  windowPeriods?: number;
  /** Consecutive checks with drift before retraining is triggered (default 3). */
  sustainedChecks?: number;
  thresholds?: Partial<DriftThresholds>;
  retrain?: RetrainTrigger | undefined;
  /** False in a process that does not decide (another API process leads); default: decides. */
  decides?: () => boolean;
}

/**
 * The periodic drift check: recent production requests (the latest request per period, so that a
 * period asked by many clients counts once) against the serving model's own training history:
 * the request temperatures against the history's temperatures, and the predictions against the
 * history's sales. KS for a small reference, normalised Wasserstein for a large one, PSI reported
 * (src/monitoring/drift). Drift in `sustainedChecks` checks in a row opens an episode and calls the
 * retrain trigger once for it; a check without drift closes the episode.
 */
export class DriftMonitor {
  private readonly recent = new Map<string, { temperature: number; prediction: number }>();
  private snapshot: DriftSnapshot = { checkedAt: null, features: [] };
  private streak = 0;
  private episode: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly production: ModelHolder,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly options: DriftOptions = {},
  ) {}

  /** Notes one production prediction (O(1)). */
  observe(date: string, temperature: number, prediction: number): void {
    this.recent.delete(date);
    this.recent.set(date, { temperature, prediction });
    if (this.recent.size > (this.options.windowPeriods ?? 60)) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }

  get current(): DriftSnapshot {
    return this.snapshot;
  }

  /** The retraining episode open now, if any. */
  get openEpisode(): string | undefined {
    return this.episode;
  }

  /** Runs one check now. Never throws. */
  async check(now = new Date()): Promise<DriftSnapshot> {
    const model = this.production.current;
    if (!model || this.recent.size === 0) return this.snapshot;
    const rows = [...this.recent.values()];
    const compare = [
      {
        feature: 'temperature',
        reference: model.history.temperature,
        current: rows.map((r) => r.temperature),
      },
      {
        feature: 'prediction',
        reference: model.history.target,
        current: rows.map((r) => r.prediction),
      },
    ];
    const features: DriftSnapshot['features'] = [];
    const reasons: string[] = [];
    for (const c of compare) {
      let r;
      try {
        r = driftReport(c.reference, c.current, this.options.thresholds);
      } catch (err) {
        this.log.warn({ err, feature: c.feature }, 'drift check skipped a feature');
        continue;
      }
      features.push({
        feature: c.feature,
        statistic: r.method,
        value: r.statistic,
        pValue: r.pValue,
        psi: r.psi,
        drifted: r.drift,
      });
      this.metrics.driftScore.set({ feature: c.feature, statistic: r.method }, r.statistic);
      this.metrics.driftScore.set({ feature: c.feature, statistic: 'psi' }, r.psi);
      this.metrics.driftDetected.set({ feature: c.feature }, r.drift ? 1 : 0);
      if (r.drift) reasons.push(`${c.feature}: ${r.reason}`);
    }
    this.snapshot = { checkedAt: now.toISOString(), features };
    if (reasons.length === 0) {
      this.streak = 0;
      this.episode = undefined;
      return this.snapshot;
    }
    this.streak++;
    const decides = this.options.decides?.() ?? true;
    if (this.streak >= (this.options.sustainedChecks ?? 3) && !this.episode && decides) {
      const at = now.toISOString().replace(/[:.]/g, '-');
      this.episode = `drift-${model.name}-v${model.version}-${at}`
        .replace(/[^A-Za-z0-9._:-]/g, '_')
        .slice(0, 200);
      const reason =
        `drift of model v${model.version} in ${this.streak} checks in a row: ${reasons.join('; ')}`.slice(
          0,
          1000,
        );
      this.log.warn({ episode: this.episode, reason }, 'sustained drift: retraining');
      if (this.options.retrain) {
        const episodeKey = this.episode;
        await this.options.retrain({ episodeKey, reason }).then(
          (run) => this.log.info({ episode: episodeKey, ...run }, 'retraining started or joined'),
          (err: unknown) => {
            this.log.error({ err, episode: episodeKey }, 'could not start retraining');
            this.episode = undefined; // try again on the next check
          },
        );
      }
    }
    return this.snapshot;
  }

  start(seconds: number): void {
    this.timer = setInterval(() => void this.check(), seconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
