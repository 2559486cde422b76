/**
 * The entry point of the model process (see model-process.ts): answers the service's calls with a
 * ModelHost that lives as long as the process, so fits are kept between cycles. Exits when the
 * service goes away (the IPC channel closes), whatever way it ended.
 */
import process from 'node:process';
import { ModelHost } from './model-host.js';
import type { HostAnswer, HostCall } from './model-process.js';

const host = new ModelHost();

function answer(call: HostCall): HostAnswer {
  try {
    switch (call.method) {
      case 'forecast':
        return { id: call.id, ok: true, value: host.forecast(call.request) };
      case 'validate':
        return { id: call.id, ok: true, value: host.validate(call.request) };
      case 'optimize':
        return { id: call.id, ok: true, value: host.optimize(call.request) };
    }
  } catch (error) {
    return { id: call.id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

if (process.send === undefined) throw new Error('model-process-entry.ts must run as a child process with an IPC channel');
process.on('message', (call: HostCall) => process.send?.(answer(call)));
process.on('disconnect', () => process.exit(0));
