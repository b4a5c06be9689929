import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Config } from '../config';
import {
  PortInUseError,
  isPortFree,
  runningPid,
  spawnDetached,
  stopProcess,
  waitUntilReady,
} from './processes';
import {
  bootstrapLocalPostgres,
  initPostgresCluster,
  postgresAnswers,
  postgresArgs,
  postgresBinaries,
  postgresPaths,
  postgresRunAs,
} from './postgres';
import { ensureTools, toolPaths, type Tools } from './tools';

export const serviceNames = ['temporal', 'mlflow', 'postgres'] as const;
export type ServiceName = (typeof serviceNames)[number];

export interface ServiceStatus {
  name: ServiceName;
  pid: number | undefined;
  ready: boolean;
  url: string;
  uiUrl: string;
  logFile: string;
}

interface ServiceSpec {
  name: ServiceName;
  dir: string;
  pidFile: string;
  logFile: string;
  ports: { port: number; variable: string }[];
  url: string;
  uiUrl: string;
  command: (tools: Tools) => [string, string[]];
  /** the command comes from the project's Python tools (installed on first use) */
  pythonTools: boolean;
  env?: Record<string, string>;
  /** readiness (also used by `stack status`) */
  probe: () => Promise<boolean>;
  /** readiness while starting, when it differs from `probe` (e.g. also creates what is missing) */
  startProbe?: () => Promise<boolean>;
  /** runs before the first start of the process (e.g. initdb) */
  prepare?: () => Promise<void>;
  /** the OS user to run the server as (PostgreSQL refuses root) */
  runAs?: () => { uid: number; gid: number } | undefined;
  /** SIGTERM unless the server wants another signal for a clean, quick shutdown */
  stopSignal?: NodeJS.Signals;
}

