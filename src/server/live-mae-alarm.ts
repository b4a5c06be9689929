import type { Logger } from '../logger';
import {
  liveMaeAlarm,
  type LiveMaeAlarmPolicy,
  type LiveMaeVerdict,
} from '../monitoring/live-alarm';
import type { RetrainTrigger } from '../retraining';
import type { WindowQuality } from './live-monitor';
import type { ModelHolder } from './model-holder';

export interface LiveMaeAlarmOptions extends LiveMaeAlarmPolicy {
  /** The live-quality window judged (one of LIVE_WINDOWS' labels). */
  window: string;
  retrain?: RetrainTrigger | undefined;
  /** False in a process that does not decide (another API process leads); default: decides. */
  decides?: () => boolean;
}

/**
 * Retraining on live quality: after each live-quality update, the production model's live MAE
 * over the configured window is judged against its holdout MAE (src/monitoring/live-alarm). An
 * alarm opens an episode and calls the retrain trigger once for it (`live-mae-<model>-v<version>-
 * <time>`); a check without alarm closes it, and so does a new production version.
 */
export class LiveMaeAlarm {
  private episode: { version: string; key: string } | undefined;
  last: LiveMaeVerdict | null = null;

  constructor(
    private readonly production: ModelHolder,
    private readonly quality: (version: string) => WindowQuality[],
    private readonly log: Logger,
    private readonly options: LiveMaeAlarmOptions,
  ) {}

  /** The retraining episode open now, if any. */
  get openEpisode(): string | undefined {
    return this.episode?.key;
  }

  /** Judges the current live quality (and retrains on an alarm). Never throws. */
  async check(now = new Date()): Promise<LiveMaeVerdict | null> {
    const model = this.production.current;
    if (!model) return null;
    const w = this.quality(model.version).find((q) => q.window === this.options.window);
    const verdict = liveMaeAlarm(
      {
        window: this.options.window,
        n: w?.n ?? 0,
        mae: w?.mae ?? null,
        holdoutMae: model.holdoutMae,
      },
      this.options,
    );
    this.last = verdict;
    if (!verdict.alarm) {
      this.episode = undefined;
      return verdict;
    }
    if (this.episode?.version === model.version || !(this.options.decides?.() ?? true))
      return verdict;
    const at = now.toISOString().replace(/[:.]/g, '-');
    const episodeKey = `live-mae-${model.name}-v${model.version}-${at}`
      .replace(/[^A-Za-z0-9._:-]/g, '_')
      .slice(0, 200);
    this.episode = { version: model.version, key: episodeKey };
    const reason = `live quality of model v${model.version}: ${verdict.reason}`.slice(0, 1000);
    this.log.warn({ episode: episodeKey, reason }, 'live MAE over its limit: retraining');
    if (this.options.retrain) {
      await this.options.retrain({ episodeKey, reason }).then(
        (run) => this.log.info({ episode: episodeKey, ...run }, 'retraining started or joined'),
        (err: unknown) => {
          this.log.error({ err, episode: episodeKey }, 'could not start retraining');
          this.episode = undefined; // try again on the next check
        },
      );
    }
    return verdict;
  }
}
