import fs from 'node:fs';

/**
 * A pino destination for a log written on the request path (the API's request log): lines are
 * collected and leave in one `fs.write` per 16 K characters or per `intervalMs`, whichever comes
 * first, with at most one write in flight, so a line costs an array push. (SonicBoom's buffered
 * mode measures its whole pending buffer again for every line, about 2 µs a line, and writes
 * nothing until 4 KB wait: a quiet server's request log lagged by dozens of requests.)
 * Bounded: past `maxChars` waiting (the reader of stderr stopped reading), lines are dropped and
 * counted in `dropped`. `flush(cb)` (pino's logger.flush) writes everything and then calls back;
 * on process exit what is still waiting is written synchronously.
 */
export class LogLines {
  dropped = 0;
  private lines: string[] = [];
  private chars = 0;
  private writing = false;
  private timer: NodeJS.Timeout | undefined;
  private drained: (() => void)[] = [];

  constructor(
    private readonly fd: number,
    private readonly options: { minChars?: number; maxChars?: number; intervalMs?: number } = {},
  ) {
    process.once('exit', () => this.flushSync());
  }

  write(line: string): void {
    if (this.chars + line.length > (this.options.maxChars ?? 8 << 20)) {
      this.dropped++;
      return;
    }
    this.lines.push(line);
    this.chars += line.length;
    this.schedule();
  }

  /** Writes what waits, then calls `cb` (also when the write failed: a log never blocks a stop). */
  flush(cb?: () => void): void {
    if (cb) this.drained.push(cb);
    if (!this.writing) this.send();
  }

  /** Writes what waits, synchronously (a write in flight is left to finish on its own). */
  flushSync(): void {
    if (this.chars === 0) return;
    const data = this.take();
    try {
      fs.writeSync(this.fd, data);
    } catch {
      // nowhere left to report it
    }
  }

  private schedule(): void {
    if (this.writing) return;
    if (this.chars >= (this.options.minChars ?? 16_384)) this.send();
    else
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        if (!this.writing) this.send();
      }, this.options.intervalMs ?? 200).unref();
  }

  private take(): Buffer {
    const data = Buffer.from(this.lines.join(''));
    this.lines = [];
    this.chars = 0;
    return data;
  }

  private send(): void {
    if (this.chars === 0) {
      for (const cb of this.drained.splice(0)) cb();
      return;
    }
    this.writing = true;
    this.writeOut(this.take(), 0);
  }

  private writeOut(data: Buffer, retries: number): void {
    fs.write(this.fd, data, 0, data.length, null, (err, written) => {
      if (err?.code === 'EAGAIN' && retries < 100) {
        setTimeout(() => this.writeOut(data, retries + 1), 10).unref();
        return;
      }
      if (!err && written < data.length) {
        this.writeOut(data.subarray(written), retries);
        return;
      }
      // any other error (EPIPE: nobody reads stderr any more): this chunk is lost, not retried
      this.writing = false;
      if (this.drained.length > 0) this.send();
      else if (this.chars > 0) this.schedule();
    });
  }
}
