/**
 * Pipeline benchmark on real components (Temporal dev server and MLflow from .tools/, on free
 * loopback ports in a temporary folder), default dataset, default search budget:
 * 1. the same steps in one process, without Temporal or MLflow (validate, split, train, evaluate);
 * 2. end to end on Temporal with one worker process (both queues), and Temporal's overhead:
 *    the workflow's train + evaluate time against the same steps in-process;
 * 3. the model search (the `train` step, from the workflow history) with one training worker
 *    process against two, each `--concurrency 1`, same budget and seed: the speed-up, and
 *    whether the chosen model is byte-identical; next to it, the ceiling: the same trial chunks
 *    in one plain process against two side by side (no Temporal, no MLflow).
 *
 *   npm run build && npx tsc -p bench/tsconfig.pipeline.json && node .bench/build-pipeline/bench/pipeline.js
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../src/config';
import type * as M_config from '../src/config';
import type * as M_data_dataset from '../src/data/dataset';
import type * as M_logger from '../src/logger';
import type * as M_pipeline_start from '../src/pipeline/start';
import type * as M_pipeline_steps from '../src/pipeline/steps';
import type * as M_stack_processes from '../src/stack/processes';
import type * as M_stack_stack from '../src/stack/stack';
import type * as M_worker_worker from '../src/worker/worker';

// compiled to .bench/build-pipeline/bench/: the repository is three folders up. The project's
// modules are loaded from its build (dist/), so that they find the project's files from there.
const root = path.resolve(__dirname, '..', '..', '..');
const load = <T>(module: string): T =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(path.join(root, 'dist', module)) as T;
const { loadConfig } = load<typeof M_config>('config.js');
const { japanColumns, loadDataset } = load<typeof M_data_dataset>('data/dataset.js');
const { createLogger } = load<typeof M_logger>('logger.js');
const { runTrainingPipeline } = load<typeof M_pipeline_start>('pipeline/start.js');
const { evaluateSeries, planTraining, splitSeries, trainSeries, trainTrials } =
  load<typeof M_pipeline_steps>('pipeline/steps.js');
const { freePort } = load<typeof M_stack_processes>('stack/processes.js');
const { stackDown, stackUp } = load<typeof M_stack_stack>('stack/stack.js');
const { createPipelineWorker, installTemporalLogging } =
  load<typeof M_worker_worker>('worker/worker.js');

const log = (m: string): void => void process.stderr.write(`${m}\n`);
const seconds = (ms: number): string => (ms / 1000).toFixed(1);

/**
 * Child mode (`--chunks K N`): the search's trial chunks K, K+N, K+2N... (costliest first) in
 * this plain process, no Temporal, no MLflow; prints the milliseconds. Two of them side by side
 * against one running all chunks give the speed-up this machine allows two processes at all.
 */
async function chunksChild(k: number, n: number): Promise<void> {
  const config = loadConfig();
  const series = await loadDataset(config.dataPath, japanColumns);
  const split = splitSeries(series);
  const planned = planTraining(series, split, { seed: 42 })!;
  const t = Date.now();
  planned.chunks.forEach((chunk, i) => {
    if (i % n === k) trainTrials(series, split, planned.plan, chunk);
  });
  process.stdout.write(`${Date.now() - t}\n`);
}

