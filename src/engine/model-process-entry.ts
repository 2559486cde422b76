/**
 * The entry point of the model process (see model-process.ts): answers the service's calls with a
 * ModelHost that lives as long as the process, so fits are kept between cycles. Exits when the
 * service goes away (the IPC channel closes), whatever way it ended.
 */
import process from 'node:process';
import { tensorCount } from '../forecast/index.js';
import { ModelHost } from './model-host.js';
import type { HostAnswer, HostCall, HostOutcome } from './model-process.js';
import { messageOf } from '../core/index.js';

const host = new ModelHost();

async function answer(call: HostCall): Promise<HostAnswer> {
  const outcome = await run(call);
  return { ...outcome, tensors: tensorCount() };
}

async function run(call: HostCall): Promise<HostOutcome> {
  try {
    switch (call.method) {
      case 'forecast':
        return { id: call.id, ok: true, value: host.forecast(call.request) };
      case 'validate':
        return { id: call.id, ok: true, value: host.validate(call.request) };
      case 'learnedForecasts':
        return { id: call.id, ok: true, value: await host.learnedForecasts(call.request) };
      case 'learnedPoints':
        return { id: call.id, ok: true, value: await host.learnedPoints(call.request) };
      case 'optimize':
        return { id: call.id, ok: true, value: host.optimize(call.request) };
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
