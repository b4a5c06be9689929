// Process entry of the API container (`node dist/server/main.js`); `icecream serve` does the same.
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { gateFromConfig } from './auth';
import { serveApi } from './cluster';
import { servingWiring } from '../serving-admin';

const config = loadConfig();
const log = createLogger(config.logLevel, 'api', { buffered: true });
serveApi(config, log, { gate: gateFromConfig(config.auth, log), ...servingWiring(config) })
  .then(({ stop }) => {
    // drained: exit (a cluster worker's IPC channel would otherwise keep it alive)
    const onSignal = (): void =>
      void stop().then(() => {
        log.info({}, 'server stopped');
        log.flush(() => process.exit(0));
      });
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  })
  .catch((err: unknown) => {
    log.error({ err }, 'server failed to start');
    process.exitCode = 1;
  });
