/**
 * The HTTP port's TLS and client certificates in the chart (httpTls, serviceMonitor.clientCertSecret),
 * rendered by helm-lite: the configuration names the mounted files, only the CA key is mounted, the
 * probes switch to HTTPS (they never need a client certificate), the ServiceMonitor scrapes https
 * with a client certificate, and inconsistent values fail the render with the reason.
 * chart.test.ts validates every object of ci/http-mtls-values.yaml against the Kubernetes schemas.
 */
import { describe, expect, test } from 'vitest';
import { loadConfigFromText } from '../../src/config/index.js';
import { requireBinaries } from '../support/binaries.js';
import { find, type Manifest, renderChart } from './helm-lite.js';

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const podSpec = (m: readonly Manifest[]): Json => obj(obj(obj(find(m, 'Deployment')['spec'])['template'])['spec']);
const container = (m: readonly Manifest[]): Json => obj(arr(podSpec(m)['containers'])[0]);
const volume = (m: readonly Manifest[], name: string) =>
  arr(podSpec(m)['volumes'])
    .map(obj)
    .find((v) => v['name'] === name);
const mount = (m: readonly Manifest[], name: string) =>
  arr(container(m)['volumeMounts'])
    .map(obj)
    .find((v) => v['name'] === name);

function render(options: Parameters<typeof renderChart>[0] = {}): readonly Manifest[] {
  const rendered = renderChart(options);
  if (rendered.status !== 0) throw new Error(`helm-lite failed:\n${rendered.stderr}`);
  return rendered.manifests;
}

function serverConfigOf(m: readonly Manifest[]) {
  const loaded = loadConfigFromText({ text: String(obj(find(m, 'ConfigMap')['data'])['config.yaml']), file: 'config.yaml (from the chart)', env: {} });
  if (!loaded.ok) throw new Error(loaded.error.message);
  return loaded.value.server;
}

const probeSchemes = (m: readonly Manifest[]) => ['startupProbe', 'livenessProbe', 'readinessProbe'].map((probe) => obj(obj(container(m)[probe])['httpGet'])['scheme']);

describe.skipIf(!requireBinaries('go'))('the HTTP port over TLS (httpTls)', () => {
  test('off by default: plain HTTP, HTTP probes, nothing more mounted, the ServiceMonitor scrapes http', () => {
    const m = render({ values: { tls: { type: 'certManager' }, serviceMonitor: { enabled: true } } });
    expect(serverConfigOf(m).tls).toEqual({ allowedNames: [], reloadInterval: 30 });
    expect(probeSchemes(m)).toEqual([undefined, undefined, undefined]); // Kubernetes' default, HTTP
    expect(volume(m, 'http-tls')).toBeUndefined();
    expect(volume(m, 'http-client-ca')).toBeUndefined();
    const endpoint = obj(arr(obj(find(m, 'ServiceMonitor')['spec'])['endpoints'])[0]);
    expect(endpoint['scheme']).toBeUndefined();
    expect(endpoint['tlsConfig']).toBeUndefined();
  });

  test('mutual TLS (ci/http-mtls-values.yaml): the serving certificate is reused, only the CA key is mounted, probes use HTTPS, Prometheus presents its certificate', () => {
    const m = render({ valuesFiles: ['charts/foresight/ci/http-mtls-values.yaml'] });
    expect(serverConfigOf(m).tls).toEqual({
      certFile: '/var/run/serving-cert/tls.crt',
      keyFile: '/var/run/serving-cert/tls.key',
      clientCAFile: '/var/run/http-client-ca/ca.crt',
      allowedNames: ['prometheus'],
      reloadInterval: 30,
    });
    expect(volume(m, 'http-client-ca')).toEqual({ name: 'http-client-ca', secret: { secretName: 'prometheus-client-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
    // A folder mount, never subPath: a renewed CA reaches the pod and is reloaded in place.
    expect(mount(m, 'http-client-ca')).toEqual({ name: 'http-client-ca', mountPath: '/var/run/http-client-ca', readOnly: true });
    expect(volume(m, 'http-tls')).toBeUndefined();
    expect(probeSchemes(m)).toEqual(['HTTPS', 'HTTPS', 'HTTPS']);
    const endpoint = obj(arr(obj(find(m, 'ServiceMonitor')['spec'])['endpoints'])[0]);
    expect(endpoint).toMatchObject({
      port: 'http',
      path: '/metrics',
      scheme: 'https',
      tlsConfig: {
        serverName: 'foresight.monitoring.svc',
        ca: { secret: { name: 'foresight-serving-cert', key: 'ca.crt' } },
        cert: { secret: { name: 'prometheus-scrape-cert', key: 'tls.crt' } },
        keySecret: { name: 'prometheus-scrape-cert', key: 'tls.key' },
      },
    });
  });

  test('its own certificate Secret is mounted and named in the configuration and the ServiceMonitor', () => {
    const m = render({ values: { tls: { type: 'certManager' }, httpTls: { enabled: true, existingSecret: 'foresight-http-tls' }, serviceMonitor: { enabled: true } } });
    expect(serverConfigOf(m).tls).toEqual({ certFile: '/var/run/http-tls/tls.crt', keyFile: '/var/run/http-tls/tls.key', allowedNames: [], reloadInterval: 30 });
    expect(volume(m, 'http-tls')).toEqual({
      name: 'http-tls',
      secret: {
        secretName: 'foresight-http-tls',
        items: [
          { key: 'tls.crt', path: 'tls.crt' },
          { key: 'tls.key', path: 'tls.key' },
        ],
      },
    });
    expect(mount(m, 'http-tls')).toEqual({ name: 'http-tls', mountPath: '/var/run/http-tls', readOnly: true });
    const tlsConfig = obj(obj(arr(obj(find(m, 'ServiceMonitor')['spec'])['endpoints'])[0])['tlsConfig']);
    expect(tlsConfig['ca']).toEqual({ secret: { name: 'foresight-http-tls', key: 'ca.crt' } });
    expect(tlsConfig['cert']).toBeUndefined();
  });

  test('inconsistent values fail the render with the reason', () => {
    const cases: readonly [Json, string][] = [
      [{ httpTls: { clientCASecret: 'ca' } }, 'httpTls.clientCASecret needs httpTls.enabled: true'],
      [{ httpTls: { enabled: true, allowedNames: ['prometheus'] } }, 'httpTls.allowedNames needs httpTls.clientCASecret'],
      [{ httpTls: { enabled: true, clientCASecret: 'ca' }, serviceMonitor: { enabled: true } }, 'set serviceMonitor.clientCertSecret'],
    ];
    for (const [values, message] of cases) {
      const refused = renderChart({ values: { tls: { type: 'certManager' }, ...values } });
      expect(refused.status, message).toBe(1);
      expect(refused.stderr).toContain(message);
    }
  });

  test('NOTES.txt says the port is HTTPS and what KEDA metrics-api triggers must send', () => {
    const notes = renderChart({ notes: true, valuesFiles: ['charts/foresight/ci/http-mtls-values.yaml'] });
    expect(notes.status).toBe(0);
    expect(notes.stdout).toContain('curl -sk --cert client.crt --key client.key https://localhost:8000/scaling/queues/metrics');
    expect(notes.stdout).toContain('metrics-api trigger: url https://');
    expect(notes.stdout).toContain('authModes: tls');
  });
});
