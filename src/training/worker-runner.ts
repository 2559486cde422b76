import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LstmProgress } from '../forecast/index.js';
import type { TrainingJob, TrainingOutcome, WorkerMessage } from './training-job.js';

/** Hooks of one worker run. */
export interface WorkerRunOptions {
  /** Called in the main thread after every epoch. */
  readonly onProgress?: (progress: LstmProgress) => void;
  /** Aborting terminates the worker; the run resolves with an `aborted` failure. */
  readonly signal?: AbortSignal;
}

/**
 * How to start the worker: the compiled `training-worker.js` next to this file in a build; when
 * Foresight runs from source (tests, `npm run dev`) there is no .js file, so a two-line bootstrap
 * registers tsx's loader inside the worker and then imports `training-worker.ts`.
 */
export function trainingWorkerScript(): { readonly script: string | URL; readonly eval: boolean } {
  const compiled = new URL('./training-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return { script: compiled, eval: false };
  const source = new URL('./training-worker.ts', import.meta.url);
  // tsx's ESM API entry, resolved from this file so that the worker finds the same copy.
  const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
  const tsxApi = pathToFileURL(join(dirname(tsxPackage), 'dist/esm/api/index.mjs')).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(source.href)}); });`;
  return { script: bootstrap, eval: true };
}

/**
 * Trains one LSTM in a worker thread and resolves with the outcome; never rejects. The worker
 * exits when the run is over, which frees its TensorFlow.js memory with it.
 */
export function runTrainingInWorker(job: TrainingJob, options: WorkerRunOptions = {}): Promise<TrainingOutcome> {
  const began = performance.now();
  const seconds = () => (performance.now() - began) / 1000;
  return new Promise<TrainingOutcome>((resolve) => {
    const script = trainingWorkerScript();
    let settled = false;
    const settle = (outcome: TrainingOutcome) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const fail = (reason: 'worker_error' | 'aborted', message: string) => settle({ ok: false, seriesKey: job.seriesKey, failure: { reason, message }, durationSeconds: seconds() });
    let worker: Worker;
    try {
      worker = new Worker(script.script, { workerData: job, eval: script.eval });
    } catch (error) {
      fail('worker_error', `could not start the training worker: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const onAbort = () => {
      void worker.terminate();
      fail('aborted', 'training was aborted');
    };
    if (options.signal?.aborted === true) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'progress') options.onProgress?.(message.progress);
      else settle(message.outcome);
    });
    worker.on('error', (error) => fail('worker_error', `training worker failed: ${error.message}`));
    worker.on('exit', (code) => fail('worker_error', `training worker exited with code ${code} before reporting`));
  });
}
