import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * Starts a module's entry file as a child process with a structured-clone IPC channel (typed arrays
 * travel as they are) at a lower OS priority, so that its work never takes the CPU from serving.
 * `entry` is a file name beside `moduleUrl` without its extension: the compiled `.js` in a build;
 * from source (tests, `npm run dev`) there is no .js file, so the child runs the `.ts` through tsx's
 * loader. Used by LSTM training and the model process. Throws what `fork` throws.
 */
/** The children forkEntry started that have not exited yet. */
const running = new Set<ChildProcess>();

export function forkEntry(moduleUrl: string, entry: string, niceness: number): ChildProcess {
  const compiled = fileURLToPath(new URL(`./${entry}.js`, moduleUrl));
  const fromBuild = existsSync(compiled);
  const script = fromBuild ? compiled : fileURLToPath(new URL(`./${entry}.ts`, moduleUrl));
  const child = fork(script, [], { execArgv: fromBuild ? [] : ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  try {
    if (child.pid !== undefined) setPriority(child.pid, niceness);
  } catch {
    // Not permitted on this system: the child still runs, at the service's priority.
  }
  return child;
}

/**
 * Ends every child {@link forkEntry} started and not yet exited, at once (SIGKILL), and returns how
 * many. For the forced exit after `server.shutdownGrace`: `process.exit` does not end children, and
 * a training run or model process left behind would keep a core busy with nobody to read its result.
 */
export function killForkedChildren(): number {
  let killed = 0;
  for (const child of running) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGKILL');
    killed += 1;
  }
  return killed;
}

/** Whether `child` is one {@link forkEntry} started that has not exited yet (it forgets a child when it exits). */
export function isForkedChildRunning(child: ChildProcess): boolean {
  return running.has(child);
}
