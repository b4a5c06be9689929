import path from 'node:path';
import { z } from 'zod';

/** The project's root folder (this file sits one level below it, in src/ or dist/). */
export const projectRoot = path.resolve(__dirname, '..');

const emptyAsUnset = (v: unknown): unknown => (v === '' ? undefined : v);
// Defaults sit inside the preprocess so that an empty string falls back to them.
const port = (fallback: number) =>
  z.preprocess(emptyAsUnset, z.coerce.number().int().min(1).max(65535).default(fallback));
const positive = (fallback: number) =>
  z.preprocess(emptyAsUnset, z.coerce.number().positive().default(fallback));
const text = (fallback: string) => z.preprocess(emptyAsUnset, z.string().min(1).default(fallback));
const optionalText = z.preprocess(emptyAsUnset, z.string().min(1).optional());
const flag = (fallback: boolean) =>
  z.preprocess(
    emptyAsUnset,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  );
/** Asymmetric JWT signature algorithms: never "none", never an HMAC (alg confusion). */
export const jwtAlgorithmNames = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
const jwtAlgorithmList = z.preprocess(
  emptyAsUnset,
  z
    .string()
    .default('RS256,ES256')
    .transform((v) => v.split(/[\s,]+/).filter(Boolean))
    .pipe(
      z
        .array(
          z.enum(jwtAlgorithmNames, {
            error: (i) =>
              `${JSON.stringify(i.input)} is not an accepted algorithm (asymmetric only: ${jwtAlgorithmNames.join(', ')})`,
          }),
        )
        .min(1),
    ),
);

