// Process registry: whatever happens to a test, no Prometheus outlives the worker that started it.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { keepDirs } from './options.js';

/** Everything the synchronous exit hook needs to clean up one instance. */
export interface Tracked {
  readonly child: ChildProcess | undefined;
  readonly root: string;
  dispose(): Promise<void>;
}

const live = new Set<Tracked>();
let hooksInstalled = false;

/** Synchronous last-resort cleanup, for `process.on('exit')` where nothing async can run. */
function killAllSync(): void {
  for (const tracked of live) {
    const child = tracked.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (!keepDirs()) rmSync(tracked.root, { recursive: true, force: true });
  }
  live.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllSync();
      // Re-raise for the default action, unless someone else (e.g. the test runner) handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Registers an instance, installing the exit hooks on first use. */
export function track(instance: Tracked): void {
  installExitHooks();
  live.add(instance);
}

/** Forgets an instance once it is disposed of. */
export function untrack(instance: Tracked): void {
  live.delete(instance);
}

/**
 * Disposes every Prometheus started by this worker. Safe to call from any `afterAll`; the exit hook
 * does the same synchronously if a test forgets.
 */
export async function stopAllPrometheus(): Promise<void> {
  await Promise.allSettled([...live].map((tracked) => tracked.dispose()));
}
