import type { PipelineProgress } from '../pipeline/types';
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

const say = (m: string): void => void process.stderr.write(`${m}\n`);

/** A pipeline workflow's progress: one line per completed step; a bar when stderr is a terminal. */
export function pipelineProgressPrinter(): (p: PipelineProgress, workflowId: string) => void {
  let printed = 0;
  let lastDetail = '';
  let lastDetailAt = 0;
  return (p, workflowId) => {
    if (process.stderr.isTTY) {
      const width = 28;
      const filled = Math.round((p.completed.length / p.steps.length) * width);
      process.stderr.write(
        `\r\x1b[K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.completed.length}/${p.steps.length} ${p.current ?? 'done'}  ${p.currentDetail ?? p.detail}`.slice(
          0,
          process.stderr.columns || 120,
        ),
      );
      if (p.completed.length === p.steps.length) process.stderr.write('\n');
      return;
    }
    for (; printed < p.completed.length; printed++) {
      say(
        `[${workflowId}] ${printed + 1}/${p.steps.length} ${p.completed[printed] ?? ''} done${printed === p.completed.length - 1 ? `: ${p.detail}` : ''}`,
      );
    }
    // a long step's own progress, at most every 5 seconds
    if (
      p.current &&
      p.currentDetail &&
      p.currentDetail !== lastDetail &&
      Date.now() - lastDetailAt > 5000
    ) {
      say(`[${workflowId}] ${p.current}: ${p.currentDetail}`);
      lastDetail = p.currentDetail;
      lastDetailAt = Date.now();
    }
  };
}
