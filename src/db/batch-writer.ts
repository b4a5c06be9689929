/** How a BatchWriter buffers, batches and retries. */
export interface BatchWriterOptions<T> {
  /** writes one batch; a rejection keeps the batch in the buffer and retries it after a backoff */
  write: (rows: T[]) => Promise<unknown>;
  /** rows held in memory at most (written or not); beyond it new rows are dropped and counted */
  maxBuffered?: number;
  /** rows per write (default 500) */
  batchSize?: number;
  /** a partial batch is written after this long (default 200 ms) */
  flushIntervalMs?: number;
  /** first retry delay after a failed write, doubled per failure up to maxRetryMs (default 250) */
  minRetryMs?: number;
  maxRetryMs?: number;
  /** called with the number of rows dropped because the buffer was full (or the writer closed) */
  onDropped?: (count: number) => void;
  /** called when a write fails (it will be retried) */
  onWriteError?: (err: unknown, attempt: number) => void;
}

/** What close() achieved. */
export interface CloseResult {
  /** rows still unwritten when close() gave up (0 after a clean shutdown) */
  unwritten: number;
}

/**
 * Buffers rows in memory and writes them in batches off the caller's path.
 *
 * `record()` is synchronous and O(1): it never waits for the database. A timer flushes every
 * `flushIntervalMs`, and a full batch is flushed at once. While the database is down, rows stay
 * in the buffer (up to `maxBuffered`; overflow is dropped and counted) and the failed batch is
 * retried with exponential backoff; when the database returns, everything buffered is written
 * in order. `close()` stops the timer and writes what is left, so a clean shutdown loses nothing
 * that was accepted, unless the database stays away longer than the close timeout.
 */
export class BatchWriter<T> {
  private buffer: T[] = [];
  /** index of the first unwritten row in `buffer` (written rows are cut off in bulk) */
  private head = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private kickScheduled = false;
  private failures = 0;
  private retryAt = 0;
  private droppedTotal = 0;
  private writtenTotal = 0;
  private readonly maxBuffered: number;
  private readonly batchSize: number;
  private readonly minRetryMs: number;
  private readonly maxRetryMs: number;

  constructor(private readonly options: BatchWriterOptions<T>) {
    this.maxBuffered = options.maxBuffered ?? 100_000;
    this.batchSize = options.batchSize ?? 500;
    this.minRetryMs = options.minRetryMs ?? 250;
    this.maxRetryMs = options.maxRetryMs ?? 5000;
    if (!(this.maxBuffered >= 1 && this.batchSize >= 1))
      throw new RangeError('BatchWriter: maxBuffered and batchSize must be at least 1');
    this.timer = setInterval(() => this.kick(), options.flushIntervalMs ?? 200);
    this.timer.unref();
  }

  /** rows accepted but not yet written */
  get buffered(): number {
    return this.buffer.length - this.head;
  }

  /** rows dropped since start (buffer full, or recorded after close) */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** rows written since start */
  get written(): number {
    return this.writtenTotal;
  }

  /** The first row not yet written that matches (O(buffered): for rare look-ups, not per request). */
  findPending(match: (row: T) => boolean): T | undefined {
    for (let i = this.head; i < this.buffer.length; i++) {
      const row = this.buffer[i]!;
      if (match(row)) return row;
    }
    return undefined;
  }

  /**
   * Accepts a row for writing. Synchronous, never throws, never waits for the database.
   * @returns false when the row was dropped (buffer full, or the writer is closed).
   */
  record(row: T): boolean {
    if (this.closed || this.buffered >= this.maxBuffered) {
      this.droppedTotal++;
      this.options.onDropped?.(1);
      return false;
    }
    this.buffer.push(row);
    // a full batch is written soon, but never inside the caller's turn of the event loop
    if (this.buffered >= this.batchSize && !this.kickScheduled && !this.flushing) {
      this.kickScheduled = true;
      setImmediate(() => {
        this.kickScheduled = false;
        this.kick();
      });
    }
    return true;
  }

  /** Starts a flush unless one runs or a retry is not due yet. */
  private kick(): void {
    if (this.flushing || this.buffered === 0 || Date.now() < this.retryAt) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined;
    });
  }

  /** Writes batches until the buffer is empty or a write fails. Never rejects. */
  private async drain(): Promise<void> {
    while (this.buffered > 0) {
      const batch = this.buffer.slice(this.head, this.head + this.batchSize);
      try {
        await this.options.write(batch);
      } catch (err) {
        this.failures++;
        const delay = Math.min(this.maxRetryMs, this.minRetryMs * 2 ** (this.failures - 1));
        this.retryAt = Date.now() + delay;
        this.options.onWriteError?.(err, this.failures);
        return;
      }
      this.failures = 0;
      this.retryAt = 0;
      this.writtenTotal += batch.length;
      this.head += batch.length;
      // cut written rows off now and then, not per batch (keeps record() O(1) amortised)
      if (this.head >= 4096 || this.head === this.buffer.length) {
        this.buffer = this.buffer.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** Writes everything buffered now (retrying a failed batch once its backoff is over). */
  async flush(timeoutMs = 30_000): Promise<CloseResult> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffered > 0 && Date.now() < deadline) {
      if (this.flushing) {
        await this.flushing;
        continue;
      }
      const wait = this.retryAt - Date.now();
      if (wait > 0) {
        await sleep(Math.min(wait, deadline - Date.now()));
        continue;
      }
      this.kick();
    }
    if (this.flushing) await this.flushing;
    return { unwritten: this.buffered };
  }

  /**
   * Stops accepting rows and writes what is buffered, waiting at most `timeoutMs` for the
   * database. Rows still unwritten then are reported (and counted as dropped), not thrown.
   */
  async close(timeoutMs = 30_000): Promise<CloseResult> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const result = await this.flush(timeoutMs);
    if (result.unwritten > 0) {
      this.droppedTotal += result.unwritten;
      this.options.onDropped?.(result.unwritten);
    }
    return result;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
