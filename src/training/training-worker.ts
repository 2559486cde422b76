/**
 * The entry point of LSTM training, run in a child process (see worker-runner.ts): receives a
 * TrainingJob as its first IPC message, trains the global model with TensorFlow.js (loaded only
 * here and in forecast/lstm), from scratch or fine-tuning the serving one, sends progress after
 * every epoch and the outcome at the end, then exits. The service's event loop never runs a
 * training step, and the process runs at a low OS priority, so serving keeps the CPU it needs.
 */
import process from 'node:process';
import { restoreGlobalLstm, shadowEvaluateGlobal, trainGlobalLstm } from '../forecast/index.js';
import type { TrainedGlobalLstm } from '../forecast/index.js';
import type { TrainingJob, TrainingOutcome, WorkerMessage } from './training-job.js';
import { messageOf } from '../core/index.js';

/** The IPC channel to the service; messages use the advanced (structured clone) serialization. */
const port = {
  postMessage(message: WorkerMessage): void {
    process.send?.(message);
  },
};

async function run(job: TrainingJob): Promise<void> {
  if (process.send === undefined) throw new Error('training-worker.ts must run as a child process with an IPC channel');
  const began = performance.now();
  const seconds = () => (performance.now() - began) / 1000;
  const cpuAtStart = process.cpuUsage();
  const cpuSince = (start: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1e6;
  };
  let outcome: TrainingOutcome;
  try {
    const fineTune = job.fineTune !== undefined && job.current !== undefined ? { base: job.current, ...job.fineTune } : undefined;
    const trained = await trainGlobalLstm(
      job.series,
      job.spec,
      job.options,
      {
        onProgress: (progress) => port.postMessage({ type: 'progress', progress } satisfies WorkerMessage),
        ...(job.backend !== undefined ? { backend: job.backend } : {}),
      },
      fineTune,
    );
    if (trained.ok) {
      const candidate = trained.value;
      const trainingCpu = cpuSince(cpuAtStart);
      const cpuAtShadow = process.cpuUsage();
      let current: TrainedGlobalLstm | undefined;
      if (job.current !== undefined) {
        const restored = await restoreGlobalLstm(job.current.artifacts, job.current.meta, job.backend);
        // A serving model that no longer loads cannot win the comparison: the new one replaces it.
        if (restored.ok) current = restored.value;
      }
      const shadow = shadowEvaluateGlobal(current, candidate, job.series);
      current?.dispose();
      const cpuSeconds = { training: trainingCpu, shadow: cpuSince(cpuAtShadow) };
      const artifacts = await candidate.exportArtifacts();
      outcome = { ok: true, seriesKey: job.seriesKey, artifacts, meta: candidate.meta, shadow, durationSeconds: seconds(), cpuSeconds };
      candidate.dispose();
      port.postMessage({ type: 'done', outcome } satisfies WorkerMessage);
      return;
    }
    outcome = { ok: false, seriesKey: job.seriesKey, failure: trained.error, durationSeconds: seconds() };
  } catch (error) {
    outcome = { ok: false, seriesKey: job.seriesKey, failure: { reason: 'worker_error', message: messageOf(error) }, durationSeconds: seconds() };
  }
  port.postMessage({ type: 'done', outcome } satisfies WorkerMessage);
}

process.once('message', (job: TrainingJob) => {
  // Exit once the outcome has been flushed to the service, freeing TensorFlow.js memory with the process.
  void run(job).finally(() => process.disconnect?.());
});
