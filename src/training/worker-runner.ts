import type { ChildProcess } from 'node:child_process';
import { forkEntry, messageOf } from '../core/index.js';
import type { LstmProgress } from '../forecast/index.js';
import type { TrainingJob, TrainingOutcome, WorkerMessage } from './training-job.js';

/** Hooks of one worker run. */
export interface WorkerRunOptions {
  /** Called in the main thread after every epoch. */
  readonly onProgress?: (progress: LstmProgress) => void;
  /** Aborting kills the training process; the run resolves with an `aborted` failure. */
  readonly signal?: AbortSignal;
}

/** The OS priority of training processes: the lowest, so that serving always runs first. */
const trainingNiceness = 19;

/**
 * Trains one LSTM in a child process at the lowest OS priority and resolves with the outcome; never
 * rejects. A process rather than a worker thread because a thread cannot be given a lower priority
 * than the service: on two cores, a worker thread training at full speed raised the tail latency
 * of the external-metrics API (bench:train). The process exits when the run is over, which frees
 * its TensorFlow.js memory with it.
 */
export function runTrainingInWorker(job: TrainingJob, options: WorkerRunOptions = {}): Promise<TrainingOutcome> {
  const began = performance.now();
  const seconds = () => (performance.now() - began) / 1000;
  return new Promise<TrainingOutcome>((resolve) => {
    let settled = false;
    const settle = (outcome: TrainingOutcome) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const fail = (reason: 'worker_error' | 'aborted', message: string) => settle({ ok: false, seriesKey: job.seriesKey, failure: { reason, message }, durationSeconds: seconds() });
    let child: ChildProcess;
    try {
      child = forkEntry(import.meta.url, 'training-worker', trainingNiceness);
    } catch (error) {
      fail('worker_error', `could not start the training process: ${messageOf(error)}`);
      return;
    }
    const onAbort = () => {
      child.kill('SIGKILL');
      fail('aborted', 'training was aborted');
    };
    if (options.signal?.aborted === true) {
      onAbort();
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'progress') options.onProgress?.(message.progress);
      else settle(message.outcome);
    });
    child.on('error', (error) => fail('worker_error', `training process failed: ${error.message}`));
    child.on('exit', (code, signal) => fail('worker_error', `training process exited with ${signal ?? `code ${code}`} before reporting`));
    child.send(job);
  });
}
