import type { Command } from 'commander';
import { loadConfig, projectRoot, type Config } from '../config';
import { Dvc, ensureDataset } from '../data/dvc';
import { createLogger } from '../logger';
import type { ModelFamily } from '../ml';
import { addPeriods, formatDay, parseDay } from '../ml/dates';
import { runTrainingPipeline } from '../pipeline/start';
import { pipelineProgressPrinter } from './progress';
import type { TrainingPipelineInput, TrainingPipelineResult } from '../pipeline/types';
import { FileKeyStore, gateFromConfig, scopes } from '../server/auth';
import { serveApi } from '../server/cluster';
import type { ServingModel } from '../server/model-holder';
import { startServer } from '../server/server';
import { servingWiring } from '../serving-admin';
import { PortInUseError, isPortFree } from '../stack/processes';
import { stackDown, stackUp } from '../stack/stack';
import { ensureTools } from '../stack/tools';
import {
  createPipelineWorker,
  installTemporalLogging,
  runWorker,
  workerQueues,
  type WorkerQueue,
} from '../worker/worker';

const say = (m: string): void => void process.stderr.write(`${m}\n`);

function summary(r: TrainingPipelineResult): string {
  return [
    `trained on ${r.rows} rows (data md5 ${r.dataMd5})`,
    `holdout MAE ${r.metrics.mae.toFixed(2)}  RMSE ${r.metrics.rmse.toFixed(2)}  (seasonal naive MAE ${r.baselines.seasonalNaive.mae.toFixed(2)}, last value MAE ${r.baselines.lastValue.mae.toFixed(2)})`,
    `registered ${r.register.modelName} version ${r.register.version} (MLflow run ${r.register.runId})`,
    `${r.promote.promoted ? 'promoted to production' : 'not promoted'}: ${r.promote.reason}`,
  ].join('\n');
}

/** The flags of `icecream train`. */
interface TrainFlags {
  family?: string;
  holdout?: number;
  seed?: number;
  budget?: number;
  reason?: string;
  force?: boolean;
  json?: boolean;
}

function trainingInput(o: TrainFlags): TrainingPipelineInput {
  return {
    ...(o.family ? { family: o.family as ModelFamily } : {}),
    ...(o.holdout !== undefined ? { holdout: o.holdout } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.budget !== undefined ? { budget: o.budget } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.force ? { force: true } : {}),
  };
}

const reusedNote = (workflowId: string): string =>
  `same data, config and code as workflow ${workflowId}, which already trained: returning its result (--force trains again)`;

async function prepareData(config: Config): Promise<void> {
  const tools = await ensureTools(config.toolsDir, config.python, say);
  const ref = await ensureDataset(
    new Dvc(tools.dvc, projectRoot, config.childEnv),
    config.dataPath,
    config.dvcFile,
  );
  say(`dataset ${ref.path} (md5 ${ref.md5}, pinned by ${ref.dvcFile})`);
}

/**
 * The curl example printed by `start`: a prediction at 28.5 deg C for `date` (default: next
 * month), with the API key (or a shell variable holding it) when authentication is on.
 */
export function curlExample(apiUrl: string, apiKey?: string, date?: string): string {
  const d = new Date();
  const next =
    date ??
    new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString().slice(0, 10);
  const auth = apiKey === undefined ? '' : ` -H "Authorization: Bearer ${apiKey}"`;
  return `curl -s -X POST ${apiUrl}/v1/predict${auth} -H 'content-type: application/json' -d '{"date":"${next}","temperature":28.5}'`;
}

/** The first date after a model's history: a forecast it answers (within its horizon). */
function nextPeriod(model: ServingModel | undefined): string | undefined {
  if (!model?.lastDate) return undefined;
  const frequency = model.forecaster.features.frequency;
  return formatDay(addPeriods(parseDay(model.lastDate), 1, frequency));
}

/**
 * How `start` tells the user to authenticate: on the first run it creates a key named `local`
 * with every scope (stored hashed) and returns it to be printed once; later runs only say that
 * keys exist and how to make another.
 */
export async function localAccess(
  config: Config,
): Promise<{ lines: string[]; curlKey: string | undefined }> {
  if (config.auth.disabled) {
    return { lines: ['Auth         off (AUTH_DISABLED=true): no key needed'], curlKey: undefined };
  }
  const store = new FileKeyStore(config.auth.keysFile);
  try {
    const active = (await store.list()).filter((k) => k.revokedAt === null);
    if (active.length === 0) {
      const { key } = await store.create({ name: 'local', scopes });
      return {
        lines: [
          `API key      ${key}`,
          `             (new, named "local", scopes ${scopes.join(',')}; shown only this once,`,
          `             kept as a salted hash in ${config.auth.keysFile})`,
        ],
        curlKey: key,
      };
    }
    return {
      lines: [
        `API keys     ${active.map((k) => k.name).join(', ')} in ${config.auth.keysFile} (shown only when created)`,
        `             a new one: npx icecream keys create --name me --scopes predict`,
        '             then: export ICECREAM_API_KEY=<the key>',
      ],
      curlKey: '$ICECREAM_API_KEY',
    };
  } finally {
    await store.close();
  }
}

