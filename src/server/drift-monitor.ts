import type { Logger } from '../logger';
import type { RetrainTrigger } from '../retraining';
import { driftReport, type DriftThresholds } from '../monitoring/drift';
import type { DriftSnapshot } from './live';
import type { Metrics } from './metrics';
import type { ModelHolder, ServingModel } from './model-holder';

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

/** What the monitor keeps of one recent production prediction. */
interface Observed {
  temperature: number;
  prediction: number;
  /** the row's feature vector, and the names of its columns (the model that computed it) */
  features?: ArrayLike<number> | undefined;
  names?: readonly string[] | undefined;
}

/**
 * The periodic drift check: recent production requests (the latest request per period, so that a
 * period asked by many clients counts once) against the serving model's training distributions:
 * the request temperatures against the training temperatures, and the predictions against the
 * training sales. KS for a small reference, normalised Wasserstein for a large one, PSI reported
 * (src/monitoring/drift). Drift in `sustainedChecks` checks in a row opens an episode and calls the
 * retrain trigger once for it; a check without drift closes the episode.
 *
 * With a bundle's training reference (quantile sketches), the references are its sketches, and
 * each model feature it sketches (lags, moving averages, temperature terms, covariates) is also
 * compared with the features the model computed for the recent requests, reported per feature
 * (snapshot and metrics). Only the temperature and the prediction decide on retraining: the
 * features mostly restate those two (lags of the predictions, temperature terms), and two dozen
 * tests at p < 0.05 on every check would retrain on chance. Without a reference (older bundles),
 * the model's history is the reference for the temperature and the prediction, as before.
 */
export class DriftMonitor {
  private readonly recent = new Map<string, Observed>();
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

  /**
   * Notes one production prediction (O(1)); `features` (in the order of `names`, the serving
   * model's feature names) is kept as given, not copied.
   */
  observe(
    date: string,
    temperature: number,
    prediction: number,
    features?: ArrayLike<number>,
    names?: readonly string[],
  ): void {
    this.recent.delete(date);
    this.recent.set(date, { temperature, prediction, features, names });
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
    const compare = comparisons(model, rows);
    const features: DriftSnapshot['features'] = [];
    const reasons: string[] = [];
    for (const c of compare) {
      let r;
      try {
        r = driftReport(c.reference, c.current, this.options.thresholds, c.referenceSize);
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
      if (r.drift && c.decides) reasons.push(`${c.feature}: ${r.reason}`);
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

interface Comparison {
  feature: string;
  reference: ArrayLike<number>;
  /** the size of the sample a sketch stands for */
  referenceSize: number;
  current: number[];
  /** whether its drift counts towards retraining */
  decides: boolean;
}

/** What one check compares: see {@link DriftMonitor}. */
function comparisons(model: ServingModel, rows: Observed[]): Comparison[] {
  const temperature = rows.map((r) => r.temperature);
  const prediction = rows.map((r) => r.prediction);
  const ref = model.reference;
  if (!ref) {
    return [
      {
        feature: 'temperature',
        reference: model.history.temperature,
        referenceSize: model.history.temperature.length,
        current: temperature,
        decides: true,
      },
      {
        feature: 'prediction',
        reference: model.history.target,
        referenceSize: model.history.target.length,
        current: prediction,
        decides: true,
      },
    ];
  }
  const names = model.forecaster.featureNames;
  // feature vectors computed by this model (not one swapped out since)
  const withFeatures = rows.filter((r) => r.features && r.names === names);
  const out: Comparison[] = [];
  for (const sketch of ref.features) {
    const base = { reference: sketch.quantiles, referenceSize: sketch.n };
    if (sketch.feature === 'temperature')
      out.push({ ...base, feature: 'temperature', current: temperature, decides: true });
    else if (sketch.feature === 'target')
      out.push({ ...base, feature: 'prediction', current: prediction, decides: true });
    else {
      const j = names.indexOf(sketch.feature);
      if (j < 0 || withFeatures.length === 0) continue;
      const current = withFeatures.map((r) => r.features![j]!);
      out.push({ ...base, feature: sketch.feature, current, decides: false });
    }
  }
  return out;
}
