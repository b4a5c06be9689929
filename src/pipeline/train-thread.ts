/**
 * Runs the training step (CPU-bound and synchronous: the model search can take minutes) on a
 * worker thread, so the process hosting it stays responsive: Temporal heartbeats go out while
 * the search runs, and progress reaches the caller as it happens.
 */
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { ExperimentProgress } from '../ml/experiment';
import { trainStep, type TrainOptions } from './steps';
import type { SplitResult, TrainResult } from './types';

interface TrainJob {
  seriesFile: string;
  split: SplitResult;
  options: TrainOptions;
  outDir: string;
}

type Message =
  | { progress: ExperimentProgress }
  | { result: TrainResult }
  | { error: { name: string; message: string; stack?: string } };

/** An error thrown on the training thread, re-created with its name and message. */
export class TrainingThreadError extends Error {
  constructor(name: string, message: string, stack?: string) {
    super(message);
    this.name = name;
    if (stack) this.stack = stack;
  }
}

/**
 * trainStep on a worker thread. Under a TypeScript test runner (this file is .ts) the thread
 * cannot load the module, so it runs inline there. Errors keep their name and message.
 */
export function trainOnThread(
  job: TrainJob,
  onProgress: (p: ExperimentProgress) => void = () => undefined,
): Promise<TrainResult> {
  if (!__filename.endsWith('.js')) {
    return Promise.resolve().then(() =>
      trainStep(job.seriesFile, job.split, job.options, job.outDir, onProgress),
    );
  }
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'train-thread.js'), { workerData: job });
    worker.on('message', (m: Message) => {
      if ('progress' in m) onProgress(m.progress);
      else if ('result' in m) resolve(m.result);
      else reject(new TrainingThreadError(m.error.name, m.error.message, m.error.stack));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (code !== 0) reject(new Error(`training thread exited with code ${code}`));
    });
  });
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const job = workerData as TrainJob;
  try {
    const result = trainStep(job.seriesFile, job.split, job.options, job.outDir, (progress) =>
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
