import type pg from 'pg';
import { liveSales } from '../db/feedback';
import { migrate } from '../db/migrations';
import { isDatabaseUnavailable } from '../db/pool';
import { FeedbackBufferFullError, FeedbackWriter, PredictionLog } from '../db/prediction-log';
import { findPrediction, outcomesSince } from '../db/predictions';
import type { Logger } from '../logger';
import {
  StoreUnavailableError,
  type FeedbackInput,
  type FeedbackResult,
  type FeedbackStore,
  type LoggedPrediction,
  type Outcome,
  type PredictionRecord,
  type PredictionSink,
} from './live-store';

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The live store on PostgreSQL (src/db): predictions through the batched `PredictionLog` (a
 * database outage never fails a prediction; overflow is counted), feedback stored synchronously
 * or buffered while the database is down, predictions joined to actuals in SQL. Shared by every
 * API process and replica, so feedback reaches whichever process predicted.
 */
export class PostgresLiveStore implements PredictionSink, FeedbackStore {
  readonly predictions: PredictionLog;
  readonly feedback: FeedbackWriter;

  constructor(
    readonly pool: pg.Pool,
    log: Logger,
    onDropped: (n: number) => void,
  ) {
    this.predictions = new PredictionLog(pool, {
      onDropped,
      onWriteError: (err, attempt) =>
        log.warn({ err: message(err), attempt }, 'prediction log write failed; will retry'),
    });
    this.feedback = new FeedbackWriter(pool, {
      onWriteError: (err, attempt) =>
        log.warn({ err: message(err), attempt }, 'feedback write failed; will retry'),
    });
  }

  record(row: PredictionRecord): boolean {
    return this.predictions.record(row);
  }

  flush(timeoutMs?: number): Promise<unknown> {
    return this.predictions.flush(timeoutMs);
  }

  get buffered(): number {
    return this.predictions.buffered;
  }

  async findPrediction(id: string): Promise<LoggedPrediction | undefined> {
    const pending = this.predictions.pending(id);
    if (pending)
      return pending.arm === 'shadow'
        ? undefined
        : { id, date: pending.date, modelVersion: pending.modelVersion, arm: pending.arm };
    return this.unavailableAs503(() => findPrediction(this.pool, id));
  }

  async submit(input: FeedbackInput): Promise<FeedbackResult | 'accepted'> {
    const outcome = await this.unavailableAs503(() => this.feedback.submit(input));
    return outcome.status === 'stored' ? outcome.result : 'accepted';
  }

  outcomesSince(since: Date): Promise<Outcome[]> {
    return this.unavailableAs503(() => outcomesSince(this.pool, since));
  }

  /** The live sales history stored so far (to seed a starting process). */
  liveSales(): Promise<{ date: string; sales: number }[]> {
    return liveSales(this.pool);
  }

  /** Writes what is buffered (up to `timeoutMs`), then closes the pool. */
  async close(timeoutMs = 5000): Promise<void> {
    await this.predictions.close(timeoutMs);
    await this.feedback.close(timeoutMs);
    await this.pool.end();
  }

  private async unavailableAs503<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof FeedbackBufferFullError || isDatabaseUnavailable(err))
        throw new StoreUnavailableError(message(err));
      throw err;
    }
  }
}

/**
 * Migrates the schema, retrying every `retryMs` while the database is unreachable (the server
 * serves meanwhile: predictions are buffered). Resolves once migrated; rejects for a schema
 * problem retrying cannot fix.
 */
export async function migrateWhenReachable(
  pool: pg.Pool,
  log: Logger,
  stopped: () => boolean,
  retryMs = 5000,
): Promise<boolean> {
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      const r = await migrate(pool);
      log.info({ version: r.version, applied: r.applied }, 'database schema ready');
      return true;
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      log.warn({ err: message(err), attempt }, 'database unreachable; migrating later');
      await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
    }
  }
  return false;
}
