import path from 'node:path';
import type { Config } from '../config';
import { mlflowClientFromConfig } from '../mlflow/from-config';
import { ModelStore } from './store';

/** The model store of the configured registry, caching bundles under `<localDir>/models`. */
export function modelStoreFromConfig(
  config: Config,
  mlflow = mlflowClientFromConfig(config),
): ModelStore {
  return new ModelStore(
    mlflow,
    config.mlflow.registeredModel,
    path.join(config.localDir, 'models'),
  );
}
