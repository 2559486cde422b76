/**
 * Issue 10 item 5 (SIGTERM ignored while a cycle never finished): `foresight serve` as a real
 * process, its first cycle stuck on a Prometheus that never answers (a fake over HTTP: a real one
 * cannot be made to hang). SIGTERM must end the process within server.shutdownGrace anyway.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type FakePrometheus, startFakePrometheus } from '../unit/source/fake-prometheus.js';

const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const main = join(process.cwd(), 'src', 'cli', 'main.ts');

let child: ChildProcess | undefined;
let prometheus: FakePrometheus | undefined;
let dir: string | undefined;
afterEach(async () => {
  child?.kill('SIGKILL');
  await prometheus?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

it('SIGTERM ends the process within server.shutdownGrace while a cycle is stuck', async () => {
  let queried!: () => void;
  const stuck = new Promise<void>((resolve) => (queried = resolve));
  prometheus = await startFakePrometheus(() => {
    queried();
    return 'hang';
  });
  dir = mkdtempSync(join(tmpdir(), 'foresight-shutdown-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'server: { port: 0, shutdownGrace: 1s }',
      `source: { type: prometheus, prometheus: { url: ${prometheus.url}, timeout: 10m } }`,
      'externalMetrics: { enabled: false }',
      'keda: { grpc: { enabled: false } }',
      'forecast: { modelProcess: false }',
      `scaling: { modelPath: ${JSON.stringify(join(dir, 'models'))} }`,
      '',
    ].join('\n'),
  );
  child = spawn(tsx, [main, 'serve', '--config', config], { env: { ...process.env, PORT: '0', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let serving!: () => void;
  const listening = new Promise<void>((resolve) => (serving = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('"msg":"foresight is serving"')) serving();
  });
  const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  await stuck; // the first cycle waits on Prometheus, for up to 10 minutes
  await listening; // the signal handlers are in place
  child.kill('SIGTERM');
  expect(await exited).toBe(1);
  const lines = output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; graceSeconds?: number });
  expect(lines.find((l) => l.msg === 'stopping')).toMatchObject({ graceSeconds: 1 });
  expect(lines.map((l) => l.msg)).toContain('did not stop within server.shutdownGrace; exiting anyway');
  expect(lines.map((l) => l.msg)).not.toContain('stopped');
});
