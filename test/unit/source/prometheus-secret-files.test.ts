import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ForesightError, InputRef } from '../../../src/core/index.js';
import { type PrometheusAuth, PrometheusSource, type PrometheusSourceOptions } from '../../../src/source/index.js';

// Credentials files are a trust boundary: one that is not a small regular file is refused before
// it is read (a FIFO would block the read, a huge file would be loaded whole into every request).
// No request is sent, so no server is needed (the URL points nowhere).

const dir = mkdtempSync(join(tmpdir(), 'foresight-secret-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cpu: InputRef = { kind: 'system', metric: 'cpu_percent' };
const queries: PrometheusSourceOptions['queries'] = {
  queue: { depth: '', enqueue_rate_per_second: '', dequeue_rate_per_second: '', wait_avg_seconds: '', wait_max_seconds: '', consumers: '', failed_messages: '' },
  system: { cpu_percent: 'x', memory_percent: '', disk_io_bytes_per_second: '', network_io_bytes_per_second: '', load1: '', load5: '', load15: '' },
  performance: { response_time_p95_seconds: '', error_rate_percent: '', db_connection_utilization_percent: '' },
  replicas: { worker_processes: '', api_instances: '', batch_processors: '', ml_workers: '', db_connections: '' },
};

async function failure(auth: PrometheusAuth): Promise<ForesightError> {
  const source = new PrometheusSource({ url: 'http://127.0.0.1:9', auth, queries });
  return source.readLatest([cpu], 0).then(
    () => {
      throw new Error('expected the read to fail');
    },
    (error: unknown) => error as ForesightError,
  );
}

describe('Prometheus credentials files', () => {
  it('refuses a bearer token file larger than 64 KiB, naming it', async () => {
    const tokenFile = join(dir, 'huge-token');
    writeFileSync(tokenFile, 'x'.repeat(64 * 1024 + 1));
    const error = await failure({ type: 'bearerFile', tokenFile });
    expect(error.message).toContain(`the bearer token file ${tokenFile} is 65537 bytes, more than the 65536 allowed`);
  });

  it('refuses a password file that is not a regular file', async () => {
    const error = await failure({ type: 'basic', username: 'u', passwordFile: dir });
    expect(error.message).toContain(`the password file ${dir} is not a regular file`);
  });

  it('reads a token file of the largest size allowed (the request then fails on the network, not on the file)', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${'x'.repeat(64 * 1024 - 1)}\n`);
    const error = await failure({ type: 'bearerFile', tokenFile });
    expect(error.message).not.toContain('cannot read the bearer token file');
  });
});
