import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, afterEach, describe, expect, test, vi } from 'vitest';
import { defaultIdentity, type KubeEnvironment, serviceAccountDir } from '../../../src/actuate/index.js';
import { resolveKubeConnection } from '../../../src/actuate/kubernetes.js';

const root = mkdtempSync(join(tmpdir(), 'foresight-kube-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());

function kubeconfigFile(name: string, server: string, namespace?: string): string {
  const file = join(root, name);
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: c, cluster: { server: "${server}" } }]`,
      'users: [{ name: u, user: { token: t } }]',
      `contexts: [{ name: x, context: { cluster: c, user: u${namespace === undefined ? '' : `, namespace: ${namespace}`} } }]`,
      'current-context: x',
    ].join('\n'),
  );
  return file;
}

function environment(env: Record<string, string>, overrides: Partial<KubeEnvironment> = {}): KubeEnvironment {
  return { env, homeDir: join(root, 'no-home'), rootDir: join(root, 'no-pod'), exists: existsSync, readFile: (p) => readFileSync(p, 'utf8'), ...overrides };
}

describe('resolveKubeConnection', () => {
  test('in a pod: the service account, with the pod namespace', () => {
    const podRoot = join(root, 'pod');
    const sa = join(podRoot, serviceAccountDir);
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'token'), 'sa-token');
    writeFileSync(join(sa, 'ca.crt'), '');
    writeFileSync(join(sa, 'namespace'), 'autoscaling\n');
    // client-node reads the service host and port from process.env itself.
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.96.0.1');
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443');
    const connection = resolveKubeConnection(environment({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBECONFIG: '/ignored' }, { rootDir: podRoot }));
    expect(connection).toMatchObject({ kind: 'in-cluster', server: 'https://10.96.0.1:443', namespace: 'autoscaling', source: 'the pod service account' });
  });

  test('KUBERNETES_SERVICE_HOST without a mounted token is not a pod: falls through to KUBECONFIG', () => {
    const file = kubeconfigFile('a.yaml', 'https://a.example:6443', 'team-a');
    const connection = resolveKubeConnection(environment({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBECONFIG: file }));
    expect(connection).toMatchObject({ kind: 'kubeconfig', server: 'https://a.example:6443', namespace: 'team-a', source: file });
  });

  test('KUBECONFIG with several files: the first existing one names the context', () => {
    const a = kubeconfigFile('first.yaml', 'https://first.example', 'one');
    const missing = join(root, 'missing.yaml');
    const connection = resolveKubeConnection(environment({ KUBECONFIG: [missing, a].join(delimiter) }));
    expect(connection).toMatchObject({ kind: 'kubeconfig', server: 'https://first.example', namespace: 'one' });
  });

  test('~/.kube/config when KUBECONFIG is unset', () => {
    const home = join(root, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), readFileSync(kubeconfigFile('h.yaml', 'https://home.example'), 'utf8'));
    const connection = resolveKubeConnection(environment({}, { homeDir: home }));
    expect(connection).toMatchObject({ kind: 'kubeconfig', server: 'https://home.example', namespace: undefined });
  });

  const none: readonly { name: string; env: Record<string, string>; reason: RegExp }[] = [
    { name: 'nothing at all', env: {}, reason: /not running in a pod .* no KUBECONFIG, and no ~\/\.kube\/config/ },
    { name: 'KUBECONFIG naming missing files', env: { KUBECONFIG: join(root, 'nope.yaml') }, reason: /KUBECONFIG names .*nope\.yaml, and none of these files exists/ },
  ];
  for (const tc of none) {
    test(`none, with the reason, for ${tc.name} (never localhost:8080)`, () => {
      const connection = resolveKubeConnection(environment(tc.env));
      expect(connection.kind).toBe('none');
      if (connection.kind === 'none') expect(connection.reason).toMatch(tc.reason);
    });
  }

  test('a kubeconfig that does not parse is a reason, not a crash', () => {
    const bad = join(root, 'bad.yaml');
    writeFileSync(bad, 'clusters: [ {');
    const connection = resolveKubeConnection(environment({ KUBECONFIG: bad }));
    expect(connection.kind).toBe('none');
    if (connection.kind === 'none') expect(connection.reason).toContain(`could not load ${bad}`);
  });
});

describe('defaultIdentity', () => {
  test('the pod name, else the hostname, with a random suffix so that two processes never share one', () => {
    const a = defaultIdentity({ POD_NAME: 'foresight-7d9f-abcde' }, 'host');
    const b = defaultIdentity({ POD_NAME: 'foresight-7d9f-abcde' }, 'host');
    expect(a).toMatch(/^foresight-7d9f-abcde_[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(defaultIdentity({}, 'laptop')).toMatch(/^laptop_[0-9a-f]{8}$/);
  });
});
