import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from '../config';

/**
 * Connection options for Temporal from @temporalio/envconfig: the configured address and
 * namespace, plus whatever TLS, API key or gRPC metadata the environment or a Temporal config
 * file profile (`TEMPORAL_PROFILE`, `TEMPORAL_CONFIG_FILE`) adds, e.g. for Temporal Cloud.
 */
export function temporalConnectionOptions(config: Config): NativeConnectionOptions {
  const env = Object.fromEntries(
    Object.entries(config.childEnv).filter(
      (e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '',
    ),
  );
  const { connectionOptions } = loadClientConnectConfig({
    overrideEnvVars: {
      ...env,
      TEMPORAL_ADDRESS: config.temporal.address,
      TEMPORAL_NAMESPACE: config.temporal.namespace,
    },
  });
  return { ...connectionOptions, address: config.temporal.address };
}
