import type { Server } from 'node:http';
import path from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { MlflowClient } from '../mlflow/client';
import { checkMlflowAtStart, mlflowClientFromConfig } from '../mlflow/from-config';
import { downloadBundle } from '../pipeline/record';
import { aliases } from '../pipeline/registry';
import { createApp } from './app';
import { ModelHolder, type ModelLoader } from './model-holder';

/** Loads the version an alias points at from the registry, verifying the bundle's checksums. */
export function registryLoader(
  mlflow: MlflowClient,
  name: string,
  alias: string,
  cacheDir: string,
): ModelLoader {
  return async (knownVersion) => {
    const mv = await mlflow.tryGetModelVersionByAlias(name, alias);
    if (!mv?.version || !mv.source) return undefined;
    if (mv.version === knownVersion) return 'unchanged';
    const bundle = await downloadBundle(
      mlflow,
      mv.source,
      path.join(cacheDir, `${name}-v${mv.version}`),
    );
    return { name, version: mv.version, ...bundle, loadedAt: new Date().toISOString() };
  };
}

/**
 * Starts the prediction API: loads the `production` model (retrying in the background until one
 * exists), listens on config.api, and refreshes the model every MODEL_REFRESH_SECONDS.
 */
export async function startServer(
  config: Config,
  log: Logger,
): Promise<{ server: Server; models: ModelHolder; url: string; close: () => Promise<void> }> {
  const mlflow = mlflowClientFromConfig(config);
  await checkMlflowAtStart(mlflow, log);
  const models = new ModelHolder(
    registryLoader(
      mlflow,
      config.mlflow.registeredModel,
      aliases.production,
      path.join(config.localDir, 'serving'),
    ),
    log,
  );
  await models.refresh();
  models.start(config.api.modelRefreshSeconds);
  const app = createApp({ models, log });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.api.port, config.api.host, () => resolve(s));
    s.once('error', reject);
  });
  const url = `http://${config.api.host}:${config.api.port}`;
  log.info({ url, model: models.current?.version ?? null }, 'prediction server listening');
  return {
    server,
    models,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        models.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
