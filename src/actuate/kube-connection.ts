import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { messageOf } from '../core/index.js';
import { type KubeEnvironment, processKubeEnvironment, serviceAccountDir } from './kube-environment.js';

/** How actuation reaches the Kubernetes API, or why it cannot. */
export type KubeConnection =
  | {
      readonly kind: 'in-cluster' | 'kubeconfig' | 'provided';
      readonly kubeConfig: KubeConfig;
      /** The default namespace: the pod's own, or the kubeconfig context's. */
      readonly namespace: string | undefined;
      /** Where the connection came from, for the log ("service account", a file path). */
      readonly source: string;
      /** The API server URL. */
      readonly server: string;
    }
  | { readonly kind: 'none'; readonly reason: string };

function connected(kind: 'in-cluster' | 'kubeconfig' | 'provided', kubeConfig: KubeConfig, source: string, namespace?: string): KubeConnection {
  const server = kubeConfig.getCurrentCluster()?.server;
  if (server === undefined || server === '') return { kind: 'none', reason: `${source} names no cluster in its current context` };
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  return { kind, kubeConfig, source, server, namespace: namespace ?? contextNamespace };
}

/** A connection from a KubeConfig the caller built (tests, embedding). */
export function providedKubeConnection(kubeConfig: KubeConfig): KubeConnection {
  return connected('provided', kubeConfig, 'the given KubeConfig');
}

/**
 * Finds the cluster, in this order: the pod's service account when running in a pod
 * (KUBERNETES_SERVICE_HOST is set and the token is mounted); else the files named by KUBECONFIG;
 * else ~/.kube/config; else none, with the reason. Never throws: a kubeconfig that does not load
 * is a reason, not a crash. Unlike client-node's `loadFromDefault`, it never falls back to
 * http://localhost:8080.
 */
export function resolveKubeConnection(environment: KubeEnvironment = processKubeEnvironment()): KubeConnection {
  const { env, exists } = environment;
  const saDir = `${environment.rootDir}${serviceAccountDir}`;
  if ((env['KUBERNETES_SERVICE_HOST'] ?? '') !== '' && exists(join(saDir, 'token'))) {
    // client-node reads the host and port from process.env itself; the injected env only decides.
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromCluster(environment.rootDir);
    const namespaceFile = join(saDir, 'namespace');
    const namespace = exists(namespaceFile) ? environment.readFile(namespaceFile).trim() : undefined;
    return connected('in-cluster', kubeConfig, 'the pod service account', namespace === '' ? undefined : namespace);
  }
  const listed = (env['KUBECONFIG'] ?? '').split(delimiter).filter((file) => file !== '');
  const home = environment.homeDir === undefined ? undefined : join(environment.homeDir, '.kube', 'config');
  const files = listed.length > 0 ? listed.filter((file) => exists(file)) : home !== undefined && exists(home) ? [home] : [];
  if (files.length === 0) {
    return {
      kind: 'none',
      reason:
        listed.length > 0
          ? `KUBECONFIG names ${listed.join(delimiter)}, and none of these files exists`
          : 'not running in a pod (no KUBERNETES_SERVICE_HOST and service account token), no KUBECONFIG, and no ~/.kube/config',
    };
  }
  try {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(files[0]!);
    for (const file of files.slice(1)) {
      const next = new KubeConfig();
      next.loadFromFile(file);
      // As kubectl does: the first file's current context wins.
      kubeConfig.mergeConfig(next, true);
    }
    return connected('kubeconfig', kubeConfig, files.join(delimiter));
  } catch (error) {
    return { kind: 'none', reason: `could not load ${files.join(delimiter)}: ${messageOf(error)}` };
  }
}
