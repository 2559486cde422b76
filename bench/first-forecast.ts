/**
 * `npm run bench:first-forecast`: the time from starting `foresight serve` the way `npm start` does
 * (the demo replay, default configuration: `forecast.model: auto`) until `/metrics` publishes a
 * forecast (`predicted_queue_depth`), and the CPU the service's process tree (service and model
 * process) spent until then. Goal (issue 11): ≤ 30 s on the demo.
 *
 * Usage: tsx bench/first-forecast.ts [--built] [--repeat N] [--json]
 *   --built   start dist/cli/main.js (what `npm start` runs; build first) instead of the sources via tsx
 */
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ForesightProcess } from './support/foresight-process.js';
import { processTreeCpuSeconds } from './support/proc-stat.js';

interface Run {
  readonly firstForecastSeconds: number;
  readonly listeningSeconds: number;
  readonly cpuSeconds: number;
}

const argv = process.argv.slice(2);
const built = argv.includes('--built');
const json = argv.includes('--json');
const repeatIndex = argv.indexOf('--repeat');
const repeat = repeatIndex < 0 ? 1 : Number(argv[repeatIndex + 1]);
if (!Number.isInteger(repeat) || repeat < 1) {
  process.stderr.write('bench:first-forecast: --repeat must be a whole number >= 1\n');
  process.exit(2);
}

/** Polls /metrics until it carries a published forecast; the service's exit ends the wait with an error. */
async function waitForForecast(metricsUrl: URL, service: ForesightProcess): Promise<void> {
  for (;;) {
    if (service.exit !== undefined) throw new Error(`foresight serve exited before its first forecast:\n${service.recentLines.join('\n')}`);
    const text = await fetch(metricsUrl).then((r) => (r.ok ? r.text() : ''));
    if (/^predicted_queue_depth\{/m.test(text)) return;
    await sleep(100);
  }
}

async function once(): Promise<Run> {
  const began = performance.now();
  const service = new ForesightProcess({ built });
  const killOnExit = () => service.kill();
  process.on('exit', killOnExit);
  try {
    const serving = await service.waitForLine((l) => l['msg'] === 'foresight is serving');
    const listeningSeconds = (performance.now() - began) / 1000;
    await waitForForecast(new URL('/metrics', String(serving['url'])), service);
    const firstForecastSeconds = (performance.now() - began) / 1000;
    return { firstForecastSeconds, listeningSeconds, cpuSeconds: processTreeCpuSeconds(service.pid) ?? Number.NaN };
  } finally {
    service.kill();
    process.off('exit', killOnExit);
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
const runs: Run[] = [];
for (let i = 0; i < repeat; i++) {
  const run = await once();
  runs.push(run);
  process.stderr.write(`run ${i + 1}: first forecast after ${run.firstForecastSeconds.toFixed(1)} s (listening after ${run.listeningSeconds.toFixed(1)} s), ${run.cpuSeconds.toFixed(1)} s of CPU\n`);
}
const median = (pick: (r: Run) => number): number => {
  const sorted = runs.map(pick).sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1]!;
};
const result = { built, runs: runs.length, firstForecastSeconds: median((r) => r.firstForecastSeconds), listeningSeconds: median((r) => r.listeningSeconds), cpuSeconds: median((r) => r.cpuSeconds) };
if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  process.stdout.write(
    [
      `| measure (median of ${runs.length}, ${built ? 'dist/' : 'sources via tsx'}) | value | goal |`,
      '|---|---:|---|',
      `| start → first forecast on /metrics | ${result.firstForecastSeconds.toFixed(1)} s | ≤ 30 s |`,
      `| start → HTTP listening | ${result.listeningSeconds.toFixed(1)} s | |`,
      `| CPU of service + model process until then | ${result.cpuSeconds.toFixed(1)} s | |`,
      '',
    ].join('\n'),
  );
}
