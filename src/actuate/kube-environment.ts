import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';

/** Where the service account of a pod is mounted. */
export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** What resolution looks at; the process's own by default, a fake in tests. */
export interface KubeEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDir: string | undefined;
  /** Prefix of the service account path (client-node's `loadFromCluster(pathPrefix)`); "" in production. */
  readonly rootDir: string;
  readonly exists: (path: string) => boolean;
  readonly readFile: (path: string) => string;
}

/** The process's environment. */
export function processKubeEnvironment(): KubeEnvironment {
  let homeDir: string | undefined;
  try {
    homeDir = homedir();
  } catch {
    homeDir = undefined;
  }
  return { env: process.env, homeDir, rootDir: '', exists: existsSync, readFile: (path) => readFileSync(path, 'utf8') };
}

/**
 * This replica's name in the Lease: the configured identity, else the pod name (POD_NAME, set
 * from the downward API) or the hostname, plus a random suffix. The suffix is what
 * kube-controller-manager adds too: two processes on one host, or a restarted pod whose old
 * process still runs, must never share an identity, or both would believe they hold the Lease.
 */
export function defaultIdentity(env: Readonly<Record<string, string | undefined>>, host: string = hostname()): string {
  const base = (env['POD_NAME'] ?? '') !== '' ? env['POD_NAME']! : host;
  return `${base}_${randomUUID().slice(0, 8)}`;
}
