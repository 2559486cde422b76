/**
 * An https:// Prometheus signed by a private CA (source.prometheus.tls.caFile): trusted only with
 * the CA file, a renewed CA file is read at the next read, and a bad CA file is a query problem
 * naming the key and the file, never a crash:
 * a read whose every query fails rejects with the cause, as for an unreachable Prometheus.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { InputRef } from '../../../src/core/index.js';
import { PrometheusSource } from '../../../src/source/index.js';
import { makeTestPki, type TestPki } from '../api/external-metrics-harness.js';
import { type FakePrometheus, matrix, startFakePrometheus, vector } from './fake-prometheus.js';

const cpu: InputRef = { kind: 'system', metric: 'cpu_percent' };
const atMs = Date.UTC(2026, 0, 5, 12, 0, 0);

describe('PrometheusSource over HTTPS with a private CA', () => {
  let pki: TestPki;
  let prometheus: FakePrometheus;
  let caFile: string;
  const source = (file?: string) =>
    new PrometheusSource({
      url: prometheus.url,
      ...(file === undefined ? {} : { caFile: file }),
      queries: {
        queue: { depth: '', enqueue_rate_per_second: '', dequeue_rate_per_second: '', wait_avg_seconds: '', wait_max_seconds: '', consumers: '', failed_messages: '' },
        system: { cpu_percent: 'avg(cpu)', memory_percent: '', disk_io_bytes_per_second: '', network_io_bytes_per_second: '', load1: '', load5: '', load15: '' },
        performance: { response_time_p95_seconds: '', error_rate_percent: '', db_connection_utilization_percent: '' },
        replicas: { worker_processes: '', api_instances: '', batch_processors: '', ml_workers: '', db_connections: '' },
      },
    });

  beforeAll(async () => {
    pki = await makeTestPki();
    prometheus = await startFakePrometheus(() => vector(atMs / 1000, [{ value: '42' }]), { certPem: pki.serving.certPem, keyPem: pki.serving.keyPem });
    caFile = join(pki.dir, 'prometheus-ca.crt');
  });
  afterAll(async () => {
    await prometheus?.close();
    await pki?.dispose();
  });

  test('reads through the CA file, and refuses the same server without it', async () => {
    expect(prometheus.url).toMatch(/^https:/);
    await copyFile(pki.servingCA.certFile, caFile);
    const trusted = await source(caFile).readLatest([cpu], atMs);
    expect(trusted.problems).toEqual([]);
    expect(trusted.readings.map((r) => r.value)).toEqual([42]);
    // Range reads (decoded without prometheus-query) go through the same CA agent.
    prometheus.handler = () => matrix([{ values: [[atMs / 1000, '7']] }]);
    const range = { startMs: atMs, endMs: atMs, stepSeconds: 60 };
    expect([...(await source(caFile).readHistory([cpu], range)).history[0]!.series.values]).toEqual([7]);
    await expect(source().readHistory([cpu], range)).rejects.toThrow(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    prometheus.handler = () => vector(atMs / 1000, [{ value: '42' }]);
    // Every query failing is an unreachable source: the read rejects, naming the TLS failure.
    await expect(source().readLatest([cpu], atMs)).rejects.toThrow(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });

  test('a CA file replaced on disk is used from the next read on', async () => {
    const src = source(caFile);
    await copyFile(pki.clientCA.certFile, caFile); // the wrong CA: refused
    await expect(src.readLatest([cpu], atMs)).rejects.toThrow(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    await copyFile(pki.servingCA.certFile, caFile); // renewed: trusted again, no new source
    expect((await src.readLatest([cpu], atMs)).readings.map((r) => r.value)).toEqual([42]);
  });

  test('a CA file that is missing or holds no certificate is a problem naming the key and the file', async () => {
    await expect(source(join(pki.dir, 'absent.crt')).readLatest([cpu], atMs)).rejects.toThrow(/cannot read source\.prometheus\.tls\.caFile .*absent\.crt/);
    const notPem = join(pki.dir, 'not-pem.crt');
    await writeFile(notPem, 'hello');
    await expect(source(notPem).readLatest([cpu], atMs)).rejects.toThrow(/not-pem\.crt: holds no PEM certificate/);
  });
});