/** Wall milliseconds of `n` chunk processes side by side (see chunksChild). */
async function plainProcesses(n: number): Promise<number> {
  const t = Date.now();
  await Promise.all(
    Array.from(
      { length: n },
      (_, k) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [__filename, '--chunks', String(k), String(n)], {
            stdio: 'ignore',
          });
          child.once('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`chunk process exited with ${code}`)),
          );
        }),
    ),
  );
  return Date.now() - t;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'icecream-bench-'));
  const config: Config = loadConfig({
    ...process.env,
    ICECREAM_LOCAL_DIR: path.join(dir, 'local'),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    MLFLOW_PORT: String(await freePort()),
    TEMPORAL_ADDRESS: '',
    MLFLOW_TRACKING_URI: '',
    LOG_LEVEL: 'warn',
  });
  installTemporalLogging('ERROR');
  const seed = 42;

  // 1. in-process
  let t = Date.now();
  const series = await loadDataset(config.dataPath, japanColumns);
  const split = splitSeries(series);
  const tTrain = Date.now();
  const trained = trainSeries(series, split, { seed });
  const trainMs = Date.now() - tTrain;
  const tEval = Date.now();
  evaluateSeries(series, split, trained.forecasterText, null);
  const evalMs = Date.now() - tEval;
  const inProcessMs = Date.now() - t;
  const inProcessSha = createHash('sha256').update(trained.forecasterText).digest('hex');
  log(`in-process: ${seconds(inProcessMs)} s (train ${seconds(trainMs)} s), ${trained.family}`);

  // 1b. the ceiling: the same trial chunks in plain processes, one against two side by side
  const plainOne = await plainProcesses(1);
  const plainTwo = await plainProcesses(2);
  log(
    `plain processes, no Temporal: all chunks ${seconds(plainOne)} s in one, ${seconds(plainTwo)} s in two = ${(plainOne / plainTwo).toFixed(2)}x`,
  );

  await stackUp(config, () => undefined, ['temporal', 'mlflow']);
  const children: ChildProcess[] = [];
  const spawnWorker = (name: string, args: string[]): ChildProcess => {
    const child = spawn('node', [path.join(root, 'dist/cli/main.js'), 'worker', ...args], {
      cwd: root,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: config.temporal.address,
        MLFLOW_TRACKING_URI: config.mlflow.trackingUri,
        ICECREAM_LOCAL_DIR: path.join(dir, name),
        LOG_LEVEL: 'warn',
        // several workers on this host: no Prometheus endpoint (they would all want 9465)
        WORKER_METRICS_PORT: '0',
      },
      stdio: 'ignore',
    });
    children.push(child);
    return child;
  };
  const stop = (c: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (c.exitCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection });
  /** Seconds the workflow spent in train (plan -> final fit) and in train + evaluate. */
  const stepTimes = async (workflowId: string) => {
    const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const at = (e: (typeof events)[number]) =>
      Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6);
    const scheduled = new Map<number, string>();
    let trainStart = 0;
    let trainEnd = 0;
    let evalEnd = 0;
    /** trial chunks started per worker identity */
    const byWorker: Record<string, number> = {};
    /** seconds from start to completion, summed per activity type */
    const activitySeconds: Record<string, number> = {};
    const startedAt = new Map<number, number>();
    for (const e of events) {
      const started = e.activityTaskStartedEventAttributes;
      if (started) {
        startedAt.set(Number(started.scheduledEventId), at(e));
        if (scheduled.get(Number(started.scheduledEventId)) === 'runTrials') {
          const who = started.identity ?? '?';
          byWorker[who] = (byWorker[who] ?? 0) + 1;
        }
      }
      const done = e.activityTaskCompletedEventAttributes;
      if (done) {
        const name = scheduled.get(Number(done.scheduledEventId)) ?? '?';
        const from = startedAt.get(Number(done.scheduledEventId)) ?? at(e);
        activitySeconds[name] = (activitySeconds[name] ?? 0) + (at(e) - from) / 1000;
      }
      const s = e.activityTaskScheduledEventAttributes;
      if (s) {
        const name = s.activityType?.name ?? '';
        scheduled.set(Number(e.eventId), name);
        if (name === 'planTraining' && !trainStart) trainStart = at(e);
      }
      const c = e.activityTaskCompletedEventAttributes;
      if (c) {
        const name = scheduled.get(Number(c.scheduledEventId));
        if (name === 'fitFinal') trainEnd = at(e);
        if (name === 'evaluateModel') evalEnd = at(e);
      }
    }
    return {
      train: trainEnd - trainStart,
      trainEvaluate: evalEnd - trainStart,
      byWorker,
      activitySeconds,
    };
  };
  const results: Record<string, unknown> = {};
  try {
    // 2. end to end, one worker process serving both queues
    const one = spawnWorker('worker-1', []);
    t = Date.now();
    const e2e = await runTrainingPipeline(config, { seed, reason: 'bench', force: true });
    const e2eMs = Date.now() - t;
    const e2eSteps = await stepTimes(e2e.workflowId);
    await stop(one);
    log(
      `Temporal, 1 worker: ${seconds(e2eMs)} s end to end; train + evaluate ${seconds(e2eSteps.trainEvaluate)} s vs ${seconds(trainMs + evalMs)} s in-process`,
    );

    // 3. the search on 1 vs 2 training worker processes, the pipeline queue served in-process
    const pipeline = await createPipelineWorker(config, createLogger('warn'), {
      queues: ['pipeline'],
    });
    const running = pipeline.worker.run();
    const search: Record<number, { trainMs: number; sha: string | undefined }> = {};
    for (const workers of [1, 2]) {
      const procs = Array.from({ length: workers }, (_, i) =>
        spawnWorker(`training-${workers}-${i}`, ['--queues', 'training', '--concurrency', '1']),
      );
      const r = await runTrainingPipeline(config, {
        seed,
        reason: `bench ${workers}`,
        force: true,
      });
      const steps = await stepTimes(r.workflowId);
      const run = await fetch(
        `${config.mlflow.trackingUri}/api/2.0/mlflow/runs/get?run_id=${r.result.register.runId}`,
      ).then(
        (res) =>
          res.json() as Promise<{ run: { data: { tags: { key: string; value: string }[] } } }>,
      );
      search[workers] = {
        trainMs: steps.train,
        sha: run.run.data.tags.find((x) => x.key === 'icecream.step.train.sha256')?.value,
      };
      for (const p of procs) await stop(p);
      log(
        `search on ${workers} training worker(s): ${seconds(steps.train)} s; trial chunks per worker ${JSON.stringify(steps.byWorker)}; activity seconds ${JSON.stringify(steps.activitySeconds, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`,
      );
    }
    pipeline.worker.shutdown();
    await running;
    await pipeline.connection.close();

    Object.assign(results, {
      machine: `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg()[0]?.toFixed(1)}`,
      inProcess: {
        seconds: inProcessMs / 1000,
        trainSeconds: trainMs / 1000,
        family: trained.family,
      },
      temporalOneWorker: {
        endToEndSeconds: e2eMs / 1000,
        trainEvaluateSeconds: e2eSteps.trainEvaluate / 1000,
        overheadVsInProcess: e2eSteps.trainEvaluate / (trainMs + evalMs) - 1,
      },
      search: {
        oneWorkerSeconds: search[1]!.trainMs / 1000,
        twoWorkersSeconds: search[2]!.trainMs / 1000,
        speedup: search[1]!.trainMs / search[2]!.trainMs,
        plainProcessesSpeedup: plainOne / plainTwo,
        sameModelBytes: search[1]!.sha === search[2]!.sha && search[1]!.sha === inProcessSha,
      },
    });
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    for (const c of children) await stop(c);
    await connection.close();
    await stackDown(config);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

(process.argv[2] === '--chunks'
  ? chunksChild(Number(process.argv[3]), Number(process.argv[4]))
  : main()
).catch((err: unknown) => {
  log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
