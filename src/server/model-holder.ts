import {
  addPeriods,
  formatDay,
  horizonOf,
  parseDay,
  type Forecaster,
  type Series,
  type TrainingReference,
} from '../ml/serving';
import type { ModelRef, StoredModel } from '../model-store/store';
import type { Logger } from '../logger';

/** A loaded, verified model ready to answer requests. */
export interface ServingModel {
  name: string;
  version: string;
  /** sha256 of the bundle's checksum listing, as the registry recorded it at publishing. */
  digest: string;
  aliases: string[];
  runId: string | undefined;
  forecaster: Forecaster;
  history: Series;
  /** The bundle's training reference for drift checks (absent in older bundles). */
  reference?: TrainingReference;
  loadedAt: string;
  /** The history's last date, and how many periods past it the model answers. */
  lastDate: string;
  maxHorizon: number;
  /** The furthest date it forecasts: `maxHorizon` periods after `lastDate`. */
  lastForecastDate: string;
  /** MAE on the training run's untouched holdout (the version's `holdout_mae` tag), if known. */
  holdoutMae: number | null;
  /** The version's registry tags when it was loaded. */
  tags: Record<string, string>;
}

function holdoutOf(tags: Record<string, string> | undefined): number | null {
  const v = Number(tags?.holdout_mae);
  return tags?.holdout_mae !== undefined && Number.isFinite(v) ? v : null;
}

/** A serving model from a fetched bundle; `maxHorizon` defaults by the data's frequency. */
export function toServingModel(m: StoredModel, maxHorizon?: number): ServingModel {
  const lastDate = m.history.dates[m.history.dates.length - 1] ?? '';
  const horizon = maxHorizon ?? horizonOf(m.forecaster.features.frequency);
  return {
    name: m.ref.name,
    version: m.ref.version,
    digest: m.ref.digest,
    aliases: m.ref.aliases,
    runId: m.ref.runId,
    forecaster: m.forecaster,
    history: m.history,
    ...(m.reference ? { reference: m.reference } : {}),
    loadedAt: new Date().toISOString(),
    lastDate,
    maxHorizon: horizon,
    lastForecastDate: formatDay(
      addPeriods(parseDay(lastDate), horizon, m.forecaster.features.frequency),
    ),
    holdoutMae: holdoutOf(m.ref.tags),
    tags: m.ref.tags ?? {},
  };
}

/**
 * What a holder calls to load its alias: the registry's current ref (undefined: the alias is not
 * set), then the verified bundle for it.
 */
export interface ModelSource {
  resolve(): Promise<ModelRef | undefined>;
  fetch(ref: ModelRef): Promise<ServingModel>;
}

/** Why a load failed, as a metric label. */
export type LoadFailure = 'registry_unreachable' | 'rejected' | 'download' | 'other';

/** Observers of the holder (metrics). */
export interface HolderEvents {
  attempt?(): void;
  failure?(reason: LoadFailure): void;
  loaded?(model: ServingModel, previous: ServingModel | undefined): void;
  registry?(reachable: boolean): void;
}

/**
 * Holds the model of one alias and swaps it atomically when the alias moves. Refreshes never
 * overlap (a call during a refresh joins it). A load that fails (registry down, download error,
 * digest mismatch, unreadable bundle) keeps the current model: a bad new model never replaces a
 * good one; the failure is logged and reported to `events`.
 */
export class ModelHolder {
  private model: ServingModel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  lastError: string | undefined;

  constructor(
    readonly alias: string,
    private readonly source: ModelSource,
    private readonly log: Logger,
    private readonly events: HolderEvents = {},
    /** Classifies a load error; defaults to 'other'. */
    private readonly classify: (err: unknown) => LoadFailure = () => 'other',
  ) {}

  get current(): ServingModel | undefined {
    return this.model;
  }

  /** Loads the alias's model if it changed. Never throws; the error is logged and kept. */
  refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async load(): Promise<void> {
    this.events.attempt?.();
    let ref: ModelRef | undefined;
    try {
      ref = await this.source.resolve();
      this.events.registry?.(true);
      if (!ref || (ref.version === this.model?.version && ref.digest === this.model.digest)) {
        if (ref && this.model) {
          this.model.aliases = ref.aliases;
          if (ref.tags) this.model.tags = ref.tags;
        }
        this.lastError = undefined;
        return;
      }
      const next = await this.source.fetch(ref);
      const previous = this.model;
      this.model = next;
      this.lastError = undefined;
      this.events.loaded?.(next, previous);
      this.log.info(
        {
          alias: this.alias,
          version: next.version,
          previous: previous?.version,
          digest: next.digest,
        },
        'model loaded',
      );
    } catch (err) {
      const reason = this.classify(err);
      if (reason === 'registry_unreachable') this.events.registry?.(false);
      this.events.failure?.(reason);
      this.lastError = err instanceof Error ? err.message : String(err);
      this.log.warn(
        {
          alias: this.alias,
          reason,
          wanted: ref?.version,
          err: this.lastError,
          serving: this.model?.version,
        },
        'model load failed; keeping the current model',
      );
    }
  }

  /** Refreshes every `seconds` until stop(). */
  start(seconds: number): void {
    this.timer = setInterval(() => void this.refresh(), seconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer and waits for a refresh in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.inflight;
  }
}
