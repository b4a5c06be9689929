// Process entry of the API container (`node dist/server/main.js`); `icecream serve` does the same.
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { startServer } from './server';

const config = loadConfig();
const log = createLogger(config.logLevel, 'api');
startServer(config, log)
  .then(({ close }) => {
    const stop = (): void => void close().then(() => log.info({}, 'server stopped'));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  })
  .catch((err: unknown) => {
    log.error({ err }, 'server failed to start');
    process.exitCode = 1;
  });
