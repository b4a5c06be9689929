/**
 * Runs the CPU-bound training work (the model search can take minutes, synchronously) on a worker
 * thread, so the process hosting it stays responsive: Temporal heartbeats go out while it runs,
 * progress reaches the caller as it happens, and a cancelled or timed-out attempt terminates its
 * thread instead of training on in the background.
 */
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Series } from '../ml';
import type { ExperimentPlan, ExperimentProgress } from '../ml/experiment';
import type { Trial } from '../ml/search';
import { seriesFromJson, seriesToJson } from '../data/series-file';
import {
  trainFinal,
  trainSeries,
  trainTrials,
  type TrainOptions,
  type TrainedModel,
  type TrialChunk,
} from './steps';
import type { SplitResult } from './types';

/** The work a thread can do: a whole training, one chunk of trials, or the final fit. */
export type TrainJob =
  | { kind: 'train'; split: SplitResult; options: TrainOptions }
  | { kind: 'trials'; split: SplitResult; plan: ExperimentPlan; chunk: TrialChunk }
  | {
      kind: 'final';
      split: SplitResult;
      options: TrainOptions;
      plan: ExperimentPlan | null;
      trials: Trial[][];
    };

type JobResult<J extends TrainJob> = J extends { kind: 'trials' } ? Trial[] : TrainedModel;

type Message =
  | { progress: ExperimentProgress }
  | { result: unknown }
  | { error: { name: string; message: string; stack?: string } };

/** An error thrown on the training thread, re-created with its name and message. */
export class TrainingThreadError extends Error {
  constructor(name: string, message: string, stack?: string) {
    super(message);
    this.name = name;
    if (stack) this.stack = stack;
  }
}

let running = 0;
/** How many training threads this process has running (tests check that none is left over). */
export const runningTrainingThreads = (): number => running;

function runJob(
  series: Series,
  job: TrainJob,
  onProgress: (p: ExperimentProgress) => void,
): Trial[] | TrainedModel {
  switch (job.kind) {
    case 'train':
      return trainSeries(series, job.split, job.options, onProgress);
    case 'trials': {
      const total = job.chunk.to - job.chunk.from;
      return trainTrials(series, job.split, job.plan, job.chunk, (done) =>
        onProgress({ done, total, stage: `trials of ${job.chunk.family}` }),
      );
    }
    case 'final':
      return trainFinal(series, job.split, job.options, job.plan, job.trials);
  }
}

/**
 * A training job on a worker thread. Under a TypeScript test runner (this file is .ts) the thread
 * cannot load the module, so it runs inline there. Errors keep their name and message. When
 * `signal` aborts, the thread is terminated and the promise rejects with the signal's reason.
 */
export function runOnThread<J extends TrainJob>(
  series: Series,
  job: J,
  onProgress: (p: ExperimentProgress) => void = () => undefined,
  signal?: AbortSignal,
): Promise<JobResult<J>> {
  const aborted = (): Error =>
    signal?.reason instanceof Error ? signal.reason : new Error('training cancelled');
  if (!__filename.endsWith('.js')) {
    return Promise.resolve().then(() => {
      if (signal?.aborted) throw aborted();
      return runJob(series, job, onProgress) as JobResult<J>;
    });
  }
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(aborted());
      return;
    }
    const worker = new Worker(path.join(__dirname, 'train-thread.js'), {
      workerData: { series: seriesToJson(series), job },
    });
    running++;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      fn();
    };
    const abort = (): void => {
      settle(() => reject(aborted()));
      void worker.terminate();
    };
    signal?.addEventListener('abort', abort, { once: true });
    worker.on('message', (m: Message) => {
      if ('progress' in m) onProgress(m.progress);
      else if ('result' in m) settle(() => resolve(m.result as JobResult<J>));
      else
        settle(() => reject(new TrainingThreadError(m.error.name, m.error.message, m.error.stack)));
    });
    worker.on('error', (err) => settle(() => reject(err)));
    worker.on('exit', (code) => {
      running--;
      settle(() => reject(new Error(`training thread exited with code ${code} before a result`)));
    });
  });
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const data = workerData as { series: ReturnType<typeof seriesToJson>; job: TrainJob };
  try {
    const result = runJob(seriesFromJson(data.series), data.job, (progress) =>
      port.postMessage({ progress } satisfies Message),
    );
    port.postMessage({ result } satisfies Message);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    port.postMessage({
      error: { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) },
    } satisfies Message);
  }
}
