import { execFileSync } from 'node:child_process';

/** Pids of the children of `parentPid` whose command line contains `pattern` (pgrep), for tests about child processes. */
export function childPids(pattern: string, parentPid: number = process.pid): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(parentPid), '-f', pattern], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Whether a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
