/**
 * The chart's extension points and deployment choices (issue 14 item 3), rendered by helm-lite:
 * the cert-manager CA chain, extraVolumes/extraVolumeMounts, extraObjects, the NetworkPolicy, the
 * scaling rules and the Prometheus CA through values, per-alert overrides in the PrometheusRule, and
 * the probes. chart.test.ts validates every object of ci/extensions-values.yaml and
 * ci/monitoring-values.yaml against the Kubernetes and cert-manager schemas; this file checks what
 * the objects mean.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFromText } from '../../src/config/index.js';
import { parseScalingRules } from '../../src/decide/index.js';
import { requireBinaries } from '../support/binaries.js';
import { repoRoot } from './chart-sources.js';
import { find, type Manifest, renderChart } from './helm-lite.js';

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const podSpec = (m: readonly Manifest[]): Json => obj(obj(obj(find(m, 'Deployment')['spec'])['template'])['spec']);
const container = (m: readonly Manifest[]): Json => obj(arr(podSpec(m)['containers'])[0]);

function render(options: Parameters<typeof renderChart>[0] = {}): readonly Manifest[] {
  const rendered = renderChart(options);
  if (rendered.status !== 0) throw new Error(`helm-lite failed:\n${rendered.stderr}`);
  return rendered.manifests;
}

describe.skipIf(!requireBinaries('go'))('chart extension points', () => {
  let extended: readonly Manifest[];
  beforeAll(() => {
    extended = render({ valuesFiles: ['charts/foresight/ci/extensions-values.yaml'] });
  });

  test('cert-manager: self-signed Issuer → CA Certificate → CA Issuer → serving certificate with renewBefore', () => {
    const issuer = (name: string) => obj(find(extended, 'Issuer', name)['spec']);
    const certificate = (name: string) => obj(find(extended, 'Certificate', name)['spec']);
    // The self-signed Issuer signs only the CA.
    expect(issuer('foresight-selfsigned')).toEqual({ selfSigned: {} });
    expect(certificate('foresight-ca')).toMatchObject({
      isCA: true,
      secretName: 'foresight-ca',
      duration: '87600h',
      renewBefore: '2160h',
      issuerRef: { name: 'foresight-selfsigned', kind: 'Issuer' },
    });
    // The CA keeps its key across renewals, so leaves it signed stay valid.
    expect(obj(certificate('foresight-ca')['privateKey'])['rotationPolicy']).toBe('Never');
    // The CA Issuer is backed by the CA's Secret, and signs the serving certificate.
    expect(issuer('foresight-ca')).toEqual({ ca: { secretName: 'foresight-ca' } });
    const serving = certificate('foresight-serving-cert');
    expect(serving).toMatchObject({ duration: '8760h', renewBefore: '720h', issuerRef: { name: 'foresight-ca', kind: 'Issuer', group: 'cert-manager.io' } });
    expect(serving['isCA']).toBeUndefined();
    expect(serving['usages']).toContain('server auth');
    // The chain is complete and acyclic: every issuerRef names an Issuer rendered here.
    const issuers = new Set(extended.filter((m) => m.kind === 'Issuer').map((m) => m.metadata.name));
    for (const c of extended.filter((m) => m.kind === 'Certificate')) expect(issuers).toContain(String(obj(obj(c['spec'])['issuerRef'])['name']));
    // The API server trusts the CA: the injector reads the serving Secret's ca.crt, which the CA Issuer sets to the CA.
    expect(find(extended, 'APIService').metadata.annotations).toEqual({ 'cert-manager.io/inject-ca-from': 'monitoring/foresight-serving-cert' });
    // durations must leave room to renew: renewBefore below duration, for the CA and the leaf.
    const hours = (d: unknown) => Number(String(d).replace(/h$/, ''));
    expect(hours(serving['renewBefore'])).toBeLessThan(hours(serving['duration']));
    expect(hours(certificate('foresight-ca')['renewBefore'])).toBeLessThan(hours(certificate('foresight-ca')['duration']));
  });

  test('extraVolumes and extraVolumeMounts reach the pod beside the chart-owned ones', () => {
    expect(arr(podSpec(extended)['volumes'])).toContainEqual({ name: 'prometheus-password', secret: { secretName: 'prometheus-basic-auth' } });
    expect(arr(container(extended)['volumeMounts'])).toContainEqual({ name: 'prometheus-password', mountPath: '/var/run/prometheus-password', readOnly: true });
    expect(arr(podSpec(extended)['volumes']).map((v) => obj(v)['name'])).toEqual(expect.arrayContaining(['config', 'serving-cert', 'models', 'tmp']));
  });

  test('extraObjects: maps as written, strings through tpl with the release context', () => {
    expect(find(extended, 'Secret', 'prometheus-basic-auth')).toMatchObject({ stringData: { password: 'example' }, metadata: { namespace: 'monitoring' } });
    expect(find(extended, 'ConfigMap', 'foresight-extra')).toMatchObject({ data: { note: 'made by extraObjects' }, metadata: { namespace: 'monitoring' } });
    expect(render().some((m) => m.metadata.name === 'prometheus-basic-auth')).toBe(false);
  });

  test('scalingRules: in the ConfigMap, named by the configuration, and a valid rules file', () => {
    const data = obj(find(extended, 'ConfigMap', 'foresight')['data']);
    const loaded = loadConfigFromText({ text: String(data['config.yaml']), file: 'config.yaml', env: {} });
    if (!loaded.ok) throw new Error(loaded.error.message);
    // The ConfigMap is mounted at /etc/foresight: the rules file sits beside config.yaml and reloads with it.
    expect(loaded.value.decisions.rulesFile).toBe('/etc/foresight/scaling.rules.yaml');
    const mount = arr(container(extended)['volumeMounts'])
      .map(obj)
      .find((m) => m['name'] === 'config');
    expect(mount?.['mountPath']).toBe('/etc/foresight');
    const rules = parseScalingRules(String(data['scaling.rules.yaml']), 'scaling.rules.yaml');
    expect(rules.ok, JSON.stringify(rules)).toBe(true);
    // Without the value, the image's shipped rules stay in force and the ConfigMap holds only the configuration.
    const plain = obj(find(render(), 'ConfigMap', 'foresight')['data']);
    expect(Object.keys(plain)).toEqual(['config.yaml']);
    expect(loadConfigFromText({ text: String(plain['config.yaml']), file: 'c', env: {} })).toMatchObject({ ok: true, value: { decisions: { rulesFile: 'policies/scaling.rules.yaml' } } });
  });

  test('prometheusCA: only the CA key is mounted, and the configuration trusts that file', () => {
    const volume = arr(podSpec(extended)['volumes'])
      .map(obj)
      .find((v) => v['name'] === 'prometheus-ca');
    expect(volume).toEqual({ name: 'prometheus-ca', configMap: { name: 'prometheus-ca', items: [{ key: 'ca.pem', path: 'ca.crt' }] } });
    expect(arr(container(extended)['volumeMounts'])).toContainEqual({ name: 'prometheus-ca', mountPath: '/var/run/prometheus-ca', readOnly: true });
    const config = parse(String(obj(find(extended, 'ConfigMap', 'foresight')['data'])['config.yaml'])) as { source: { prometheus: Json } };
    // The chart's key joins the user's Prometheus settings instead of replacing them.
    expect(config.source.prometheus).toMatchObject({ url: 'https://prometheus.monitoring.svc:9090', basicAuth: { username: 'foresight' }, tls: { caFile: '/var/run/prometheus-ca/ca.crt' } });
    const fromSecret = render({ values: { prometheusCA: { secretName: 'prom-tls' } } });
    expect(
      arr(podSpec(fromSecret)['volumes'])
        .map(obj)
        .find((v) => v['name'] === 'prometheus-ca'),
    ).toEqual({ name: 'prometheus-ca', secret: { secretName: 'prom-tls', items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
    expect(
      arr(podSpec(render())['volumes'])
        .map(obj)
        .some((v) => v['name'] === 'prometheus-ca'),
    ).toBe(false);
  });

  test('networkPolicy: https open (the API server), http and gRPC only from the given peers, egress limited to DNS plus the rules', () => {
    const spec = obj(find(extended, 'NetworkPolicy')['spec']);
    expect(spec['policyTypes']).toEqual(['Ingress', 'Egress']);
    const ingress = arr(spec['ingress']).map(obj);
    const byPort = (port: string) => ingress.find((r) => arr(r['ports']).some((p) => obj(p)['port'] === port));
    expect(byPort('https')?.['from']).toBeUndefined();
    expect(byPort('http')?.['from']).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]);
    expect(byPort('grpc')?.['from']).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'keda' } } }]);
    const egress = arr(spec['egress']).map(obj);
    expect(arr(egress[0]?.['ports'])).toEqual([
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ]);
    expect(egress).toHaveLength(3);
    // The named ports exist on the container.
    const ports = arr(container(extended)['ports']).map((p) => obj(p)['name']);
    for (const rule of ingress) for (const p of arr(rule['ports'])) expect(ports).toContain(obj(p)['port']);
    // Off by default; without egress rules, egress stays open.
    expect(render().some((m) => m.kind === 'NetworkPolicy')).toBe(false);
    const ingressOnly = obj(find(render({ values: { networkPolicy: { enabled: true }, keda: { grpc: { enabled: false } } } }), 'NetworkPolicy')['spec']);
    expect(ingressOnly['policyTypes']).toEqual(['Ingress']);
    expect(arr(ingressOnly['ingress']).map((r) => obj(arr(obj(r)['ports'])[0])['port'])).toEqual(['https', 'http']);
  });

  test('resources: the values win over the defaults', () => {
    expect(container(extended)['resources']).toEqual({ requests: { cpu: '500m', memory: '768Mi' }, limits: { memory: '2Gi' } });
  });

  test('probes: a startupProbe on /healthz guards start-up; readiness never waits for a cycle', () => {
    const c = container(render());
    expect(c['startupProbe']).toEqual({ httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 0, periodSeconds: 2, timeoutSeconds: 5, failureThreshold: 90 });
    expect(obj(c['readinessProbe'])).toMatchObject({ httpGet: { path: '/readyz', port: 'http' }, initialDelaySeconds: 0 });
    expect(obj(c['livenessProbe'])).toMatchObject({ httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 0 });
  });
});

describe.skipIf(!requireBinaries('go'))('PrometheusRule per-alert overrides and the ForesightDown job', () => {
  const rules = (m: readonly Manifest[]) =>
    arr(obj(find(m, 'PrometheusRule')['spec'])['groups'])
      .flatMap((g) => arr(obj(g)['rules']))
      .map(obj);
  const values = parse(readFileSync(join(repoRoot, 'charts/foresight/ci/monitoring-values.yaml'), 'utf8')) as Json;

  test('severity and for change only on the named alerts, on every rule of an alert with two', () => {
    const overridden = rules(render({ valuesFiles: ['charts/foresight/ci/monitoring-values.yaml'] }));
    const shipped = rules(render({ values: { prometheusRule: { enabled: true } } }));
    const down = overridden.find((r) => r['alert'] === 'ForesightDown')!;
    expect([obj(down['labels'])['severity'], down['for']]).toEqual(['warning', '10m']);
    const expiring = overridden.filter((r) => r['alert'] === 'ForesightCertificateExpiringSoon');
    expect(expiring.map((r) => [obj(r['labels'])['severity'], r['for']])).toEqual([
      ['warning', '2h'],
      ['critical', '2h'],
    ]);
    // Everything else is as shipped (the monitoring values also disable ScalingDecisionSlow and add a group of their own).
    const named = Object.keys(obj(obj(values['prometheusRule'])['alertOverrides']));
    const untouched = (list: Json[]) => list.filter((r) => !named.includes(String(r['alert'])) && !['ScalingDecisionSlow', 'OrdersPredictedOverload'].includes(String(r['alert'])));
    expect(untouched(overridden)).toEqual(untouched(shipped));
    expect(shipped.find((r) => r['alert'] === 'ForesightDown')).toMatchObject({ for: '5m', labels: { severity: 'critical' } });
  });

  test('an override of an alert that does not exist is refused with its name', () => {
    const result = renderChart({ values: { prometheusRule: { enabled: true, alertOverrides: { ForesightDwn: { severity: 'info' } } } } });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('prometheusRule.alertOverrides: ForesightDwn is not a shipped alert');
  });

  test('ForesightDown watches the job the ServiceMonitor names after the chart', () => {
    const m = render({ values: { prometheusRule: { enabled: true }, serviceMonitor: { enabled: true } } });
    expect(obj(find(m, 'ServiceMonitor')['spec'])['jobLabel']).toBe('app.kubernetes.io/name');
    expect(find(m, 'Service').metadata.labels?.['app.kubernetes.io/name']).toBe('foresight');
    expect(rules(m).find((r) => r['alert'] === 'ForesightDown')?.['expr']).toBe('absent(up{job="foresight"} == 1)');
    const renamed = render({ values: { nameOverride: 'fs', prometheusRule: { enabled: true } } });
    expect(rules(renamed).find((r) => r['alert'] === 'ForesightDown')?.['expr']).toBe('absent(up{job="fs"} == 1)');
  });
});
