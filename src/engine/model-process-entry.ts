/**
 * The entry point of the model process (see model-process.ts): answers the service's calls with a
 * ModelHost that lives as long as the process, so fits are kept between cycles. Exits when the
 * service goes away (the IPC channel closes), whatever way it ended.
 */
import process from 'node:process';
import { tensorCount } from '../forecast/index.js';
import { ModelHost } from './model-host.js';
import { SeriesReceiver } from './series-transfer.js';
import type { HostAnswer, HostCall, HostOutcome } from './model-process.js';
import { messageOf } from '../core/index.js';

const host = new ModelHost();
const received = new SeriesReceiver();

/** CPU seconds this process spent answering calls and refitting in the background, since it started. */
const cpu = { callsSeconds: 0, refitsSeconds: 0 };
const cpuSecondsNow = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

async function answer(call: HostCall): Promise<HostAnswer> {
  const began = cpuSecondsNow();
  const refitsBefore = cpu.refitsSeconds;
  const outcome = await run(call);
  // Background refits that ran while the call awaited (refitsDone waits for them) are theirs, not the call's.
  cpu.callsSeconds += cpuSecondsNow() - began - (cpu.refitsSeconds - refitsBefore);
  if (host.queuedRefits > 0) schedule();
  return { ...outcome, tensors: tensorCount(), queuedRefits: host.queuedRefits, cpu: { ...cpu } };
}

/**
 * Background refits: one series per turn of the event loop, so that a call that arrives (an IPC
 * message is read in the poll phase, before the next `setImmediate`) waits for one series' refit
 * at most, never for the queue.
 */
let scheduled = false;
const drained: (() => void)[] = [];
function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    const began = cpuSecondsNow();
    try {
      host.refitNext();
    } catch (error) {
      // A refit that throws is a bug in a model; the series keeps its previous fit.
      process.stderr.write(`model process: a background refit failed: ${messageOf(error)}\n`);
    } finally {
      cpu.refitsSeconds += cpuSecondsNow() - began;
    }
    if (host.queuedRefits > 0) schedule();
    else for (const resolve of drained.splice(0)) resolve();
  });
}

async function run(call: HostCall): Promise<HostOutcome> {
  try {
    switch (call.method) {
      case 'forecast':
        return { id: call.id, ok: true, value: host.forecast({ ...call.request, series: received.decode(call.request.series) }) };
      case 'validate':
        return { id: call.id, ok: true, value: host.validate(call.request) };
      case 'learnedForecasts':
        return { id: call.id, ok: true, value: await host.learnedForecasts(call.request) };
      case 'learnedPoints':
        return { id: call.id, ok: true, value: await host.learnedPoints(call.request) };
      case 'optimize':
        return { id: call.id, ok: true, value: host.optimize(call.request) };
      case 'refitsDone':
        if (host.queuedRefits > 0) {
          schedule();
          await new Promise<void>((resolve) => drained.push(resolve));
        }
        return { id: call.id, ok: true, value: null };
    }
  } catch (error) {
    return { id: call.id, ok: false, message: messageOf(error) };
  }
}

if (process.send === undefined) throw new Error('model-process-entry.ts must run as a child process with an IPC channel');
// Calls are answered one at a time, in order: the engine never has two in flight (cycles never overlap).
let queue: Promise<unknown> = Promise.resolve();
process.on('message', (call: HostCall) => {
  queue = queue.then(async () => process.send?.(await answer(call)));
});
process.on('disconnect', () => process.exit(0));
