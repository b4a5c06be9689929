// Process entry of the worker container (`node dist/worker/main.js`); `icecream worker` does the same.
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { runWorker } from './worker';

const config = loadConfig();
const log = createLogger(config.logLevel, 'worker');
runWorker(config, log).catch((err: unknown) => {
  log.error({ err }, 'worker failed');
  process.exitCode = 1;
});
