/**
 * `foresight serve` as a user runs it after cloning: a real process, no Prometheus, the bundled
 * demo workload, then SIGTERM. Also checks that an invalid configuration refuses to start.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requireBinaries } from '../support/binaries.js';

const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const main = join(process.cwd(), 'src', 'cli', 'main.ts');

/**
 * Resolves with the first log line satisfying `match`, or rejects when the process exits first.
 * No time limit: the event is the line (docs/testing.md); a hang is ended by vitest's bound.
 */
function waitForLine(child: ChildProcess, match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let pending = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (match(parsed)) {
          child.stdout!.off('data', onData);
          child.off('exit', onExit);
          resolve(parsed);
          return;
        }
      }
    };
    const onExit = (code: number | null) => reject(new Error(`exited with ${code} before the expected line; output:\n${buffer}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * Ends the child and everything it started, and waits for it to be gone. `tsx` runs the CLI in a
 * node process of its own, which starts the model process: killing tsx alone would orphan them, so
 * the child leads a process group of its own (`detached`) and the whole group is killed.
 */
async function endGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The group is gone.
    }
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // The group is gone.
  }
  await exited;
}

describe('foresight serve (a real process)', () => {
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child !== undefined) await endGroup(child);
    child = undefined;
  });

  it.skipIf(!requireBinaries('kubectl'))('serves forecasts for the demo workload with no Prometheus, secure by default for kubectl, and stops on SIGTERM', async () => {
    // Only the ports, the PKI and the model folders differ from a bare `npm start`, so that tests can run side by side.
    const dir = mkdtempSync(join(tmpdir(), 'foresight-serve-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `externalMetrics: { port: 0, pkiDir: ${JSON.stringify(join(dir, 'pki'))} }\nkeda: { grpc: { port: 0 } }\nscaling: { modelPath: ${JSON.stringify(join(dir, 'models'))} }\n` +
        // The exit code must not depend on machine load: a cycle in flight may outlast the default 25 s grace on busy cores.
        'server: { shutdownGrace: 10m }\n',
    );
    child = spawn(tsx, [main, 'serve', '--config', config], { env: { ...process.env, PORT: '0', LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const lines: Record<string, unknown>[] = [];
    const firstCycle = waitForLine(child, (l) => l['msg'] === 'cycle completed');
    const serving = await waitForLine(child, (l) => {
      lines.push(l);
      return l['msg'] === 'foresight is serving';
    });
    const external = lines.find((l) => l['msg'] === 'external metrics API listening');
    expect(external?.['authMode']).toBe('local');
    const kubeconfig = external?.['kubeconfig'] as string;
    expect(kubeconfig).toBe(join(dir, 'pki', 'kubeconfig'));
    expect(serving['source']).toBe('replay');
    const url = serving['url'] as string;
    // The first cycle's log line, not a time budget, says the status is there.
    await firstCycle;
    const res = await fetch(`${url}/scaling/status`);
    expect(res.status).toBe(200);
    const status = (await res.json()) as { queues: { queue: string; forecasts: unknown[] }[] };
    expect(status.queues.map((q) => q.queue)).toEqual(['batch_processing', 'ml_inference', 'validation', 'failed_claims', 'priority_claims']);
    for (const q of status.queues) expect(q.forecasts).toHaveLength(1);

    // The kubeconfig written at start is all kubectl needs; without its client certificate, no entry.
    const kubectl = (args: string[], env: Record<string, string>) =>
      spawnSync('kubectl', [...args, `--cache-dir=${join(dir, 'kube-cache')}`], { encoding: 'utf8', input: '', env: { ...process.env, ...env } });
    const path = '/apis/external.metrics.k8s.io/v1beta1/namespaces/default/predicted_queue_depth?labelSelector=queue%3Dml_inference';
    const ok = kubectl(['get', '--raw', path], { KUBECONFIG: kubeconfig });
    expect(ok.stderr).toBe('');
    const list = JSON.parse(ok.stdout) as { kind: string; items: { metricName: string; metricLabels: Record<string, string> }[] };
    expect(list.kind).toBe('ExternalMetricValueList');
    expect(list.items).toEqual([expect.objectContaining({ metricName: 'predicted_queue_depth', metricLabels: expect.objectContaining({ queue: 'ml_inference' }) })]);
    const server = String(external?.['url']);
    const refused = kubectl(['get', '--raw', path, `--server=${server}`, '--insecure-skip-tls-verify', '--token=not-a-real-token'], { KUBECONFIG: '/dev/null' });
    expect(refused.status).not.toBe(0);
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('refuses to start with an invalid configuration and says what is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'foresight-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'scaling:\n  monitoringInterval: soon\n');
    const result = spawnSync(tsx, [main, 'serve', '--config', file], { encoding: 'utf8', env: { ...process.env, PORT: '0' } });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('refusing to start');
    expect(result.stderr).toContain('bad.yaml: scaling.monitoringInterval');
  });

  it('prints usage for --help and rejects unknown commands', () => {
    const help = spawnSync(tsx, [main, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('backtest');
    const unknown = spawnSync(tsx, [main, 'frobnicate'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });
});
