/**
 * vitest globalSetup: marks every process the suite starts, and fails the run when one of them is
 * still alive at the end. The marker is an environment variable set here, before the test workers
 * start: workers inherit it, and so does every process a test spawns with the default environment
 * (spawn/fork/execFile without `env`, or with `{ ...process.env, ... }`). A process that outlives
 * its test is found through /proc even after it was orphaned, reported with its command line, and
 * killed so that it cannot hold a port or a CPU after the run.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

const marker = 'FORESIGHT_TEST_RUN';

interface Survivor {
  readonly pid: number;
  readonly command: string;
}

/** Processes other than this one whose environment carries `marker=run`. */
function processesOf(run: string): Survivor[] {
  const expected = `${marker}=${run}`;
  const found: Survivor[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const environment = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      if (!environment.includes(expected)) continue;
      const command = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
      // A zombie has an empty command line: it has ended, only its exit status is left.
      if (command !== '') found.push({ pid, command });
    } catch {
      // Ended meanwhile, or not ours to read.
    }
  }
  return found;
}

/** vitest runs this once for the root config and once per project (vitest.config.ts): only the first one marks and checks. */
const started = Symbol.for('foresight.test-run-marker');

export default function setup(): () => Promise<void> {
  const holder = globalThis as { [started]?: true };
  if (holder[started]) return async () => {};
  holder[started] = true;
  const run = randomUUID();
  process.env[marker] = run;
  return async () => {
    // The workers end before teardown; give processes they signalled time to exit: poll /proc,
    // yielding between polls. A clean run finds none at once; the 120 s bound (docs/testing.md) only
    // keeps a process that is slow to die on two busy cores from failing the run.
    let survivors = processesOf(run);
    for (let round = 0; survivors.length > 0 && round < 1_200; round++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      survivors = processesOf(run);
    }
    if (survivors.length === 0) return;
    for (const { pid } of survivors) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    // vitest reports an error thrown here but does not fail the run for it: set the exit code too.
    process.exitCode = 1;
    throw new Error(
      `${survivors.length} process(es) started by the tests outlived them (killed now); every spawned process must be ended in afterEach/afterAll:\n${survivors.map((s) => `  pid ${s.pid}: ${s.command.slice(0, 200)}`).join('\n')}`,
    );
  };
}
