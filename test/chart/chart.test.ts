/**
 * The Helm chart, rendered by helm-lite (a Go text/template + sprig renderer built from Debian
 * packages, see test/chart/helm-lite.ts) for the default values and every ci/*-values.yaml, each
 * object validated against the Kubernetes and prometheus-operator schemas, and the embedded rules
 * checked by promtool.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { loadConfigFromText } from '../../src/config/index.js';
import { requireBinaries } from '../support/binaries.js';
import { chartDir, repoRoot, shippedDashboards, shippedRuleGroups } from './chart-sources.js';
import { find, type Manifest, renderChart, type Rendered } from './helm-lite.js';
import { selectorLabelMaps, unknownFields, validateManifest } from './manifest-checks.js';

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const podSpec = (deployment: Manifest): Json => obj(obj(obj(deployment['spec'])['template'])['spec']);
const container = (deployment: Manifest): Json => obj(arr(podSpec(deployment)['containers'])[0]);

const ciFiles = readdirSync(join(chartDir, 'ci'))
  .filter((f) => f.endsWith('-values.yaml'))
  .sort()
  .map((f) => `charts/foresight/ci/${f}`);

/** Renders and insists on success, with helm-lite's message in the failure. */
function render(options: Parameters<typeof renderChart>[0] = {}): Rendered {
  const rendered = renderChart(options);
  if (rendered.status !== 0) throw new Error(`helm-lite failed:\n${rendered.stderr}`);
  return rendered;
}

