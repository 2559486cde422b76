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
export function forkEntry(moduleUrl: string, entry: string, niceness: number): ChildProcess {
  const compiled = fileURLToPath(new URL(`./${entry}.js`, moduleUrl));
  const fromBuild = existsSync(compiled);
  const script = fromBuild ? compiled : fileURLToPath(new URL(`./${entry}.ts`, moduleUrl));
  const child = fork(script, [], { execArgv: fromBuild ? [] : ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    if (child.pid !== undefined) setPriority(child.pid, niceness);
  } catch {
    // Not permitted on this system: the child still runs, at the service's priority.
  }
  return child;
}
