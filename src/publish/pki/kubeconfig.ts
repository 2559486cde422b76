import { stringify } from 'yaml';

/** What a kubeconfig for one server and one client certificate holds. */
export interface KubeconfigOptions {
  /** `https://host:port`. */
  readonly server: string;
  /** PEM of the CA that verifies the serving certificate. */
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** Name of the cluster, user and context entries. */
  readonly name: string;
}

/**
 * A kubeconfig with the certificates embedded (`*-data`), so it works from any directory and can be
 * copied as one file. kubectl reads it with `KUBECONFIG=<file>`.
 */
export function renderKubeconfig(options: KubeconfigOptions): string {
  const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: options.name, cluster: { server: options.server, 'certificate-authority-data': b64(options.caPem) } }],
    users: [{ name: options.name, user: { 'client-certificate-data': b64(options.clientCertPem), 'client-key-data': b64(options.clientKeyPem) } }],
    contexts: [{ name: options.name, context: { cluster: options.name, user: options.name, namespace: 'default' } }],
    'current-context': options.name,
    preferences: {},
  });
}
