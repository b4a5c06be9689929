import pino from 'pino';

export type Logger = pino.Logger;

/**
 * JSON logs (one object per line) with a fixed message and the data in the object;
 * human-readable only when stderr is a terminal. Logs go to stderr so stdout stays for data.
 */
export function createLogger(level: pino.LevelWithSilent, name = 'icecream'): Logger {
  if (process.stderr.isTTY) {
    return pino({ level, name, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  }
  return pino({ level, name }, pino.destination(2));
}
