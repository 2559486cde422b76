/**
 * The suite's end-of-run check (test/support/global-setup.ts): a process that is still exiting
 * when the run ends is waited for (by its exit, through pidwait), one that never exits is reported
 * and killed. The processes here carry a marker of their own, not the suite's, and are ended in
 * afterEach whatever happens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { endSurvivors, marker } from '../support/global-setup.js';

const children: ChildProcess[] = [];

/** A node process carrying `run` as the marker, which exits when a line arrives on its stdin. */
function markedChild(run: string): { readonly child: ChildProcess; readonly exited: Promise<void> } {
  const child = spawn(process.execPath, ['-e', "process.stdin.once('data', () => process.exit(0))"], {
    stdio: ['pipe', 'ignore', 'inherit'],
    env: { ...process.env, [marker]: run },
  });
  children.push(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited };
}

/** Resolves once `child` runs (its pid is in /proc with its command line). */
function spawned(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
});

describe('the end-of-run check for surviving processes', () => {
  it('finds nothing to do when no process carries the marker', async () => {
    await expect(endSurvivors(randomUUID(), 0)).resolves.toBeUndefined();
  });

  it('waits for a process that is still exiting, and passes once it has', async () => {
    const run = randomUUID();
    const { child, exited } = markedChild(run);
    await spawned(child);
    // The check starts while the process is alive; the process exits only after that.
    const check = endSurvivors(run);
    child.stdin?.end('exit\n');
    await exited;
    await expect(check).resolves.toBeUndefined();
  });

  it('reports a process that never exits, and kills it', async () => {
    const run = randomUUID();
    const { child, exited } = markedChild(run);
    await spawned(child);
    // A bound of 0: the process would never exit by itself, so no bound would change the outcome.
    await expect(endSurvivors(run, 0)).rejects.toThrow(new RegExp(`1 process\\(es\\) started by the tests outlived them \\(killed now\\)[^]*pid ${child.pid}: `));
    await exited;
    expect(child.signalCode).toBe('SIGKILL');
  });
});
