/**
 * `foresight serve` as a user runs it after cloning: a real process, no Prometheus, the bundled
 * demo workload, then SIGTERM. Also checks that an invalid configuration refuses to start.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const main = join(process.cwd(), 'src', 'cli', 'main.ts');

/** Resolves with the first log line satisfying `match`, or rejects when the process exits first. */
function waitForLine(child: ChildProcess, match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; output so far:\n${buffer}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split('\n')) {
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (match(parsed)) {
          clearTimeout(timer);
          resolve(parsed);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before the expected line; output:\n${buffer}`));
    });
  });
}

describe('foresight serve (a real process)', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
  });

  it('serves forecasts for the demo workload with no Prometheus, and stops cleanly on SIGTERM', async () => {
    child = spawn(tsx, [main, 'serve'], { env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', FORESIGHT_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const serving = await waitForLine(child, (l) => l['msg'] === 'foresight is serving', 30_000);
    expect(serving['source']).toBe('replay');
    const url = serving['url'] as string;
    let status: { queues: { queue: string; forecasts: unknown[] }[] } | undefined;
    for (let i = 0; i < 100 && status === undefined; i++) {
      const res = await fetch(`${url}/scaling/status`);
      if (res.status === 200) status = (await res.json()) as typeof status;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(status?.queues.map((q) => q.queue)).toEqual(['batch_processing', 'ml_inference', 'validation', 'failed_claims', 'priority_claims']);
    for (const q of status!.queues) expect(q.forecasts).toHaveLength(1);
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);

  it('refuses to start with an invalid configuration and says what is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'foresight-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'scaling:\n  monitoringInterval: soon\n');
    const result = spawnSync(tsx, [main, 'serve', '--config', file], { encoding: 'utf8', env: { ...process.env, PORT: '0' } });
    expect(result.status).toBe(2);
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
