/**
 * Where the server's record of what it predicted and what really sold goes. The server depends on
 * these two small interfaces only; `MemoryLiveStore` implements them in process (tests, a single
 * process without a database) and the PostgreSQL log of src/db (`PredictionLog`,
 * `FeedbackWriter`, `findPrediction`, `outcomesSince`) has the same shape, so the entry points can
 * plug either in.
 */
import type { FeedbackInput, FeedbackResult } from '../db/feedback';
import type { Arm, Outcome, PredictionRecord } from '../db/predictions';

export type { Arm, FeedbackInput, FeedbackResult, Outcome, PredictionRecord };

/** The store cannot be reached now (database down, buffer full): the API answers 503, retry later. */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** The prediction log: `record` is synchronous and O(1) on the request path and never throws. */
export interface PredictionSink {
  /** false when the row was dropped (buffer full). */
  record(row: PredictionRecord): boolean;
  /** Waits until what was recorded so far is stored (when the sink buffers). */
  flush?(timeoutMs?: number): Promise<unknown>;
}

/** A logged prediction, as feedback needs it. */
export interface LoggedPrediction {
  id: string;
  date: string;
  modelVersion: string;
  arm: Arm;
}

/** Actual sales, and the join of predictions with them. */
export interface FeedbackStore {
  /** The served (production or canary) prediction with this id; undefined when unknown. */
  findPrediction(id: string): Promise<LoggedPrediction | undefined>;
  /**
   * Stores an actual idempotently: `created`, `duplicate` (same value again, nothing changed),
   * `corrected` (a new value replaced the old), or `accepted` (buffered while the store is down).
   */
  submit(input: FeedbackInput): Promise<FeedbackResult | 'accepted'>;
  /** Predictions made since `since` that have an actual (shadow rows through what they shadow). */
  outcomesSince(since: Date): Promise<Outcome[]>;
}

/**
 * Both interfaces in memory, bounded: the oldest predictions are forgotten past `maxPredictions`
 * (feedback for them then answers "unknown prediction id"). One process only: with API_WORKERS > 1
 * or several replicas, use the PostgreSQL log so that feedback reaches the process that predicted.
 */
export class MemoryLiveStore implements PredictionSink, FeedbackStore {
  private readonly predictions = new Map<string, PredictionRecord>();
  private readonly byId = new Map<string, number>();
  private readonly byDate = new Map<string, number>();

  constructor(private readonly maxPredictions = 200_000) {}

  record(row: PredictionRecord): boolean {
    if (this.predictions.size >= this.maxPredictions) {
      const oldest = this.predictions.keys().next().value;
      if (oldest !== undefined) this.predictions.delete(oldest);
    }
    this.predictions.set(row.id, row);
    return true;
  }

  findPrediction(id: string): Promise<LoggedPrediction | undefined> {
    const p = this.predictions.get(id);
    return Promise.resolve(
      p && p.arm !== 'shadow'
        ? { id: p.id, date: p.date, modelVersion: p.modelVersion, arm: p.arm }
        : undefined,
    );
  }

  submit(input: FeedbackInput): Promise<FeedbackResult> {
    const map = input.predictionId === undefined ? this.byDate : this.byId;
    const key = input.predictionId ?? input.date;
    const before = map.get(key);
    map.set(key, input.actual);
    return Promise.resolve(
      before === undefined ? 'created' : before === input.actual ? 'duplicate' : 'corrected',
    );
  }

  outcomesSince(since: Date): Promise<Outcome[]> {
    const t0 = since.getTime();
    const out: Outcome[] = [];
    for (const p of this.predictions.values()) {
      if (p.time.getTime() < t0) continue;
      const actual = this.byId.get(p.shadowOf ?? p.id) ?? this.byDate.get(p.date);
      if (actual === undefined) continue;
      out.push({
        modelVersion: p.modelVersion,
        arm: p.arm,
        time: p.time,
        date: p.date,
        horizon: p.horizon,
        prediction: p.prediction,
        lower: p.lower,
        upper: p.upper,
        actual,
      });
    }
    return Promise.resolve(out);
  }
}
