import pino from 'pino';

export type Logger = pino.Logger;

/**
 * JSON logs (one object per line) with a fixed message and the data in the object;
 * human-readable only when stderr is a terminal. Logs go to stderr so stdout stays for data.
 * `buffered` batches writes off the hot path (pino flushes what is left when the process exits);
 * `dest`: a file instead of stderr (benchmarks).
 */
export function createLogger(
  level: pino.LevelWithSilent,
  name = 'icecream',
  options: { buffered?: boolean; dest?: string } = {},
): Logger {
  if (options.dest === undefined && process.stderr.isTTY) {
    return pino({ level, name, transport: { target: 'pino-pretty', options: { destination: 2 } } });
  }
  // buffered (the API's request log): writes leave the request path; flushed on exit
  const dest = options.dest ?? 2;
  return pino(
    { level, name },
    pino.destination(options.buffered ? { dest, sync: false, minLength: 4096 } : dest),
  );
}
