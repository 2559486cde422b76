/**
 * What `npm start` runs: the compiled service from dist/ (built here with `npm run build`), whose
 * child processes (the model process, LSTM training) must start from compiled entry points, with no
 * tsx. The other process tests run from source, where the children go through tsx's loader.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childPids, isAlive } from '../support/processes.js';

const repo = process.cwd();

describe('the built service (npm start)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('serves forecasts with its models in the compiled model process, and ends it on SIGTERM', async () => {
    const build = spawnSync('npm', ['run', '-s', 'build'], { cwd: repo, encoding: 'utf8' });
    expect(build.status, build.stderr + build.stdout).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'foresight-built-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `externalMetrics: { port: 0, pkiDir: ${JSON.stringify(join(dir, 'pki'))} }\nkeda: { grpc: { port: 0 } }\nscaling: { modelPath: ${JSON.stringify(join(dir, 'models'))} }\n`);
    child = spawn(process.execPath, [join(repo, 'dist', 'cli', 'main.js'), 'serve', '--config', config], { env: { ...process.env, PORT: '0', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not serving within 30 s:\n${output}`)), 30_000);
      const poll = setInterval(() => {
        const line = output.split('\n').find((l) => l.includes('"foresight is serving"'));
        if (line === undefined) return;
        clearInterval(poll);
        clearTimeout(timer);
        resolve(String((JSON.parse(line) as { url: string }).url));
      }, 50);
    });
    let forecasts = 0;
    for (let i = 0; i < 200 && forecasts === 0; i++) {
      const res = await fetch(`${url}/scaling/status`);
      if (res.status === 200) forecasts = ((await res.json()) as { queues: { forecasts: unknown[] }[] }).queues.reduce((n, q) => n + q.forecasts.length, 0);
      if (forecasts === 0) await new Promise((r) => setTimeout(r, 100));
    }
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
