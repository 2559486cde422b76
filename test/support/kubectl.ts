/**
 * kubectl (the real binary, environment.md §5) as a client in tests: no stdin (kubectl otherwise
 * prompts for a user name), a private cache per call, a private HOME, and only the KUBECONFIG given
 * (never ~/.kube).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** What a kubectl run printed, and its exit code. */
export interface KubectlRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs kubectl with no stdin, a private cache and home, and only the given KUBECONFIG. */
export function kubectl(args: readonly string[], options: { readonly home: string; readonly kubeconfig?: string }): Promise<KubectlRun> {
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      [`--cache-dir=${join(options.home, `cache-${Math.random().toString(36).slice(2)}`)}`, ...args],
      { timeout: 120_000, env: { PATH: process.env['PATH'] ?? '', HOME: options.home, KUBECONFIG: options.kubeconfig ?? '/dev/null' } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
    );
    child.stdin?.end();
  });
}
