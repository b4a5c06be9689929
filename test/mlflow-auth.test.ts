import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../src/config';
import { MlflowClient } from '../src/mlflow/client';
import { MlflowPermissionError } from '../src/mlflow/errors';
import { freePort, spawnDetached, stopProcess, waitUntilReady } from '../src/stack/processes';
import { toolPaths } from '../src/stack/tools';

// MLflow's own basic-auth app (mlflow[auth], pinned in python-tools.lock) on a free loopback port.
// The admin password below exists only inside this test's temporary folder.
describe('MlflowClient against an MLflow server with basic auth', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-auth-'));
  const pidFile = path.join(dir, 'server.pid');
  const logFile = path.join(dir, 'server.log');
  const admin = { username: 'admin', password: 'test-only-admin-password' };
  let trackingUri: string;

  beforeAll(async () => {
    const port = await freePort();
    trackingUri = `http://127.0.0.1:${port}`;
    fs.writeFileSync(
      path.join(dir, 'basic_auth.ini'),
      [
        '[mlflow]',
        'default_permission = READ',
        `database_uri = sqlite:///${path.join(dir, 'auth.db')}`,
        `admin_username = ${admin.username}`,
        `admin_password = ${admin.password}`,
        'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
        '',
      ].join('\n'),
    );
    const mlflow = toolPaths(
      process.env.ICECREAM_TOOLS_DIR ?? path.join(projectRoot, '.tools'),
    ).mlflow;
    spawnDetached(
      mlflow,
      [
        'server',
        '--app-name',
        'basic-auth',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--workers',
        '1',
        '--backend-store-uri',
        `sqlite:///${path.join(dir, 'mlflow.db')}`,
        '--artifacts-destination',
        path.join(dir, 'artifacts'),
      ],
      {
        logFile,
        pidFile,
        cwd: dir,
        env: {
          ...process.env,
          MLFLOW_AUTH_CONFIG_PATH: path.join(dir, 'basic_auth.ini'),
          MLFLOW_FLASK_SERVER_SECRET_KEY: 'test-only-secret',
          MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
          MLFLOW_DISABLE_TELEMETRY: 'true',
        },
      },
    );
    await waitUntilReady(
      'mlflow (basic auth)',
      async () => (await fetch(`${trackingUri}/health`)).ok,
      {
        pidFile,
        logFile,
        timeoutMs: 180_000,
      },
    );
  });

  afterAll(async () => {
    await stopProcess(pidFile);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a client without credentials with a typed, non-retryable error', async () => {
    const anonymous = new MlflowClient({ trackingUri });
    const err: unknown = await anonymous.ensureExperiment('auth-check').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowPermissionError);
    expect((err as MlflowPermissionError).status).toBe(401);
    expect((err as MlflowPermissionError).retryable).toBe(false);
  });

  it('refuses a wrong password', async () => {
    const wrong = new MlflowClient({ trackingUri, username: admin.username, password: 'nope' });
    await expect(wrong.checkServer()).rejects.toBeInstanceOf(MlflowPermissionError);
  });

  it('does everything the pipeline needs with basic credentials: runs, artifacts, registry', async () => {
    const client = new MlflowClient({ trackingUri, ...admin });
    expect((await client.checkServer()).major).toBe(3);
    const { experimentId } = await client.ensureExperiment('auth-check');
    const run = await client.createRun({ experimentId, runName: 'auth' });
    await client.logBatch({
      runId: run.info.run_id,
      metrics: [{ key: 'mae', value: 1.5 }],
      params: { a: '1' },
    });
    await client.uploadArtifact(run.info.artifact_uri, 'model/file.txt', 'hello');
    expect(
      (await client.downloadArtifact(run.info.artifact_uri, 'model/file.txt')).toString(),
    ).toBe('hello');
    await client.ensureRegisteredModel('auth-model');
    const { version } = await client.ensureModelVersionForRun({
      name: 'auth-model',
      source: `${run.info.artifact_uri}/model`,
      runId: run.info.run_id,
    });
    await client.setAlias('auth-model', 'production', version.version);
    expect((await client.getModelVersionByAlias('auth-model', 'production')).version).toBe(
      version.version,
    );
  });
});