const schema = z.object({
  ICECREAM_LOCAL_DIR: text(path.join(projectRoot, '.local')),
  ICECREAM_TOOLS_DIR: text(path.join(projectRoot, '.tools')),
  ICECREAM_DATA: text(path.join(projectRoot, 'data', 'japan_icecream_tokyo_monthly.csv')),
  ICECREAM_DVC_FILE: text(path.join(projectRoot, 'data.dvc')),
  PYTHON: text('python3'),
  TEMPORAL_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  TEMPORAL_ADDRESS: optionalText,
  TEMPORAL_NAMESPACE: text('default'),
  TEMPORAL_TASK_QUEUE: text('icecream-pipeline'),
  MLFLOW_PORT: port(5000),
  MLFLOW_TRACKING_URI: optionalText,
  MLFLOW_TRACKING_USERNAME: optionalText,
  MLFLOW_TRACKING_PASSWORD: optionalText,
  MLFLOW_TRACKING_TOKEN: optionalText,
  MLFLOW_EXPERIMENT_NAME: text('ice-cream-sales'),
  MLFLOW_REGISTERED_MODEL: text('ice-cream-sales'),
  PG_PORT: port(5433),
  DATABASE_URL: optionalText,
  API_HOST: text('127.0.0.1'),
  API_PORT: port(8080),
  MODEL_REFRESH_SECONDS: positive(30),
  API_WORKERS: z.preprocess(emptyAsUnset, z.coerce.number().int().min(1).max(64).default(1)),
  API_MAX_BATCH: z.preprocess(emptyAsUnset, z.coerce.number().int().min(1).default(1000)),
  API_MAX_BODY_KB: positive(256),
  API_SHUTDOWN_SECONDS: positive(10),
  FORECAST_MAX_HORIZON: z.preprocess(emptyAsUnset, z.coerce.number().int().min(1).optional()),
  METRICS_HOST: text('127.0.0.1'),
  WORKER_METRICS_PORT: z.preprocess(
    emptyAsUnset,
    z.coerce.number().int().min(0).max(65535).default(9465),
  ),
  METRICS_PORT: z.preprocess(emptyAsUnset, z.coerce.number().int().min(0).max(65535).default(9464)),
  LIVE_WINDOWS: text('1h,24h,7d,last100'),
  LIVE_UPDATE_SECONDS: positive(15),
  LIVE_STORE: z.preprocess(emptyAsUnset, z.enum(['postgres', 'memory']).default('postgres')),
  LIVE_MAE_RETRAIN_RATIO: z.preprocess(emptyAsUnset, z.coerce.number().min(0).default(1.5)),
  LIVE_MAE_RETRAIN_MIN_LABELS: z.preprocess(
    emptyAsUnset,
    z.coerce.number().int().min(1).default(20),
  ),
  LIVE_MAE_RETRAIN_WINDOW: optionalText,
  RETRAIN_INPUT: optionalText,
  CANARY_MODE: z.preprocess(emptyAsUnset, z.enum(['off', 'canary', 'shadow']).default('off')),
  CANARY_SHARE: z.preprocess(emptyAsUnset, z.coerce.number().min(0).max(1).default(0.1)),
  CANARY_ANALYSIS_SECONDS: positive(60),
  CANARY_WINDOW_SECONDS: positive(3600),
  CANARY_MIN_REQUESTS: z.preprocess(emptyAsUnset, z.coerce.number().int().min(1).default(50)),
  CANARY_MIN_LABELS: z.preprocess(emptyAsUnset, z.coerce.number().int().min(3).default(20)),
  CANARY_P99_RATIO: positive(1.2),
  DRIFT_CHECK_SECONDS: positive(60),
  DRIFT_WINDOW_PERIODS: z.preprocess(emptyAsUnset, z.coerce.number().int().min(2).default(60)),
  DRIFT_MIN_ROWS: z.preprocess(emptyAsUnset, z.coerce.number().int().min(2).default(24)),
  DRIFT_SUSTAINED_CHECKS: z.preprocess(emptyAsUnset, z.coerce.number().int().min(1).default(3)),
  CANARY_P99_MAX_MS: positive(500),
  LOG_LEVEL: z.preprocess(
    emptyAsUnset,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  STACK_START_TIMEOUT_SECONDS: positive(180),
  ICECREAM_CACHE_MAX_MB: positive(1024),
  ICECREAM_API_URL: optionalText,
  ICECREAM_API_KEY: optionalText,
  // set by the image build (Dockerfile build args): the image has no .git to ask
  ICECREAM_GIT_COMMIT: optionalText,
  ICECREAM_PACKAGE_LOCK_SHA256: optionalText,
  ICECREAM_PYTHON_TOOLS_LOCK_SHA256: optionalText,
  ICECREAM_GIT_DIRTY: optionalText,
  ICECREAM_DATA_DVC_SHA256: optionalText,
  AUTH_DISABLED: flag(false),
  AUTH_KEYS_FILE: optionalText,
  AUTH_JWKS_URL: z.preprocess(emptyAsUnset, z.url({ protocol: /^https?$/ }).optional()),
  AUTH_JWT_ISSUER: optionalText,
  AUTH_JWT_AUDIENCE: optionalText,
  AUTH_JWT_ALGORITHMS: jwtAlgorithmList,
  RATE_LIMIT_PER_SECOND: positive(1000),
  RATE_LIMIT_BURST: z.preprocess(emptyAsUnset, z.coerce.number().int().min(1).default(2000)),
});

/** Every environment variable the product reads. */
export const configVariables = Object.keys(schema.shape);

export interface Config {
  /** Folder for pids, logs, the Temporal SQLite file and MLflow's store and artifacts. */
  localDir: string;
  /** Folder of the project's Python virtualenv (mlflow, dvc, temporal). */
  toolsDir: string;
  python: string;
  /** Default dataset (a CSV tracked by DVC) and the .dvc file that pins its md5. */
  dataPath: string;
  dvcFile: string;
  temporal: { port: number; uiPort: number; address: string; namespace: string; taskQueue: string };
  mlflow: {
    port: number;
    trackingUri: string;
    username: string | undefined;
    password: string | undefined;
    token: string | undefined;
    experimentName: string;
    registeredModel: string;
  };
  /**
   * PostgreSQL (prediction log, feedback, live history, monitoring). `external` is true when
   * DATABASE_URL is set: then the stack starts no local server and `url` is that database.
   */
  postgres: { port: number; url: string; external: boolean };
  api: {
    host: string;
    port: number;
    modelRefreshSeconds: number;
    /** Processes serving the port (node:cluster) when > 1. */
    workers: number;
    maxBatch: number;
    maxBodyBytes: number;
    /** How long SIGTERM waits for requests in flight. */
    shutdownMs: number;
    /** Periods past the history a request may ask for; by the data's frequency when unset. */
    maxHorizon: number | undefined;
    /** The open Prometheus endpoint; port 0 turns it off. */
    metricsHost: string;
    metricsPort: number;
  };
  /** The worker process's Prometheus endpoint (the Temporal SDK's exporter) on METRICS_HOST; 0: off. */
  workerMetricsPort: number;
  /** Live quality: the windows of `icecream_live_mae` & co. and how often they are recomputed. */
  live: {
    windows: LiveWindow[];
    updateSeconds: number;
    store: 'postgres' | 'memory';
    /**
     * Retraining on live quality: the production model's live MAE over `window` (one of
     * LIVE_WINDOWS' labels), from at least `minLabels` actuals, above `ratio` x its holdout MAE
     * starts retraining once per episode; ratio 0 turns it off.
     */
    retrain: { ratio: number; minLabels: number; window: string };
  };
  /** Canary and shadow releases of the `staging` model. */
  canary: {
    mode: 'off' | 'canary' | 'shadow';
    share: number;
    analysisSeconds: number;
    windowSeconds: number;
    minRequests: number;
    minLabels: number;
    /** Latency gate: canary p99 <= ratio x production p99 and <= the absolute limit. */
    p99Ratio: number;
    p99MaxSeconds: number;
  };
  /** The drift check of recent requests against the serving model's training history. */
  drift: { checkSeconds: number; windowPeriods: number; minRows: number; sustainedChecks: number };
  /** Where the CLI's client commands (`icecream simulate`) reach the API, and the key they send. */
  /**
   * Alarm-triggered retraining (drift, live MAE): the `trainingPipeline` input overrides every
   * such run gets (RETRAIN_INPUT, a JSON object, e.g. `{"budget": 5}`; checked against the
   * pipeline's input schema where the trigger is built). Default `{}`: the worker's defaults.
   */
  retrain: { input: Record<string, unknown> };
  client: { apiUrl: string; apiKey: string | undefined };
  auth: {
    /** AUTH_DISABLED=true: no credentials needed (local experiments only). */
    disabled: boolean;
    /** The API key file (hashed keys), shared by every API process on the host. */
    keysFile: string;
    /** OAuth2 bearer JWTs, when AUTH_JWKS_URL is set. */
    jwt:
      | {
          jwksUrl: string;
          issuer: string;
          audience: string;
          algorithms: (typeof jwtAlgorithmNames)[number][];
        }
      | undefined;
    /** Token bucket per client, per process. */
    rateLimit: { perSecond: number; burst: number };
  };
  pipeline: {
    /** bound of each worker's digest-keyed cache of data and step outputs (`<localDir>/cache`) */
    cacheMaxBytes: number;
  };
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  stackStartTimeoutMs: number;
  /** The environment child processes (servers, tools) inherit. */
  childEnv: Readonly<Record<string, string | undefined>>;
}

/**
 * Role, password and database of the local PostgreSQL that `icecream stack up` creates. The
 * password is a fixed local-only default: that server listens on 127.0.0.1 only and holds
 * nothing but this project's local data. Any real deployment sets DATABASE_URL instead.
 */
export const localDatabase = {
  user: 'icecream',
  password: 'icecream-local-only',
  database: 'icecream',
} as const;

function localDatabaseUrl(port: number): string {
  const { user, password, database } = localDatabase;
  return `postgres://${user}:${password}@127.0.0.1:${port}/${database}`;
}

/**
 * A live-quality window: a duration (`30m`, `1h`, `24h`, `7d`: predictions made in it) or a count
 * (`last100`: the latest 100 predictions with an actual, which suits monthly data).
 */
export interface LiveWindow {
  label: string;
  ms?: number;
  count?: number;
}

const unitMs = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses LIVE_WINDOWS; undefined when an item is neither a duration nor `lastN`. */
export function parseLiveWindows(text: string): LiveWindow[] | undefined {
  const out: LiveWindow[] = [];
  for (const item of text.split(',').map((s) => s.trim())) {
    const d = /^(\d+)([smhd])$/.exec(item);
    const c = /^last(\d+)$/.exec(item);
    if (d && Number(d[1]) > 0) out.push({ label: item, ms: Number(d[1]) * unitMs[d[2] as 's'] });
    else if (c && Number(c[1]) > 0) out.push({ label: item, count: Number(c[1]) });
    else return undefined;
  }
  return out;
}

/** What the image build recorded about its source (unset outside an image). */
export interface BuildInfo {
  gitCommit: string | undefined;
  /** 'false' when the image was built from a clean checkout (CI checks before building). */
  gitDirty: 'true' | 'false' | undefined;
  /** sha256 of data.dvc at the commit: the data file a run in the image uses is pinned when equal. */
  dataDvcSha256: string | undefined;
  packageLockSha256: string | undefined;
  pythonToolsLockSha256: string | undefined;
}

/**
 * Reads only the build-time variables (ICECREAM_GIT_COMMIT and the lock hashes the Dockerfile
 * sets from its build args). Never throws: a value that is not a usable string counts as unset.
 */
export function loadBuildInfo(env: Record<string, string | undefined> = process.env): BuildInfo {
  const value = (key: string): string | undefined => {
    const parsed = optionalText.safeParse(env[key]);
    return parsed.success ? parsed.data : undefined;
  };
  return {
    gitCommit: value('ICECREAM_GIT_COMMIT'),
    gitDirty: ((d) => (d === 'true' || d === 'false' ? d : undefined))(value('ICECREAM_GIT_DIRTY')),
    dataDvcSha256: value('ICECREAM_DATA_DVC_SHA256'),
    packageLockSha256: value('ICECREAM_PACKAGE_LOCK_SHA256'),
    pythonToolsLockSha256: value('ICECREAM_PYTHON_TOOLS_LOCK_SHA256'),
  };
}

/** A configuration problem: lists every invalid variable at once. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the configuration from an environment (process.env by default).
 * The only code in the project that reads environment variables.
 * @throws ConfigError listing every invalid variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  if (e.AUTH_JWKS_URL && !(e.AUTH_JWT_ISSUER && e.AUTH_JWT_AUDIENCE)) {
    throw new ConfigError(
      [
        !e.AUTH_JWT_ISSUER && 'AUTH_JWT_ISSUER: required when AUTH_JWKS_URL is set',
        !e.AUTH_JWT_AUDIENCE && 'AUTH_JWT_AUDIENCE: required when AUTH_JWKS_URL is set',
      ].filter((m): m is string => typeof m === 'string'),
    );
  }
  const localDir = path.resolve(e.ICECREAM_LOCAL_DIR);
  const windows = parseLiveWindows(e.LIVE_WINDOWS);
  if (!windows)
    throw new ConfigError([
      `LIVE_WINDOWS: "${e.LIVE_WINDOWS}" must list durations (30m, 1h, 24h, 7d) or counts (last100), comma-separated`,
    ]);
  let retrainInput: unknown = {};
  try {
    retrainInput = JSON.parse(e.RETRAIN_INPUT ?? '{}');
  } catch {
    retrainInput = undefined;
  }
  if (typeof retrainInput !== 'object' || retrainInput === null || Array.isArray(retrainInput))
    throw new ConfigError([
      `RETRAIN_INPUT: must be one JSON object of pipeline input fields, e.g. {"budget": 5}`,
    ]);
  // by default the first count window (monthly data: `last100`), else the longest duration
  const retrainWindow =
    e.LIVE_MAE_RETRAIN_WINDOW ??
    (windows.find((w) => w.count !== undefined) ??
      [...windows].sort((a, b) => (b.ms ?? 0) - (a.ms ?? 0))[0])!.label;
  if (!windows.some((w) => w.label === retrainWindow))
    throw new ConfigError([
      `LIVE_MAE_RETRAIN_WINDOW: "${retrainWindow}" must be one of LIVE_WINDOWS (${windows.map((w) => w.label).join(', ')})`,
    ]);
  return {
    localDir,
    toolsDir: path.resolve(e.ICECREAM_TOOLS_DIR),
    python: e.PYTHON,
    dataPath: path.resolve(e.ICECREAM_DATA),
    dvcFile: path.resolve(e.ICECREAM_DVC_FILE),
    temporal: {
      port: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      address: e.TEMPORAL_ADDRESS ?? `127.0.0.1:${e.TEMPORAL_PORT}`,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
    },
    mlflow: {
      port: e.MLFLOW_PORT,
      trackingUri: (e.MLFLOW_TRACKING_URI ?? `http://127.0.0.1:${e.MLFLOW_PORT}`).replace(
        /\/+$/,
        '',
      ),
      username: e.MLFLOW_TRACKING_USERNAME,
      password: e.MLFLOW_TRACKING_PASSWORD,
      token: e.MLFLOW_TRACKING_TOKEN,
      experimentName: e.MLFLOW_EXPERIMENT_NAME,
      registeredModel: e.MLFLOW_REGISTERED_MODEL,
    },
    postgres: {
      port: e.PG_PORT,
      url: e.DATABASE_URL ?? localDatabaseUrl(e.PG_PORT),
      external: e.DATABASE_URL !== undefined,
    },
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      modelRefreshSeconds: e.MODEL_REFRESH_SECONDS,
      workers: e.API_WORKERS,
      maxBatch: e.API_MAX_BATCH,
      maxBodyBytes: Math.round(e.API_MAX_BODY_KB * 1024),
      shutdownMs: e.API_SHUTDOWN_SECONDS * 1000,
      maxHorizon: e.FORECAST_MAX_HORIZON,
      metricsHost: e.METRICS_HOST,
      metricsPort: e.METRICS_PORT,
    },
    workerMetricsPort: e.WORKER_METRICS_PORT,
    live: {
      windows,
      updateSeconds: e.LIVE_UPDATE_SECONDS,
      store: e.LIVE_STORE,
      retrain: {
        ratio: e.LIVE_MAE_RETRAIN_RATIO,
        minLabels: e.LIVE_MAE_RETRAIN_MIN_LABELS,
        window: retrainWindow,
      },
    },
    canary: {
      mode: e.CANARY_MODE,
      share: e.CANARY_SHARE,
      analysisSeconds: e.CANARY_ANALYSIS_SECONDS,
      windowSeconds: e.CANARY_WINDOW_SECONDS,
      minRequests: e.CANARY_MIN_REQUESTS,
      minLabels: e.CANARY_MIN_LABELS,
      p99Ratio: e.CANARY_P99_RATIO,
      p99MaxSeconds: e.CANARY_P99_MAX_MS / 1000,
    },
    drift: {
      checkSeconds: e.DRIFT_CHECK_SECONDS,
      windowPeriods: e.DRIFT_WINDOW_PERIODS,
      minRows: e.DRIFT_MIN_ROWS,
      sustainedChecks: e.DRIFT_SUSTAINED_CHECKS,
    },
    retrain: { input: retrainInput as Record<string, unknown> },
    client: {
      apiUrl: (e.ICECREAM_API_URL ?? `http://127.0.0.1:${e.API_PORT}`).replace(/\/+$/, ''),
      apiKey: e.ICECREAM_API_KEY,
    },
    auth: {
      disabled: e.AUTH_DISABLED,
      keysFile: path.resolve(e.AUTH_KEYS_FILE ?? path.join(localDir, 'api-keys.json')),
      jwt:
        e.AUTH_JWKS_URL && e.AUTH_JWT_ISSUER && e.AUTH_JWT_AUDIENCE
          ? {
              jwksUrl: e.AUTH_JWKS_URL,
              issuer: e.AUTH_JWT_ISSUER,
              audience: e.AUTH_JWT_AUDIENCE,
              algorithms: e.AUTH_JWT_ALGORITHMS,
            }
          : undefined,
      rateLimit: { perSecond: e.RATE_LIMIT_PER_SECOND, burst: e.RATE_LIMIT_BURST },
    },
    pipeline: { cacheMaxBytes: Math.round(e.ICECREAM_CACHE_MAX_MB * 1024 * 1024) },
    logLevel: e.LOG_LEVEL,
    stackStartTimeoutMs: e.STACK_START_TIMEOUT_SECONDS * 1000,
    childEnv: {
      ...env,
      MLFLOW_DISABLE_TELEMETRY: 'true',
      DO_NOT_TRACK: '1',
      DVC_NO_ANALYTICS: '1',
    },
  };
}
