/**
 * vitest globalSetup: marks every process the suite starts, and fails the run when one of them is
 * still alive at the end. The marker is an environment variable set here, before the test workers
 * start: workers inherit it, and so does every process a test spawns with the default environment
 * (spawn/fork/execFile without `env`, or with `{ ...process.env, ... }`). A process that outlives
 * its test is found through /proc even after it was orphaned, given the time to finish exiting (a
 * wait on its exit, not a sleep), then reported with its command line and killed so that it cannot
 * hold a port or a CPU after the run.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The environment variable that marks the run's processes. */
export const marker = 'FORESIGHT_TEST_RUN';

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

/**
 * The bound on waiting for the processes found at teardown, generous on purpose. Such a process is
 * either still dying (a test signalled it, or its parent's forced exit killed it, and two busy
 * cores have not yet let it finish), which ends by itself and ends the wait at that event, or it
 * leaked and will never end by itself: only this bound ends that wait, and the run fails then
 * anyway. A clean run finds no process and never waits; nothing that works depends on this number.
 */
const leakBoundMs = 120_000;

/**
 * Waits until each of `pids` has exited, or `boundMs` has passed. The processes are not our
 * children (they were a worker's, orphaned when it ended), so Node has no `exit` event for them:
 * `pidwait` (procps) waits on a pidfd, an event from the kernel, one per process (its `-F` reads
 * one pid from a file). Returns why a wait could not be made, if one could not.
 */
async function waitForExits(pids: readonly number[], boundMs: number): Promise<string | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'foresight-survivors-'));
  // pidwait is not one of the processes it waits for, nor one the next scan would find.
  const env = { ...process.env };
  delete env[marker];
  let problem: string | undefined;
  const waits = pids.map((pid) => {
    const file = join(dir, String(pid));
    writeFileSync(file, `${pid}\n`);
    const waiter = spawn('pidwait', ['-F', file], { stdio: 'ignore', env });
    const exited = new Promise<void>((resolve) => {
      waiter.once('exit', (code, signal) => {
        // 0: it waited for the process; 1: the process was already gone. A signal: ended by the bound below.
        if (signal === null && code !== 0 && code !== 1) problem = `pidwait exited with code ${code}`;
        resolve();
      });
      waiter.once('error', (error) => {
        problem = `pidwait cannot run (${error.message}; apt-get install procps)`;
        resolve();
      });
    });
    return { waiter, exited };
  });
  let bound: NodeJS.Timeout | undefined;
  const boundReached = new Promise<void>((resolve) => {
    bound = setTimeout(resolve, boundMs);
  });
  try {
    await Promise.race([Promise.all(waits.map((w) => w.exited)), boundReached]);
  } finally {
    clearTimeout(bound);
    for (const { waiter } of waits) if (waiter.exitCode === null && waiter.signalCode === null) waiter.kill('SIGKILL');
    await Promise.all(waits.map((w) => w.exited));
    rmSync(dir, { recursive: true, force: true });
  }
  return problem;
}

/** vitest runs this once for the root config and once per project (vitest.config.ts): only the first one marks and checks. */
const started = Symbol.for('foresight.test-run-marker');

/**
 * Ends the run's surviving processes: waits for those found to exit (a process a worker signalled
 * may still be exiting), for at most `boundMs`, then looks again; any still there is killed and
 * reported by the error thrown. A clean run finds none and never waits.
 */
export async function endSurvivors(run: string, boundMs: number = leakBoundMs): Promise<void> {
  let survivors = processesOf(run);
  if (survivors.length === 0) return;
  const waitProblem = await waitForExits(
    survivors.map((s) => s.pid),
    boundMs,
  );
  survivors = processesOf(run);
  if (survivors.length === 0) return;
  for (const { pid } of survivors) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  throw new Error(
    `${survivors.length} process(es) started by the tests outlived them (killed now); every spawned process must be ended in afterEach/afterAll${waitProblem === undefined ? '' : ` (and ${waitProblem}, so their exit could not be waited for)`}:\n${survivors.map((s) => `  pid ${s.pid}: ${s.command.slice(0, 200)}`).join('\n')}`,
  );
}

export default function setup(): () => Promise<void> {
  const holder = globalThis as { [started]?: true };
  if (holder[started]) return async () => {};
  holder[started] = true;
  const run = randomUUID();
  process.env[marker] = run;
  return async () => {
    try {
      await endSurvivors(run);
    } catch (error) {
      // vitest reports an error thrown here but does not fail the run for it: set the exit code too.
      process.exitCode = 1;
      throw error;
    }
  };
}