export function registerRun(program: Command): void {
  program
    .command('setup')
    .description(
      'install the pinned Python tools into .tools/ and pull the default dataset (other commands do this when needed)',
    )
    .action(async () => {
      await prepareData(loadConfig());
    });

  program
    .command('worker')
    .description(
      'run a Temporal worker for the training pipeline (until Ctrl-C); start more on any host to scale out',
    )
    .option(
      '--queues <list>',
      'task queues to serve: pipeline (workflow, I/O steps), training (model search), or both',
      'pipeline,training',
    )
    .option(
      '--concurrency <n>',
      'training activities at once in this process (default: CPUs)',
      (v) => Number(v),
    )
    .action(async (o: { queues: string; concurrency?: number }) => {
      const config = loadConfig();
      const queues = o.queues.split(',').map((q) => q.trim());
      const unknown = queues.filter((q) => !(workerQueues as readonly string[]).includes(q));
      if (unknown.length || queues.length === 0)
        throw new Error(
          `--queues: unknown queue ${unknown.join(', ') || '(none)'}; use ${workerQueues.join(', ')}`,
        );
      await runWorker(config, createLogger(config.logLevel, 'worker'), {
        queues: queues as WorkerQueue[],
        ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
      });
    });

  program
    .command('serve')
    .description('serve predictions from the model the registry marks production (until Ctrl-C)')
    .action(async () => {
      const config = loadConfig();
      const log = createLogger(config.logLevel, 'api', { buffered: true });
      const { stop } = await serveApi(config, log, {
        gate: gateFromConfig(config.auth, log),
        ...servingWiring(config),
      });
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await stop();
      // drained: exit (a cluster worker's IPC channel would otherwise keep it alive)
      log.flush(() => process.exit(0));
    });

  program
    .command('train')
    .description('start the training pipeline on Temporal (a worker must run) and wait for it')
    .option('--family <name>', 'model family (default: ridge)')
    .option('--holdout <rows>', 'rows kept for evaluation', (v) => Number(v))
    .option('--seed <n>', 'seed', (v) => Number(v))
    .option('--budget <n>', 'hyperparameter candidates per family', (v) => Number(v))
    .option('--reason <text>', 'why this run was started (recorded on the MLflow run)')
    .option('--force', 'train even if the same data, config and code already trained')
    .option('--json', 'print the result as JSON')
    .action(async (o: TrainFlags) => {
      const config = loadConfig();
      const { workflowId, result, reused } = await runTrainingPipeline(
        config,
        trainingInput(o),
        o.json ? undefined : pipelineProgressPrinter(),
      );
      if (reused && !o.json) say(reusedNote(workflowId));
      process.stdout.write(
        o.json
          ? `${JSON.stringify({ workflowId, reused, ...result }, null, 2)}\n`
          : `${summary(result)}\n`,
      );
    });

  program
    .command('start')
    .description(
      'the main job: stack up, worker, training pipeline on the default dataset, prediction server',
    )
    .option('--family <name>', 'model family (default: ridge)')
    .option('--force', 'train even if the same data, config and code already trained')
    .action(async (o: { family?: string; force?: boolean }) => {
      const config = loadConfig();
      const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
      installTemporalLogging(
        config.logLevel === 'debug' || config.logLevel === 'trace' ? 'DEBUG' : 'ERROR',
      );
      // fail before training, not after, when the API port is taken
      if (!(await isPortFree(config.api.port))) {
        throw new PortInUseError(
          'api',
          config.api.port,
          'Is another `icecream start` or `serve` running? Stop it or set API_PORT=...',
        );
      }
      await prepareData(config);
      const started = await stackUp(config, say);
      say(
        started.length ? `started ${started.join(' and ')}` : 're-using the running local services',
      );
      const { worker, connection } = await createPipelineWorker(config, log);
      const workerRun = worker.run();
      let server: Awaited<ReturnType<typeof startServer>> | undefined;
      const shutdown = async (): Promise<void> => {
        say('\nstopping...');
        await server?.close();
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun.catch(() => undefined);
        await connection.close();
        if (started.length) say(`stopped ${(await stackDown(config, started)).join(' and ')}`);
      };
      const interrupted = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      try {
        const { workflowId, result, reused } = await runTrainingPipeline(
          config,
          trainingInput(o),
          pipelineProgressPrinter(),
        );
        if (reused) say(reusedNote(workflowId));
        say(summary(result));
        const access = await localAccess(config);
        server = await startServer(config, log, {
          gate: gateFromConfig(config.auth, log),
          ...servingWiring(config),
        });
        const t = config.temporal;
        process.stdout.write(
          [
            '',
            `Temporal UI  http://127.0.0.1:${t.uiPort}/namespaces/${t.namespace}/workflows/${workflowId}`,
            `MLflow UI    ${config.mlflow.trackingUri}/#/models/${config.mlflow.registeredModel}`,
            `API          ${server.url}  (model ${config.mlflow.registeredModel} v${server.models.current?.version ?? '?'})`,
            ...access.lines,
            '',
            'Try it:',
            `  ${curlExample(server.url, access.curlKey, nextPeriod(server.models.current))}`,
            '',
            'Ctrl-C stops the server, the worker and the services this command started.',
            '',
          ].join('\n'),
        );
        await interrupted;
      } finally {
        await shutdown();
      }
    });
}
