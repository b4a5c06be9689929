import type { Config } from '../config';
import { MlflowClient } from './client';

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
