import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, projectRoot, type Config } from '../../src/config';
import { freePort } from '../../src/stack/processes';
import { stackDown, stackUp, type ServiceName } from '../../src/stack/stack';

export interface TestStack {
  config: Config;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts real services (the project's pinned Temporal dev server, MLflow server and/or
 * PostgreSQL; pass ['postgres'] explicitly, it is not in the default list) on free
 * loopback ports with their data in a new temporary folder. The Python tools are shared with the
 * project (.tools/, installed on first use). Call stop() in afterAll.
 */
export async function startTestStack(
  only: readonly ServiceName[] = ['temporal', 'mlflow'],
  extraEnv: Record<string, string> = {},
): Promise<TestStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-test-'));
  // as root, PostgreSQL runs as another user, who must be able to reach its data folder
  fs.chmodSync(dir, 0o755);
  const env = {
    ...process.env,
    ICECREAM_LOCAL_DIR: path.join(dir, 'local'),
    ICECREAM_TOOLS_DIR: process.env.ICECREAM_TOOLS_DIR ?? path.join(projectRoot, '.tools'),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    MLFLOW_PORT: String(await freePort()),
    PG_PORT: String(await freePort()),
    DATABASE_URL: '',
    API_PORT: String(await freePort()),
    METRICS_PORT: String(await freePort()),
    TEMPORAL_ADDRESS: '',
    MLFLOW_TRACKING_URI: '',
    LOG_LEVEL: 'warn',
    // a server started on this stack logs to PostgreSQL only when the stack runs one
    LIVE_STORE: only.includes('postgres') ? 'postgres' : 'memory',
    ...extraEnv,
  };
  const config = loadConfig(env);
  try {
    await stackUp(config, () => undefined, only);
  } catch (err) {
    // a service that failed to start must not outlive the test, nor its folder
    await stackDown(config).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    config,
    dir,
    async stop() {
      await stackDown(config);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