/** Checks every property the chart promises, for one rendering. */
function checkRendering(manifests: readonly Manifest[], releaseNamespace: string): void {
  expect(manifests.length).toBeGreaterThan(0);
  for (const m of manifests) {
    validateManifest(m);
    expect(unknownFields(m), `${m.kind} ${m.metadata.name}`).toEqual([]);
    // Standard labels on everything the chart makes (extraObjects are the user's, as written);
    // never the chart version in a selector (selectors are immutable).
    if (!m.source.endsWith('/extra-objects.yaml')) expect(m.metadata.labels?.['app.kubernetes.io/managed-by'], `${m.kind} ${m.metadata.name}`).toBe('Helm');
    if (!m.source.endsWith('/extra-objects.yaml')) expect(m.metadata.labels?.['helm.sh/chart']).toMatch(/^foresight-\d+\.\d+\.\d+/);
    for (const selector of selectorLabelMaps(m)) {
      expect(Object.keys(selector.labels), `${m.kind} ${m.metadata.name} ${selector.path}`).not.toContain('helm.sh/chart');
      expect(Object.keys(selector.labels), `${m.kind} ${m.metadata.name} ${selector.path}`).not.toContain('app.kubernetes.io/version');
    }
  }
  const names = manifests.map((m) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`);
  expect(new Set(names).size, 'no object is rendered twice').toBe(names.length);

  // The pods: a Deployment, or the StatefulSet of the shards (sharding.enabled).
  const deployment = manifests.some((m) => m.kind === 'StatefulSet') ? find(manifests, 'StatefulSet') : find(manifests, 'Deployment');
  const pod = podSpec(deployment);
  const c = container(deployment);
  const templateLabels = obj(obj(obj(deployment['spec'])['template'])['metadata'])['labels'];
  const selector = obj(obj(deployment['spec'])['selector'])['matchLabels'];
  expect(templateLabels).toMatchObject(obj(selector));

  // Security: non-root, read-only root file system, no privilege escalation, every capability dropped.
  expect(pod['securityContext']).toMatchObject({ runAsNonRoot: true });
  expect(c['securityContext']).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  // Probes on the HTTP port: /healthz for liveness, /readyz for readiness; HTTPS when the port serves TLS (httpTls).
  const served = loadConfigFromText({ text: String(obj(find(manifests, 'ConfigMap', deployment.metadata.name)['data'])['config.yaml']), file: 'config.yaml (from the chart)', env: {} });
  const probeScheme = served.ok && served.value.server.tls.certFile !== undefined ? { scheme: 'HTTPS' } : {};
  expect(obj(c['livenessProbe'])['httpGet']).toEqual({ path: '/healthz', port: 'http', ...probeScheme });
  expect(obj(c['readinessProbe'])['httpGet']).toEqual({ path: '/readyz', port: 'http', ...probeScheme });
  // A startupProbe holds liveness back while the process starts (docs/external-metrics.md "Available before the first cycle").
  expect(obj(c['startupProbe'])['httpGet']).toEqual({ path: '/healthz', port: 'http', ...probeScheme });

  // References between objects resolve.
  const containerPorts = arr(c['ports']).map((p) => obj(p)['name']);
  const volumes = arr(pod['volumes']).map((v) => obj(v)['name']);
  for (const mount of arr(c['volumeMounts'])) expect(volumes).toContain(obj(mount)['name']);
  const service = find(manifests, 'Service', deployment.metadata.name);
  expect(obj(service['spec'])['selector']).toEqual(selector);
  for (const port of arr(obj(service['spec'])['ports'])) expect(containerPorts).toContain(obj(port)['targetPort']);
  const configMapName = obj(obj(arr(pod['volumes']).find((v) => obj(v)['name'] === 'config'))['configMap'])['name'];
  const configMap = find(manifests, 'ConfigMap', String(configMapName));
  const serviceAccount = pod['serviceAccountName'];
  for (const binding of manifests.filter((m) => m.kind === 'ClusterRoleBinding' || m.kind === 'RoleBinding')) {
    const subjects = arr(binding['subjects']).map((s) => obj(s));
    if (binding.metadata.name.endsWith('hpa-external-metrics')) continue;
    expect(subjects).toEqual([{ kind: 'ServiceAccount', name: serviceAccount, namespace: releaseNamespace }]);
  }
  const apiService = manifests.find((m) => m.kind === 'APIService');
  if (apiService !== undefined) {
    const target = obj(obj(apiService['spec'])['service']);
    expect(target).toEqual({ name: service.metadata.name, namespace: service.metadata.namespace, port: obj(arr(obj(service['spec'])['ports']).find((p) => obj(p)['name'] === 'https'))['port'] });
  }
  const monitor = manifests.find((m) => m.kind === 'ServiceMonitor');
  if (monitor !== undefined) {
    for (const endpoint of arr(obj(monitor['spec'])['endpoints'])) {
      expect(arr(obj(service['spec'])['ports']).map((p) => obj(p)['name'])).toContain(obj(endpoint)['port']);
    }
  }

  // The configuration file the chart writes is one Foresight accepts, with the ports the pod exposes.
  const configText = String(obj(configMap['data'])['config.yaml']);
  // A shard reads its index from its pod name (the first pod here), as the downward API gives it.
  const podEnv = arr(c['env']).some((e) => obj(e)['name'] === 'SCALING_SHARD_INDEX') ? { SCALING_SHARD_INDEX: `${deployment.metadata.name}-0` } : {};
  const loaded = loadConfigFromText({ text: configText, file: 'config.yaml (from the chart)', env: podEnv });
  if (!loaded.ok) throw new Error(loaded.error.message);
  const portOf = (name: string) => obj(arr(c['ports']).find((p) => obj(p)['name'] === name))['containerPort'];
  expect(loaded.value.server.port).toBe(portOf('http'));
  expect(loaded.value.externalMetrics.port).toBe(portOf('https'));
  if (loaded.value.keda.grpc.enabled) expect(loaded.value.keda.grpc.port).toBe(portOf('grpc'));
  else expect(containerPorts).not.toContain('grpc');
  const certVolume = obj(arr(pod['volumes']).find((v) => obj(v)['name'] === 'serving-cert'));
  const certMount = obj(arr(c['volumeMounts']).find((v) => obj(v)['name'] === 'serving-cert'));
  expect(loaded.value.externalMetrics.tls.certFile).toBe(`${String(certMount['mountPath'])}/tls.crt`);
  expect(obj(certVolume['secret'])['secretName']).toBeTruthy();
  // Every KEDA gRPC TLS file the configuration names lies in a folder the pod mounts.
  const mountPaths = arr(c['volumeMounts']).map((m) => obj(m)['mountPath']);
  const { certFile, keyFile, clientCAFile } = loaded.value.keda.grpc.tls;
  for (const file of [certFile, keyFile, clientCAFile]) if (file !== undefined) expect(mountPaths, file).toContain(dirname(file));
}

describe.skipIf(!requireBinaries('go'))('Helm chart charts/foresight (rendered by helm-lite)', () => {
  let defaults: readonly Manifest[];
  beforeAll(() => {
    defaults = render().manifests;
  });

  test('default values render the expected objects, each valid and consistent', () => {
    expect(defaults.map((m) => m.kind).sort()).toEqual(
      [
        'APIService',
        'ClusterRole',
        'ClusterRole',
        'ClusterRoleBinding',
        'ClusterRoleBinding',
        'ConfigMap',
        'Deployment',
        'PodDisruptionBudget',
        'RoleBinding',
        'Secret',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
    checkRendering(defaults, 'monitoring');
    // Requests from the measured footprint, a memory limit, no CPU limit (docs/helm-chart.md#resources);
    // everything namespaced goes to the release namespace except the auth-reader binding.
    expect(container(find(defaults, 'Deployment'))['resources']).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } });
    for (const m of defaults.filter((d) => d.metadata.namespace !== undefined)) {
      expect(m.metadata.namespace).toBe(m.kind === 'RoleBinding' ? 'kube-system' : 'monitoring');
    }
    expect(find(defaults, 'RoleBinding')['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' });
    expect(find(defaults, 'ClusterRoleBinding', 'foresight:system:auth-delegator')['roleRef']).toMatchObject({ kind: 'ClusterRole', name: 'system:auth-delegator' });
    expect(find(defaults, 'ClusterRoleBinding', 'foresight-hpa-external-metrics')['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'horizontal-pod-autoscaler', namespace: 'kube-system' }]);
    expect(find(defaults, 'ClusterRole', 'foresight-external-metrics-reader')['rules']).toEqual([{ apiGroups: ['external.metrics.k8s.io'], resources: ['*'], verbs: ['get', 'list', 'watch'] }]);
  });

  for (const file of ciFiles) {
    test(`${file} renders valid, consistent objects`, () => {
      const values = readFileSync(join(repoRoot, file), 'utf8');
      const namespace = /^namespaceOverride: (\S+)/m.exec(values)?.[1] ?? 'monitoring';
      checkRendering(render({ valuesFiles: [file] }).manifests, namespace);
    });
  }

  test('the release name sets the resource names (and is not repeated when it contains the chart name)', () => {
    expect(find(defaults, 'Deployment').metadata.name).toBe('foresight');
    const other = render({ name: 'ops', namespace: 'tools', values: { tls: { type: 'certManager' } } }).manifests;
    expect(find(other, 'Deployment').metadata.name).toBe('ops-foresight');
    expect(obj(obj(find(other, 'APIService')['spec'])['service'])).toEqual({ name: 'ops-foresight', namespace: 'tools', port: 443 });
  });

  describe('serving certificate', () => {
    test('tls.type helm: the Secret holds a certificate for <service>.<namespace>.svc signed by the CA the APIService trusts', () => {
      const data = obj(find(defaults, 'Secret')['data']);
      const pem = (key: string) => Buffer.from(String(data[key]), 'base64').toString('utf8');
      const ca = new X509Certificate(pem('ca.crt'));
      const cert = new X509Certificate(pem('tls.crt'));
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkHost('foresight.monitoring.svc')).toBe('foresight.monitoring.svc');
      expect(cert.checkPrivateKey(createPrivateKey(pem('tls.key')))).toBe(true);
      expect(ca.ca).toBe(true);
      expect(obj(find(defaults, 'APIService')['spec'])['caBundle']).toBe(data['ca.crt']);
      expect(obj(find(defaults, 'APIService')['spec'])['insecureSkipTLSVerify']).toBeUndefined();
    });

    test('tls.type helm: an upgrade reuses the certificate already in the cluster', () => {
      const secret = find(defaults, 'Secret');
      const { source: _source, ...existing } = secret;
      const again = render({ objects: [existing] }).manifests;
      expect(find(again, 'Secret')['data']).toEqual(secret['data']);
      expect(obj(find(again, 'APIService')['spec'])['caBundle']).toBe(obj(secret['data'])['ca.crt']);
      // Without it, a new CA is generated: the reuse is what keeps the APIService working across upgrades.
      expect(find(render().manifests, 'Secret')['data']).not.toEqual(secret['data']);
    });

    test('tls.type certManager: a Certificate for the service names, its CA injected into the APIService', () => {
      const m = render({ values: { tls: { type: 'certManager' } } }).manifests;
      const certificate = find(m, 'Certificate', 'foresight-serving-cert');
      expect(obj(certificate['spec'])).toMatchObject({ secretName: 'foresight-serving-cert', issuerRef: { name: 'foresight-ca', kind: 'Issuer' } });
      expect(obj(certificate['spec'])['dnsNames']).toContain('foresight.monitoring.svc');
      expect(find(m, 'APIService').metadata.annotations).toEqual({ 'cert-manager.io/inject-ca-from': 'monitoring/foresight-serving-cert' });
      expect(obj(find(m, 'APIService')['spec'])['caBundle']).toBeUndefined();
      expect(m.some((x) => x.kind === 'Secret')).toBe(false);
      const withIssuer = render({ values: { tls: { type: 'certManager', certManager: { issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' } } } } }).manifests;
      expect(withIssuer.filter((x) => x.kind === 'Issuer' || x.kind === 'Certificate').map((x) => x.metadata.name)).toEqual(['foresight-serving-cert']);
      expect(obj(find(withIssuer, 'Certificate')['spec'])['issuerRef']).toEqual({ name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
    });

    test('tls.type existingSecret needs the Secret name and the CA, and says so', () => {
      const noName = renderChart({ values: { tls: { type: 'existingSecret' }, apiService: { create: false } } });
      expect(noName.status).toBe(1);
      expect(noName.stderr).toContain('tls.existingSecret is required when tls.type is existingSecret');
      const noCa = renderChart({ values: { tls: { type: 'existingSecret', existingSecret: 'my-tls' } } });
      expect(noCa.status).toBe(1);
      expect(noCa.stderr).toContain('tls.caBundle is required when tls.type is existingSecret');
      const ok = render({ values: { tls: { type: 'existingSecret', existingSecret: 'my-tls', caBundle: 'Q0E=' } } }).manifests;
      expect(obj(find(ok, 'APIService')['spec'])['caBundle']).toBe('Q0E=');
      expect(obj(obj(arr(podSpec(find(ok, 'Deployment'))['volumes']).find((v) => obj(v)['name'] === 'serving-cert'))['secret'])['secretName']).toBe('my-tls');
    });

    test('insecureSkipTLSVerify only when asked, and then without a caBundle or a CA injection (the API server refuses both)', () => {
      const apiService = find(render({ values: { tls: { type: 'certManager' }, apiService: { insecureSkipTLSVerify: true } } }).manifests, 'APIService');
      expect(obj(apiService['spec'])['insecureSkipTLSVerify']).toBe(true);
      expect(obj(apiService['spec'])['caBundle']).toBeUndefined();
      expect(apiService.metadata.annotations).toBeUndefined();
    });
  });

  describe('APIService ownership (lookup sees the objects given to helm-lite as the cluster)', () => {
    // cert-manager mode: no key pair to generate, and the certificate plays no part here.
    const fast = { tls: { type: 'certManager' } };
    const existingApiService = (annotations: Record<string, string> | undefined, service: { name: string; namespace: string }) => ({
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1beta1.external.metrics.k8s.io', ...(annotations === undefined ? {} : { annotations }) },
      spec: { group: 'external.metrics.k8s.io', version: 'v1beta1', service: { ...service, port: 443 }, groupPriorityMinimum: 100, versionPriority: 100 },
    });
    const keda = existingApiService({ 'meta.helm.sh/release-name': 'keda', 'meta.helm.sh/release-namespace': 'keda' }, { name: 'keda-operator-metrics-apiserver', namespace: 'keda' });

    test("refuses to take over another release's APIService, naming the owner and both ways out", () => {
      const result = renderChart({ objects: [keda], values: fast });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('APIService v1beta1.external.metrics.k8s.io already exists, served by service keda/keda-operator-metrics-apiserver (it belongs to Helm release keda/keda)');
      expect(result.stderr).toContain('set apiService.create=false');
      expect(result.stderr).toContain('apiService.takeOver=true');
      expect(result.stderr).toMatch(/^Error: execution error at \(foresight\/templates\/apiservice\.yaml:\d+:\d+\)/);
    });

    test('refuses an APIService that Helm does not manage (e.g. applied with kubectl)', () => {
      const result = renderChart({ objects: [existingApiService(undefined, { name: 'prometheus-adapter', namespace: 'monitoring' })], values: fast });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('served by service monitoring/prometheus-adapter (it is not managed by Helm)');
    });

    test('upgrades its own APIService, takes over when told, and registers none when apiService.create is false', () => {
      const own = existingApiService({ 'meta.helm.sh/release-name': 'foresight', 'meta.helm.sh/release-namespace': 'monitoring' }, { name: 'foresight', namespace: 'monitoring' });
      expect(render({ objects: [own], values: fast }).manifests.filter((m) => m.kind === 'APIService')).toHaveLength(1);
      expect(render({ objects: [keda], values: { ...fast, apiService: { takeOver: true } } }).manifests.filter((m) => m.kind === 'APIService')).toHaveLength(1);
      const beside = render({ objects: [keda], values: { ...fast, apiService: { create: false } } }).manifests;
      expect(beside.some((m) => m.kind === 'APIService')).toBe(false);
      // Beside KEDA, Foresight still serves its own Service, so KEDA's triggers can reach it.
      expect(find(beside, 'Deployment')).toBeDefined();
    });
  });

  test('sharding (ci/sharded-values.yaml): a StatefulSet of shards, a headless Service, the APIService on the main Service', () => {
    const m = render({ valuesFiles: ['charts/foresight/ci/sharded-values.yaml'] }).manifests;
    expect(m.some((x) => x.kind === 'Deployment')).toBe(false);
    const shards = find(m, 'StatefulSet');
    const spec = obj(shards['spec']);
    expect(spec).toMatchObject({ replicas: 3, serviceName: 'foresight-shards', podManagementPolicy: 'Parallel' });
    const headless = find(m, 'Service', 'foresight-shards');
    expect(obj(headless['spec'])).toMatchObject({ clusterIP: 'None', selector: obj(spec['selector'])['matchLabels'] });
    // Any shard answers for every series: the APIService stays on the main Service.
    expect(obj(obj(find(m, 'APIService')['spec'])['service'])['name']).toBe('foresight');
    // Each pod is scraped once: the ServiceMonitor leaves the headless Service out.
    const selector = obj(obj(find(m, 'ServiceMonitor')['spec'])['selector']);
    expect(selector['matchExpressions']).toEqual([{ key: 'app.kubernetes.io/component', operator: 'NotIn', values: ['shards'] }]);
    expect(obj(headless.metadata.labels)['app.kubernetes.io/component']).toBe('shards');
    expect(obj(find(m, 'Service', 'foresight').metadata.labels)['app.kubernetes.io/component']).not.toBe('shards');
    // The pod name is the shard index; the written configuration loads with it, and not without one.
    const env = arr(container(shards)['env']).map((e) => obj(e));
    expect(env.find((e) => e['name'] === 'SCALING_SHARD_INDEX')).toEqual({ name: 'SCALING_SHARD_INDEX', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
    const configText = String(obj(find(m, 'ConfigMap', 'foresight')['data'])['config.yaml']);
    const loaded = loadConfigFromText({ text: configText, file: 'config.yaml', env: { SCALING_SHARD_INDEX: 'foresight-2' } });
    if (!loaded.ok) throw new Error(loaded.error.message);
    expect(loaded.value.sharding).toMatchObject({ replicas: 3, index: 2, readBack: { labels: { job: 'foresight' } } });
    expect(loadConfigFromText({ text: configText, file: 'config.yaml', env: {} }).ok).toBe(false);
  });

  describe('monitoring objects (ci/monitoring-values.yaml)', () => {
    let monitoring: readonly Manifest[];
    beforeAll(() => {
      monitoring = render({ valuesFiles: ['charts/foresight/ci/monitoring-values.yaml'] }).manifests;
    });

    test('the PrometheusRule holds the shipped rules minus the disabled ones, plus the extra group, template text intact', () => {
      const groups = arr(obj(find(monitoring, 'PrometheusRule')['spec'])['groups']).map(obj);
      const names = (g: Json) => arr(g['rules']).map((r) => String(obj(r)['alert'] ?? obj(r)['record']));
      const shipped = shippedRuleGroups().groups;
      const expected = [
        ...shipped.map((g) => ({ name: g.name, rules: g.rules.map((r) => String(r['alert'] ?? r['record'])).filter((n) => n !== 'ScalingDecisionSlow') })),
        { name: 'team-orders', rules: ['OrdersPredictedOverload'] },
      ].filter((g) => g.rules.length > 0);
      expect(groups.map((g) => ({ name: g['name'], rules: names(g) }))).toEqual(expected);
      const extra = groups.find((g) => g['name'] === 'team-orders');
      expect(obj(obj(arr(extra?.['rules'])[0])['annotations'])['description']).toBe('p90 forecast {{ $value }} for queue {{ $labels.queue }}.');
      // The shipped rules come out exactly as written, alert templates included.
      const original = shipped.flatMap((g) => g.rules).find((r) => r['alert'] !== undefined && r['alert'] !== 'ScalingDecisionSlow');
      if (original !== undefined) {
        const rendered = groups.flatMap((g) => arr(g['rules']).map(obj)).find((r) => r['alert'] === original['alert']);
        expect(rendered).toEqual(original);
      }
      expect(find(monitoring, 'PrometheusRule').metadata.labels?.['release']).toBe('kube-prometheus-stack');
    });

    test.skipIf(!requireBinaries('promtool'))('the PrometheusRule spec passes promtool check rules', () => {
      const dir = mkdtempSync(join(tmpdir(), 'foresight-rules-'));
      try {
        const file = join(dir, 'rules.yaml');
        writeFileSync(file, stringify(find(monitoring, 'PrometheusRule')['spec']));
        const check = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
        expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
        expect(check.stdout).toMatch(/SUCCESS: \d+ rules found/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('the dashboard ConfigMap carries the sidecar label and the dashboards unchanged', () => {
      const configMap = find(monitoring, 'ConfigMap', 'foresight-dashboards');
      expect(configMap.metadata.namespace).toBe('grafana');
      expect(configMap.metadata.labels?.['grafana_dashboard']).toBe('1');
      expect(configMap.metadata.annotations).toEqual({ grafana_folder: 'Foresight' });
      const data = obj(configMap['data']);
      const shipped = shippedDashboards();
      expect(Object.keys(data).sort()).toEqual([...shipped.keys(), 'team-orders.json'].sort());
      for (const [file, json] of shipped) expect(JSON.parse(String(data[file]))).toEqual(JSON.parse(json));
      const extra = JSON.parse(String(data['team-orders.json'])) as { panels: { targets: { legendFormat: string }[] }[] };
      expect(extra.panels[0]?.targets[0]?.legendFormat).toBe('{{quantile}}');
    });

    test('the ServiceMonitor scrapes /metrics on the http port, and namespaceOverride moves the namespaced objects', () => {
      const monitor = find(monitoring, 'ServiceMonitor');
      expect(arr(obj(monitor['spec'])['endpoints'])[0]).toMatchObject({ port: 'http', path: '/metrics', interval: '15s' });
      expect(obj(obj(monitor['spec'])['namespaceSelector'])).toEqual({ matchNames: ['autoscaling'] });
      expect(find(monitoring, 'Deployment').metadata.namespace).toBe('autoscaling');
    });

    test('disabled by default: no ServiceMonitor, PrometheusRule or dashboard without the CRDs or sidecar asked for', () => {
      expect(defaults.some((m) => ['ServiceMonitor', 'PrometheusRule'].includes(m.kind) || m.metadata.name.endsWith('-dashboards'))).toBe(false);
    });
  });

  test('actuation RBAC: exactly the objects config.actuation names, by namespace, and the Lease', () => {
    const actuation = {
      enabled: true,
      targets: {
        worker_processes: { name: 'claims-worker', namespace: 'claims' },
        api_instances: { kind: 'StatefulSet', name: 'claims-api', namespace: 'claims' },
        batch_processors: { name: 'batch', namespace: 'batch' },
        db_connections: { name: 'claims-db-pool', namespace: 'claims', key: 'poolSize' },
      },
      leaderElection: { leaseName: 'foresight-lease' },
    };
    const m = render({ values: { tls: { type: 'certManager' }, config: { actuation } } }).manifests;
    checkRendering(m, 'monitoring');
    const roles = m.filter((x) => x.kind === 'Role');
    expect(roles.map((r) => `${r.metadata.namespace}/${r.metadata.name}`).sort()).toEqual(['batch/foresight-actuator', 'claims/foresight-actuator', 'monitoring/foresight-leader-election']);
    const claims = roles.find((r) => r.metadata.namespace === 'claims');
    expect(claims?.['rules']).toEqual([
      { apiGroups: ['apps'], resources: ['deployments/scale', 'statefulsets/scale'], resourceNames: ['claims-api', 'claims-worker'], verbs: ['get', 'patch'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['claims-db-pool'], verbs: ['patch'] },
    ]);
    expect(roles.find((r) => r.metadata.namespace === 'batch')?.['rules']).toEqual([
      { apiGroups: ['apps'], resources: ['deployments/scale', 'statefulsets/scale'], resourceNames: ['batch'], verbs: ['get', 'patch'] },
    ]);
    expect(arr(roles.find((r) => r.metadata.name === 'foresight-leader-election')?.['rules'])[0]).toMatchObject({ resourceNames: ['foresight-lease'], verbs: ['get', 'update'] });
    const bindings = m.filter((x) => x.kind === 'RoleBinding').map((b) => `${b.metadata.namespace}/${b.metadata.name}->${String(obj(b['roleRef'])['name'])}`);
    expect(bindings.sort()).toEqual([
      'batch/foresight-actuator->foresight-actuator',
      'claims/foresight-actuator->foresight-actuator',
      'kube-system/foresight-auth-reader->extension-apiserver-authentication-reader',
      'monitoring/foresight-leader-election->foresight-leader-election',
    ]);
    // Off (the default): no write access at all.
    expect(defaults.some((x) => x.kind === 'Role')).toBe(false);
    expect(render({ values: { tls: { type: 'certManager' }, config: { actuation: { ...actuation, enabled: false } } } }).manifests.some((x) => x.kind === 'Role')).toBe(false);
  });

  test('a PodDisruptionBudget only with two replicas or more', () => {
    expect(find(defaults, 'PodDisruptionBudget')['spec']).toMatchObject({ minAvailable: 1 });
    expect(render({ values: { replicaCount: 1, tls: { type: 'certManager' } } }).manifests.some((m) => m.kind === 'PodDisruptionBudget')).toBe(false);
  });

  test('the KEDA gRPC port follows keda.grpc.enabled in the Service, the pod and the configuration', () => {
    const off = render({ values: { keda: { grpc: { enabled: false } }, tls: { type: 'certManager' } } }).manifests;
    expect(arr(obj(find(off, 'Service')['spec'])['ports']).map((p) => obj(p)['name'])).toEqual(['http', 'https']);
    expect(arr(container(find(off, 'Deployment'))['ports']).map((p) => obj(p)['name'])).toEqual(['http', 'https']);
    expect(String(obj(find(off, 'ConfigMap')['data'])['config.yaml'])).toMatch(/grpc:\n\s+enabled: false/);
  });

  describe('KEDA gRPC TLS (keda.grpc.tls)', () => {
    const configOf = (manifests: readonly Manifest[]) => {
      const loaded = loadConfigFromText({ text: String(obj(find(manifests, 'ConfigMap')['data'])['config.yaml']), file: 'config.yaml (from the chart)', env: {} });
      if (!loaded.ok) throw new Error(loaded.error.message);
      return loaded.value;
    };
    const volume = (manifests: readonly Manifest[], name: string) =>
      arr(podSpec(find(manifests, 'Deployment'))['volumes'])
        .map(obj)
        .find((v) => v['name'] === name);
    const mount = (manifests: readonly Manifest[], name: string) =>
      arr(container(find(manifests, 'Deployment'))['volumeMounts'])
        .map(obj)
        .find((v) => v['name'] === name);

    test('off by default: the port is plaintext and nothing more is mounted', () => {
      expect(configOf(defaults).keda.grpc.tls).toEqual({ reloadInterval: 30 });
      expect(volume(defaults, 'keda-grpc-tls')).toBeUndefined();
      expect(volume(defaults, 'keda-grpc-client-ca')).toBeUndefined();
    });

    test('mutual TLS from Secrets: the certificate pair and only the CA key are mounted, and the configuration names the mounted files', () => {
      const m = render({ valuesFiles: ['charts/foresight/ci/keda-grpc-mtls-values.yaml'] }).manifests;
      checkRendering(m, 'monitoring');
      expect(configOf(m).keda.grpc.tls).toEqual({
        certFile: '/var/run/keda-grpc-tls/tls.crt',
        keyFile: '/var/run/keda-grpc-tls/tls.key',
        clientCAFile: '/var/run/keda-grpc-client-ca/ca.crt',
        reloadInterval: 30,
      });
      expect(volume(m, 'keda-grpc-tls')).toEqual({
        name: 'keda-grpc-tls',
        secret: {
          secretName: 'foresight-grpc-tls',
          items: [
            { key: 'tls.crt', path: 'tls.crt' },
            { key: 'tls.key', path: 'tls.key' },
          ],
        },
      });
      expect(volume(m, 'keda-grpc-client-ca')).toEqual({ name: 'keda-grpc-client-ca', secret: { secretName: 'keda-client-ca', items: [{ key: 'ca.pem', path: 'ca.crt' }] } });
      // Mounted as folders, never subPath: a renewed Secret reaches the pod and is reloaded in place.
      for (const name of ['keda-grpc-tls', 'keda-grpc-client-ca']) expect(mount(m, name)).toMatchObject({ readOnly: true, mountPath: expect.stringMatching(/^\/var\/run\//) });
      for (const name of ['keda-grpc-tls', 'keda-grpc-client-ca']) expect(mount(m, name)?.['subPath']).toBeUndefined();
    });

    test('without its own Secret the external-metrics serving certificate (it names <service>.<namespace>.svc) serves gRPC too', () => {
      const m = render({ values: { keda: { grpc: { tls: { enabled: true } } } } }).manifests;
      checkRendering(m, 'monitoring');
      expect(configOf(m).keda.grpc.tls).toEqual({ certFile: '/var/run/serving-cert/tls.crt', keyFile: '/var/run/serving-cert/tls.key', reloadInterval: 30 });
      expect(volume(m, 'keda-grpc-tls')).toBeUndefined();
    });

    test('a client CA without TLS is refused with a message; with the gRPC port off nothing is mounted', () => {
      const refused = renderChart({ values: { tls: { type: 'certManager' }, keda: { grpc: { tls: { clientCASecret: 'keda-client-ca' } } } } });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('keda.grpc.tls.clientCASecret needs keda.grpc.tls.enabled: true');
      const off = render({ values: { tls: { type: 'certManager' }, keda: { grpc: { enabled: false, tls: { enabled: true, existingSecret: 'foresight-grpc-tls' } } } } }).manifests;
      checkRendering(off, 'monitoring');
      expect(configOf(off).keda.grpc.tls.certFile).toBeUndefined();
      expect(volume(off, 'keda-grpc-tls')).toBeUndefined();
    });

    test('NOTES.txt says what KEDA must send', () => {
      const notes = renderChart({ notes: true, valuesFiles: ['charts/foresight/ci/keda-grpc-mtls-values.yaml'] });
      expect(notes.status).toBe(0);
      expect(notes.stdout).toContain('over mutual TLS: give KEDA caCert, tlsClientCert and tlsClientKey');
    });
  });

  test('NOTES.txt renders the commands for the chosen surfaces', () => {
    const notes = renderChart({ notes: true, values: { tls: { type: 'certManager' } } });
    expect(notes.status).toBe(0);
    expect(notes.stdout).toContain('kubectl get --raw /apis/external.metrics.k8s.io/v1beta1');
    expect(notes.stdout).toContain('scalerAddress foresight.monitoring.svc:9000');
    const beside = renderChart({ notes: true, values: { apiService: { create: false }, keda: { grpc: { enabled: false } } } });
    expect(beside.stdout).toContain('apiService.create is false');
    expect(beside.stdout).not.toContain('scalerAddress');
  });
});
