/**
 * The release control the prediction server gets from the registry governance: wired here, outside
 * src/server (which never imports the pipeline), and passed in by the entry points.
 */
import type { Config } from './config';
import type { MlflowClient } from './mlflow/client';
import { mlflowClientFromConfig } from './mlflow/from-config';
import { publishModelCard } from './pipeline/model-card-record';
import {
  aliases,
  moveAlias,
  readHistory,
  recordEvent,
  RegistryActionError,
  rollback,
} from './pipeline/registry';
import { temporalRetrainTrigger } from './pipeline/trigger';
import type { RetrainTrigger } from './retraining';
import { AdminActionError, type AdminActions } from './server/admin';

async function mapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof RegistryActionError) throw new AdminActionError(err.message);
    throw err;
  }
}

/**
 * Promote / roll back / reject through src/pipeline/registry.ts: aliases in MLflow, audited; the
 * model card of the version production now points at is published again (it states the decision).
 */
export function registryAdminActions(mlflow: MlflowClient, name: string): AdminActions {
  return {
    promote: ({ version, reason, by }) =>
      mapped(async () => {
        const moved = await moveAlias(mlflow, name, aliases.production, version, {
          action: 'promote',
          by,
          reason,
        });
        if (moved.event) await publishModelCard(mlflow, name, version);
        return moved.event;
      }),
    rollback: ({ to, reason, by }) =>
      mapped(async () => {
        const back = await rollback(mlflow, name, { to, by, reason });
        await publishModelCard(mlflow, name, back.to);
        return back.event;
      }),
    rejectCanary: ({ version, reason, by }) =>
      mapped(() =>
        recordEvent(mlflow, name, {
          action: 'reject',
          alias: aliases.staging,
          from: version,
          to: version,
          by,
          reason,
        }),
      ),
    history: () => readHistory(mlflow, name),
  };
}

/** The server's admin actions for a configuration's MLflow and registered model. */
export function servingAdminFromConfig(config: Config): AdminActions {
  return registryAdminActions(mlflowClientFromConfig(config), config.mlflow.registeredModel);
}

/** What the entry points pass to the server: registry actions and the retraining trigger. */
export function servingWiring(config: Config): { admin: AdminActions; retrain: RetrainTrigger } {
  return { admin: servingAdminFromConfig(config), retrain: temporalRetrainTrigger(config) };
}
