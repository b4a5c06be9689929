import type pg from 'pg';
import { BatchWriter, type BatchWriterOptions, type CloseResult } from './batch-writer';
import { recordFeedback, type FeedbackInput, type FeedbackResult } from './feedback';
import { isDatabaseUnavailable } from './pool';
import { insertPredictions, type PredictionRecord } from './predictions';

/**
 * The batch writer's options: `onDropped` feeds `icecream_prediction_log_dropped_total`;
 * `onWriteError` logs a failed batch (never with the rows' inputs). Default buffer: 100,000 rows.
 */
export type PredictionLogOptions = Omit<BatchWriterOptions<PredictionRecord>, 'write'>;

/**
 * The prediction log: `record(row)` on the request path is synchronous and O(1); rows reach the
 * `predictions` table in batches (one multi-row INSERT each). A database outage never fails a
 * prediction: rows wait in a bounded buffer and are written when it is back; overflow is counted.
 * Metrics: `buffered` for the gauge `icecream_prediction_log_buffered` (read it in the gauge's
 * collect()), `onDropped` for the counter `icecream_prediction_log_dropped_total`.
 */
export class PredictionLog {
  private readonly writer: BatchWriter<PredictionRecord>;
  private rejected = 0;

  constructor(pool: pg.Pool, options: PredictionLogOptions = {}) {
    const report = {
      onDropped: (n: number) => {
        this.rejected += n;
        options.onDropped?.(n);
      },
      onWriteError: (err: unknown, attempt: number) => options.onWriteError?.(err, attempt),
    };
    this.writer = new BatchWriter<PredictionRecord>({
      ...options,
      write: (rows) => writeOrSkipBad(rows, (some) => insertPredictions(pool, some), report),
    });
  }

  /** Logs a prediction; false if it was dropped (buffer full or log closed). Never throws. */
  record(row: PredictionRecord): boolean {
    return this.writer.record(row);
  }

  get buffered(): number {
    return this.writer.buffered;
  }

  /**
   * A prediction recorded but not yet in the table (the database is slow or down): feedback for
   * it is valid although `findPrediction` does not see it yet.
   */
  pending(id: string): PredictionRecord | undefined {
    return this.writer.findPending((r) => r.id === id);
  }

  /** rows lost: buffer full, recorded after close, or refused by the table */
  get dropped(): number {
    return this.writer.dropped + this.rejected;
  }

  get written(): number {
    return this.writer.written;
  }

  /** Waits until everything recorded so far is written (or the timeout passes). */
  flush(timeoutMs?: number): Promise<CloseResult> {
    return this.writer.flush(timeoutMs);
  }

  /** Stops accepting rows and writes the rest; call on shutdown after the server stopped. */
  close(timeoutMs?: number): Promise<CloseResult> {
    return this.writer.close(timeoutMs);
  }
}

/**
 * Writes rows; when the database rejects them for a reason other than being unavailable (a row
 * the table refuses), writes them one by one and drops only the refused ones, so one bad row
 * cannot block the log forever. Unavailability is rethrown: the whole batch is retried later.
 */
async function writeOrSkipBad<T>(
  rows: T[],
  write: (rows: T[]) => Promise<unknown>,
  report: Pick<PredictionLogOptions, 'onDropped' | 'onWriteError'>,
): Promise<void> {
  try {
    await write(rows);
    return;
  } catch (err) {
    if (isDatabaseUnavailable(err)) throw err;
    if (rows.length === 1) {
      report.onWriteError?.(err, 0);
      report.onDropped?.(1);
      return;
    }
  }
  for (const row of rows) await writeOrSkipBad([row], write, report);
}

/** `stored`: in the database (200); `accepted`: buffered while the database is down (202). */
export type FeedbackOutcome = { status: 'stored'; result: FeedbackResult } | { status: 'accepted' };

/** The database is down and the feedback buffer is full: the API answers 503 with Retry-After. */
export class FeedbackBufferFullError extends Error {
  constructor() {
    super('the database is unavailable and the feedback buffer is full; retry later');
    this.name = 'FeedbackBufferFullError';
  }
}

/**
 * Feedback is written synchronously and acknowledged once stored (`stored`, with created /
 * duplicate / corrected). Only when the database is unreachable is it buffered (`accepted`, the
 * API answers 202 Accepted) and written by a BatchWriter as soon as the database is back; a
 * buffered actual is applied with the same idempotent upsert, so a client retrying it is safe.
 */
export class FeedbackWriter {
  private readonly writer: BatchWriter<FeedbackInput>;

  constructor(
    private readonly pool: pg.Pool,
    options: Omit<PredictionLogOptions, 'batchSize'> = {},
  ) {
    this.writer = new BatchWriter<FeedbackInput>({
      maxBuffered: 10_000,
      ...options,
      // one transaction per actual: each also updates the live sales history
      batchSize: 50,
      write: async (rows) => {
        for (const row of rows)
          await writeOrSkipBad([row], ([r]) => recordFeedback(pool, r!), options);
      },
    });
  }

  /**
   * Stores an actual, or buffers it when the database is down.
   * @throws FeedbackBufferFullError when it can be neither stored nor buffered; other pg errors
   *   (a bad value, a bug) unchanged.
   */
  async submit(input: FeedbackInput): Promise<FeedbackOutcome> {
    // behind buffered actuals, a new one waits its turn: order of corrections is kept
    if (this.writer.buffered === 0) {
      try {
        return { status: 'stored', result: await recordFeedback(this.pool, input) };
      } catch (err) {
        if (!isDatabaseUnavailable(err)) throw err;
      }
    }
    if (!this.writer.record(input)) throw new FeedbackBufferFullError();
    return { status: 'accepted' };
  }

  get buffered(): number {
    return this.writer.buffered;
  }

  flush(timeoutMs?: number): Promise<CloseResult> {
    return this.writer.flush(timeoutMs);
  }

  close(timeoutMs?: number): Promise<CloseResult> {
    return this.writer.close(timeoutMs);
  }
}
