/**
 * What `npm start` runs: the compiled service from dist/ (`npm run build`, test/support/compiled.ts), whose
 * child processes (the model process, LSTM training) must start from compiled entry points, with no
 * tsx. The other process tests run from source, where the children go through tsx's loader.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compiledDist } from '../support/compiled.js';
import { childPids, isAlive } from '../support/processes.js';

describe('the built service (npm start)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('serves forecasts with its models in the compiled model process, and ends it on SIGTERM', async () => {
    const dist = await compiledDist();
    const dir = mkdtempSync(join(tmpdir(), 'foresight-built-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `externalMetrics: { port: 0, pkiDir: ${JSON.stringify(join(dir, 'pki'))} }\nkeda: { grpc: { port: 0 } }\nscaling: { modelPath: ${JSON.stringify(join(dir, 'models'))} }\n` +
        // The exit code must not depend on how busy the machine is: on loaded cores a cycle in flight
        // can outlast the default 25 s grace (then the process exits with 1, by design).
        'server: { shutdownGrace: 10m }\n',
    );
    child = spawn(process.execPath, [join(dist, 'cli', 'main.js'), 'serve', '--config', config], { env: { ...process.env, PORT: '0', LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Event-based: the first "cycle completed" log line (debug level), then one status read. No time budget.
    const logged = (msg: string) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const check = () => {
          const line = output.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
          if (line === undefined) return;
          child!.stdout!.off('data', check);
          child!.stderr!.off('data', check);
          resolve(JSON.parse(line) as Record<string, unknown>);
        };
        child!.stdout!.on('data', check);
        child!.stderr!.on('data', check);
        check();
      });
    const url = String((await logged('foresight is serving'))['url']);
    await logged('cycle completed');
    const res = await fetch(`${url}/scaling/status`);
    expect(res.status, output).toBe(200);
    const forecasts = ((await res.json()) as { queues: { forecasts: unknown[] }[] }).queues.reduce((n, q) => n + q.forecasts.length, 0);
    expect(forecasts, output).toBeGreaterThan(0);
    // The forecasts came from the compiled model process (no tsx anywhere in its command line).
    const models = childPids('dist/engine/model-process-entry.js', child.pid!);
    expect(models).toHaveLength(1);
    expect(execFileSync('ps', ['-o', 'args=', '-p', String(models[0])], { encoding: 'utf8' })).not.toContain('tsx');
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The service stopped its model process before exiting (it would otherwise be left behind).
    expect(isAlive(models[0]!)).toBe(false);
    expect(output).not.toMatch(/"level":(50|60)/); // no error or fatal log line
  });
});
