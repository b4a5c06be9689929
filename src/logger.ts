import pino from 'pino';
import { LogLines } from './log-lines';

export type Logger = pino.Logger;

/**
 * JSON logs (one object per line) with a fixed message and the data in the object;
 * human-readable only when stderr is a terminal. Logs go to stderr so stdout stays for data.
 * `buffered` batches writes off the hot path ({@link LogLines}).
 */
export function createLogger(
  level: pino.LevelWithSilent,
  name = 'icecream',
  options: { buffered?: boolean } = {},
): Logger {
  if (process.stderr.isTTY) {
    return pino({ level, name, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  }
  return pino({ level, name }, options.buffered ? new LogLines(2) : pino.destination(2));
}