function services(config: Config): ServiceSpec[] {
  const t = config.temporal;
  const m = config.mlflow;
  const temporalDir = path.join(config.localDir, 'temporal');
  const mlflowDir = path.join(config.localDir, 'mlflow');
  const pgPaths = postgresPaths(config.localDir);
  const pgLog = path.join(pgPaths.dir, 'server.log');
  const postgres: ServiceSpec = {
    name: 'postgres',
    pythonTools: false,
    dir: pgPaths.dir,
    pidFile: path.join(pgPaths.dir, 'server.pid'),
    logFile: pgLog,
    ports: [{ port: config.postgres.port, variable: 'PG_PORT' }],
    url: `postgres://127.0.0.1:${config.postgres.port}/icecream`,
    uiUrl: '',
    command: () => [
      postgresBinaries().postgres,
      postgresArgs(pgPaths.dataDir, config.postgres.port),
    ],
    env: { LC_ALL: 'C' },
    prepare: async () => {
      await initPostgresCluster(
        postgresBinaries(),
        pgPaths,
        postgresRunAs(),
        pgLog,
        config.childEnv,
      );
    },
    runAs: postgresRunAs,
    probe: () => postgresAnswers(config.postgres.url),
    startProbe: () => bootstrapLocalPostgres(config.postgres.port, pgPaths, config.postgres.url),
    // SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") waits for every client to leave
    stopSignal: 'SIGINT',
  };
  return [
    {
      name: 'temporal',
      pythonTools: true,
      dir: temporalDir,
      pidFile: path.join(temporalDir, 'server.pid'),
      logFile: path.join(temporalDir, 'server.log'),
      ports: [
        { port: t.port, variable: 'TEMPORAL_PORT' },
        { port: t.uiPort, variable: 'TEMPORAL_UI_PORT' },
      ],
      url: `127.0.0.1:${t.port}`,
      uiUrl: `http://127.0.0.1:${t.uiPort}`,
      command: (tools) => [
        tools.temporal,
        [
          'server',
          'start-dev',
          '--ip',
          '127.0.0.1',
          '--port',
          String(t.port),
          '--ui-port',
          String(t.uiPort),
          '--db-filename',
          path.join(temporalDir, 'temporal.db'),
          '--namespace',
          t.namespace,
          '--log-level',
          'warn',
          '--ui-disable-news-fetch',
        ],
      ],
      probe: () => temporalNamespaceAnswers(`127.0.0.1:${t.port}`, t.namespace),
    },
    {
      name: 'mlflow',
      pythonTools: true,
      dir: mlflowDir,
      pidFile: path.join(mlflowDir, 'server.pid'),
      logFile: path.join(mlflowDir, 'server.log'),
      ports: [{ port: m.port, variable: 'MLFLOW_PORT' }],
      url: `http://127.0.0.1:${m.port}`,
      uiUrl: `http://127.0.0.1:${m.port}`,
      command: (tools) => [
        tools.mlflow,
        [
          'server',
          '--host',
          '127.0.0.1',
          '--port',
          String(m.port),
          // one worker: SQLite serialises writers, more workers only add "database is locked"
          '--workers',
          '1',
          '--backend-store-uri',
          `sqlite:///${path.join(mlflowDir, 'mlflow.db')}`,
          '--serve-artifacts',
          '--artifacts-destination',
          path.join(mlflowDir, 'artifacts'),
        ],
      ],
      // the job runner (huey consumers, for GenAI scorers) is not used here and costs ~1 GB RAM
      env: { MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' },
      probe: () => mlflowAnswers(`http://127.0.0.1:${m.port}`),
    },
    // with DATABASE_URL the service uses that database: no local server
    ...(config.postgres.external ? [] : [postgres]),
  ];
}

async function temporalNamespaceAnswers(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}

async function mlflowAnswers(url: string): Promise<boolean> {
  const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
  if (!health.ok) return false;
  const version = await fetch(`${url}/version`, { signal: AbortSignal.timeout(2000) });
  return version.ok && /^\d+\.\d+/.test((await version.text()).trim());
}

/**
 * Starts every local service that is not running yet and waits until each is usable
 * (Temporal: the namespace answers; MLflow: /health and /version; PostgreSQL: `SELECT 1` as the
 * application role, after creating that role and its database on first start; no local
 * PostgreSQL when DATABASE_URL points at an external one). Services this project
 * already runs are re-used. Data lives under config.localDir and survives down/up.
 * @returns the names of the services this call started.
 * @throws PortInUseError when a port is held by another process; ServiceStartError on timeout.
 */
export async function stackUp(
  config: Config,
  onMessage: (m: string) => void = () => undefined,
  only: readonly ServiceName[] = serviceNames,
): Promise<ServiceName[]> {
  const specs = services(config).filter((s) => only.includes(s.name));
  const tools = specs.some((s) => s.pythonTools)
    ? await ensureTools(config.toolsDir, config.python, onMessage)
    : toolPaths(config.toolsDir);
  const toStart: ServiceSpec[] = [];
  for (const spec of specs) {
    if (runningPid(spec.pidFile) !== undefined) continue;
    for (const { port, variable } of spec.ports) {
      if (!(await isPortFree(port))) {
        throw new PortInUseError(
          spec.name,
          port,
          `Stop that process or choose another port with ${variable}=...`,
        );
      }
    }
    toStart.push(spec);
  }
  for (const spec of toStart) {
    fs.mkdirSync(spec.dir, { recursive: true });
    await spec.prepare?.();
    const [command, args] = spec.command(tools);
    onMessage(`starting ${spec.name} (log: ${spec.logFile})`);
    spawnDetached(command, args, {
      logFile: spec.logFile,
      pidFile: spec.pidFile,
      env: { ...config.childEnv, ...spec.env },
      cwd: spec.dir,
      user: spec.runAs?.(),
    });
  }
  // wait for all, in parallel, even those that were already running
  await Promise.all(
    specs.map((spec) =>
      waitUntilReady(spec.name, spec.startProbe ?? spec.probe, {
        pidFile: spec.pidFile,
        logFile: spec.logFile,
        timeoutMs: config.stackStartTimeoutMs,
      }),
    ),
  );
  return toStart.map((s) => s.name);
}

/** Stops the given services (default: all) started by this project. Data is kept. */
export async function stackDown(
  config: Config,
  only: readonly ServiceName[] = serviceNames,
): Promise<ServiceName[]> {
  const stopped: ServiceName[] = [];
  for (const spec of services(config).filter((s) => only.includes(s.name))) {
    if (await stopProcess(spec.pidFile, undefined, spec.stopSignal)) stopped.push(spec.name);
  }
  return stopped;
}

export async function stackStatus(config: Config): Promise<ServiceStatus[]> {
  return Promise.all(
    services(config).map(async (spec) => {
      const pid = runningPid(spec.pidFile);
      const ready = pid !== undefined && (await spec.probe().catch(() => false));
      return {
        name: spec.name,
        pid,
        ready,
        url: spec.url,
        uiUrl: spec.uiUrl,
        logFile: spec.logFile,
      };
    }),
  );
}
