import type { Forecaster, Series } from '../ml';
import type { Logger } from '../logger';

/** A loaded, verified model ready to answer requests. */
export interface ServingModel {
  name: string;
  version: string;
  forecaster: Forecaster;
  history: Series;
  /** Identifies the bundle (sha256 of its checksum listing). */
  digest: string;
  loadedAt: string;
}

/** Fetches the model an alias points at; undefined when the alias is not set yet. */
export type ModelLoader = (
  knownVersion: string | undefined,
) => Promise<ServingModel | 'unchanged' | undefined>;

/**
 * Holds the serving model and swaps it atomically when the alias moves. A load that fails
 * (server down, corrupt bundle) keeps the current model: a bad new model never replaces a good one.
 */
export class ModelHolder {
  private model: ServingModel | undefined;
  private timer: NodeJS.Timeout | undefined;
  lastError: string | undefined;

  constructor(
    private readonly load: ModelLoader,
    private readonly log: Logger,
  ) {}

  get current(): ServingModel | undefined {
    return this.model;
  }

  /** Loads the alias's model if it changed. Never throws; the error is logged and kept. */
  async refresh(): Promise<void> {
    try {
      const next = await this.load(this.model?.version);
      if (next === 'unchanged' || next === undefined) return;
      const previous = this.model?.version;
      this.model = next;
      this.lastError = undefined;
      this.log.info({ version: next.version, previous, digest: next.digest }, 'model loaded');
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      this.log.warn(
        { err: this.lastError, serving: this.model?.version },
        'model refresh failed; keeping the current model',
      );
    }
  }

  /** Refreshes every `seconds` until stop(). */
  start(seconds: number): void {
    this.timer = setInterval(() => void this.refresh(), seconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
