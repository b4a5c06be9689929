import type { Config } from '../config';
import type { Logger } from '../logger';
import { MlflowClient } from './client';
import { MlflowUnavailableError } from './errors';

/** The MLflow client for the configured tracking server and credentials. */
export function mlflowClientFromConfig(config: Config): MlflowClient {
  const m = config.mlflow;
  return new MlflowClient({
    trackingUri: m.trackingUri,
    username: m.username,
    password: m.password,
    token: m.token,
  });
}

/**
 * Checks the tracking server once at process start: an unsupported version stops the process
 * (retrying cannot help); an unreachable server is only logged (callers retry as they go).
 * @throws MlflowUnsupportedVersionError
 */
export async function checkMlflowAtStart(mlflow: MlflowClient, log: Logger): Promise<void> {
  try {
    const version = await mlflow.checkServer();
    log.info({ trackingUri: mlflow.trackingUri, version: version.raw }, 'MLflow server checked');
  } catch (err) {
    if (!(err instanceof MlflowUnavailableError)) throw err;
    log.warn(
      { trackingUri: mlflow.trackingUri, err: err.message },
      'MLflow is not reachable yet; calls will be retried',
    );
  }
}
