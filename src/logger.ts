import fs from 'node:fs';
import pino from 'pino';
import { LogLines } from './log-lines';

export type Logger = pino.Logger;

/**
 * JSON logs (one object per line) with a fixed message and the data in the object;
 * human-readable only when stderr is a terminal. Logs go to stderr so stdout stays for data.
 * `buffered` batches writes off the hot path ({@link LogLines}); `dest`: a file instead of stderr
 * (benchmarks).
 */
export function createLogger(
  level: pino.LevelWithSilent,
  name = 'icecream',
  options: { buffered?: boolean; dest?: string } = {},
): Logger {
  if (options.dest === undefined && process.stderr.isTTY) {
    return pino({ level, name, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  }
  const fd = options.dest === undefined ? 2 : fs.openSync(options.dest, 'a');
  return pino({ level, name }, options.buffered ? new LogLines(fd) : pino.destination(fd));
}
