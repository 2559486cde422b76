import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/io.js';
import { main } from '../../../src/cli/main.js';
import { parseSimulateArgs, simulateCommand } from '../../../src/cli/simulate.js';
import { defaultForecastQuantile } from '../../../src/simulate/index.js';

function fakeIo(): { io: CliIo; stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: {} },
    stdout: () => out,
    stderr: () => err,
  };
}

async function run(args: readonly string[]) {
  const captured = fakeIo();
  const code = await simulateCommand(args, captured.io);
  return { code, stdout: captured.stdout(), stderr: captured.stderr() };
}

let dir = '';
let input = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foresight-simulate-'));
  input = join(dir, 'trace.csv');
  // Two days of 5-minute request counts: a daily cycle with a morning burst.
  const lines = ['timestamp,value'];
  for (let i = 0; i < 576; i++) {
    const slot = i % 288;
    const value = Math.round(300 + 200 * Math.sin((2 * Math.PI * slot) / 288) + (slot >= 100 && slot < 110 ? 900 : 0) + 20 * Math.sin(i * 1.7));
    lines.push(`${1_700_000_000 + 300 * i},${value}`);
  }
  await writeFile(input, `${lines.join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('foresight simulate', () => {
  it.each(['hpa', 'keda', 'predictive', 'oracle'])('runs --policy %s and writes JSON and an SVG', async (policy) => {
    const json = join(dir, `${policy}.json`);
    const plot = join(dir, `${policy}.svg`);
    const r = await run(['--input', input, '--policy', policy, '--capacity-per-replica', '0.5', '--json', json, '--plot', plot]);
    expect(r.stderr).toContain(`wrote ${json}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`policy ${policy}`);
    expect(r.stdout).toMatch(/\| τU under-provisioned time \| \d+\.\d\d % \|/);
    const report = JSON.parse(await readFile(json, 'utf8')) as Record<string, unknown> & { metrics: Record<string, number>; options: Record<string, unknown> };
    expect(report['policy']).toBe(policy);
    expect(report.options).toMatchObject({ capacityPerReplicaPerSecond: 0.5, startupDelaySeconds: 120, minReplicas: 1, maxReplicas: 50, sloWaitSeconds: 60, tickSeconds: 15, capacitySource: 'given' });
    for (const key of ['thetaUPercent', 'thetaOPercent', 'tauUPercent', 'tauOPercent', 'instabilityPercent', 'jitterPerHour', 'sloViolationPercent', 'replicaMinutes']) {
      expect(Number.isFinite(report.metrics[key]), key).toBe(true);
    }
    // Two days in 15 s ticks.
    expect(report.metrics['ticks']).toBe(576 * 20);
    // The table on stdout shows the same numbers as the JSON.
    expect(r.stdout).toContain(`| τU under-provisioned time | ${report.metrics['tauUPercent']!.toFixed(2)} % |`);
    const svg = await readFile(plot, 'utf8');
    expect(svg).toMatch(/^<svg /);
    if (policy === 'oracle') expect(report.metrics['tauUPercent']).toBe(0);
    if (policy === 'predictive') expect(report['predictive']).toMatchObject({ models: ['holt_winters'] });
  });

  it('is deterministic', async () => {
    const a = await run(['--input', input, '--policy', 'predictive']);
    const b = await run(['--input', input, '--policy', 'predictive']);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toContain('default: p95 of the arrival rate / 10');
  });

  it('is reachable through the foresight entry point', async () => {
    const captured = fakeIo();
    expect(await main(['simulate', '--help'], captured.io)).toBe(0);
    expect(captured.stdout()).toMatch(/^Usage: foresight simulate --input F\.csv \[--policy predictive\|hpa\|keda\|oracle\] \[--compare\]/);
  });

  it('writes no plot unless asked', async () => {
    const r = await run(['--input', input, '--policy', 'oracle']);
    expect(r.code).toBe(0);
    await expect(stat(join(dir, 'none.svg'))).rejects.toThrow();
  });

  it.each([
    [['--policy', 'hpa'], /--input is required/],
    [['--input', 'x.csv', '--quantile', '0.2'], /--quantile "0.2" is not a number in \[0.5, 0.995\] or "model"/],
    [['--input', 'x.csv', '--quantile', 'high'], /--quantile "high" is not a number/],
    [['--input', 'x.csv', '--policy', 'vpa'], /--policy "vpa" is not one of: hpa, keda, predictive, oracle/],
    [['--input', 'x.csv', '--policy', 'hpa', '--startup-delay', 'soon'], /--startup-delay "soon" is not a duration/],
    [['--input', 'x.csv', '--policy', 'hpa', '--slo-wait', '0'], /--slo-wait "0" is not a positive duration/],
    [['--input', 'x.csv', '--policy', 'hpa', '--min', '5', '--max', '2'], /--min \(5\) must not be greater than --max \(2\)/],
    [['--input', 'x.csv', '--policy', 'hpa', '--max', '2.5'], /--max "2.5" is not a positive whole number/],
    [['--input', 'x.csv', '--policy', 'hpa', '--capacity-per-replica=-1'], /--capacity-per-replica "-1" is not a positive number/],
    [['--input', 'x.csv', '--policy', 'hpa', '--capacity-per-replica', '-1'], /--capacity-per-replica needs a value/],
    [['--input', 'x.csv', '--policy', 'hpa', '--hpa-metric', 'cpu'], /--hpa-metric "cpu" is not queue_depth or arrival_rate/],
    [['--input', 'x.csv', '--policy', 'predictive', '--model', 'prophet'], /--model "prophet" is not a model/],
    [['--input', 'x.csv', '--policy', 'hpa', '--bogus', '1'], /unknown option "--bogus"/],
    [['--input', 'x.csv', '--policy', 'hpa', '--policy', 'keda'], /--policy is given twice/],
  ])('refuses %j', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('Usage: foresight simulate');
  });

  it('says which file it cannot read', async () => {
    const r = await run(['--input', join(dir, 'missing.csv'), '--policy', 'hpa']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read --input .*missing\.csv/);
  });

  it('names the file, line and position of a broken --rules file', async () => {
    const rules = join(dir, 'bad.rules.yaml');
    await writeFile(rules, 'scaling_rules:\n  worker_processes:\n    demand:\n      observed: "queue_depth.length / 2"\n');
    const r = await run(['--input', input, '--policy', 'predictive', '--rules', rules]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${rules}:4:`);
    expect(r.stderr).toMatch(/position 12: property access/);
  });

  it('runs the default path with no --policy (the engine at the calibrated quantile), and --compare adds the reactive baselines and the oracle', async () => {
    const json = join(dir, 'default.json');
    const r = await run(['--input', input, '--capacity-per-replica', '0.5', '--compare', '--json', json]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('policy predictive');
    const report = JSON.parse(await readFile(json, 'utf8')) as { policySettings: Record<string, unknown> };
    expect(report.policySettings['forecastQuantile']).toBe(defaultForecastQuantile);
    expect(report.policySettings['minForecastConfidence']).toBe(0);
    const rows = r.stdout.split('\n').filter((line) => /^\| (predictive|hpa|keda|oracle) \|/.test(line));
    expect(rows.map((line) => line.split('|')[1]!.trim())).toEqual(['predictive', 'hpa', 'keda', 'oracle']);
    // The oracle is never short; every row has a utilisation.
    expect(rows[3]).toMatch(/\| 0\.00 % \| 0\.00 % \|/);
    for (const row of rows) expect(row).toMatch(/\| \d+\.\d %/);
  });

  it('takes the knob: a higher quantile provisions more', async () => {
    const minutes = async (q: string) => {
      const json = join(dir, `q${q}.json`);
      expect((await run(['--input', input, '--capacity-per-replica', '0.5', '--quantile', q, '--json', json])).code).toBe(0);
      return (JSON.parse(await readFile(json, 'utf8')) as { metrics: { replicaMinutes: number } }).metrics.replicaMinutes;
    };
    expect(await minutes('0.99')).toBeGreaterThan(await minutes('0.6'));
  });

  it('accepts durations as Prometheus durations or seconds', () => {
    const parsed = parseSimulateArgs(['--input', 'x', '--policy', 'oracle', '--startup-delay', '90', '--slo-wait=1m30s', '--tick', '30s']);
    expect(parsed.ok && parsed.value !== 'help' && [parsed.value.startupDelaySeconds, parsed.value.sloWaitSeconds, parsed.value.tickSeconds]).toEqual([90, 90, 30]);
  });
});
