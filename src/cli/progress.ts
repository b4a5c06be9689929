/** A progress reporter for long CLI commands. */
export interface Progress {
  /** Reports `done` of `total` units, optionally naming the current stage. */
  update(done: number, total: number, stage?: string): void;
  /** Ends the display (a newline on a TTY, a final line otherwise). */
  finish(): void;
}

const WIDTH = 28;

/**
 * A progress bar redrawn in place on a TTY (at most every 80 ms), or plain lines at every 10%
 * step elsewhere (logs, CI). Writes to `stream` (default stderr) so stdout
 * stays clean for `--json`.
 */
export function createProgress(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  const tty = stream.isTTY === true;
  let lastDraw = 0;
  let lastDecile = -1;
  let lastLine = '';
  let drawn = false;
  return {
    update(done, total, stage = '') {
      const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
      const pct = Math.floor(frac * 100);
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 80 && frac < 1) return;
        lastDraw = now;
        const filled = Math.round(frac * WIDTH);
        const cols = stream.columns || 100;
        const line =
          `${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(pct).padStart(3)}% ${stage}`.slice(
            0,
            cols - 1,
          );
        stream.write(`\r${line}${' '.repeat(Math.max(0, lastLine.length - line.length))}`);
        lastLine = line;
        drawn = true;
        return;
      }
      const decile = Math.floor(pct / 10);
      if (decile !== lastDecile) {
        stream.write(`${label}: ${pct}% ${stage}\n`.replace(/ \n$/, '\n'));
        lastDecile = decile;
      }
    },
    finish() {
      if (tty) {
        if (drawn) stream.write('\n');
      } else stream.write(`${label}: done\n`);
    },
  };
}
