/**
 * `npm run bench:refit`: what a refit costs serving, with the models on the event loop
 * (`forecast.modelProcess: false`) and in the model process (the default).
 *
 * For each mode, a Service on the bundled demo workload starts (its first cycle fits every series),
 * then the clock moves into the next refit bucket and the bench runs the hourly refit cycle, which
 * fits every series again (with `forecast.model: auto` by default, the slowest model), while a
 * client sends sequential `GET /metrics` requests. Reported: the refit cycle's duration, the latency
 * of the requests made during it, and the longest event-loop stall of the process.
 * The client runs in the same process as the service, so a blocked event loop shows up in full in
 * the latency of the request that was waiting (which is what an HPA or Prometheus would see).
 *
 * Usage: tsx bench/refit.ts [--model auto|holt_winters|...] [--json]
 */
import process from 'node:process';
import { servingModelNames } from '../src/forecast/index.js';
import { ManualClock } from '../test/support/manual-clock.js';
import { ManualTimers } from '../test/support/manual-timers.js';
import { startStallMonitor } from '../test/support/stall-monitor.js';
import { buildService, configFromYaml } from '../test/support/service.js';

interface Row {
  readonly mode: string;
  readonly cycleSeconds: number;
  /** From the cycle's start until the model processes' background refits were done (the cycle's own time on the event loop). */
  readonly refitsDoneSeconds: number;
  readonly series: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly eventLoopMaxStallMs: number;
}

function parseArgs(argv: readonly string[]): { model: string; json: boolean } {
  let model = 'auto';
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--model') {
      const value = argv[++i];
      if (value === undefined || !(servingModelNames as readonly string[]).includes(value)) throw new Error(`--model must be one of ${servingModelNames.join(', ')}, got "${value ?? ''}"`);
      model = value;
    } else throw new Error(`unknown argument "${arg}" (usage: tsx bench/refit.ts [--model NAME] [--json])`);
  }
  return { model, json };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function measure(model: string, modelProcess: boolean): Promise<Row> {
  const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 0));
  // Manual timers: only the first scheduled cycle runs (at start); the bench runs the refit cycle it measures.
  const service = buildService(configFromYaml(`server: { port: 0 }\nforecast: { model: ${model}, modelProcess: ${modelProcess} }\n`), { clock, timers: new ManualTimers(clock) });
  await service.start();
  try {
    // Waits for the first cycle (which started the model process and fitted every series) and for
    // the full choices that follow it in the background, then moves into the next hourly refit bucket.
    await service.reconciler.runCycle();
    await service.modelHost.refitsDone();
    clock.advance(3600);
    const latencies: number[] = [];
    let done = false;
    const client = (async () => {
      while (!done) {
        const began = performance.now();
        const res = await fetch(`${service.url}/metrics`);
        await res.arrayBuffer();
        latencies.push(performance.now() - began);
      }
    })();
    const stalls = startStallMonitor();
    const began = performance.now();
    const snapshot = await service.reconciler.runCycle();
    const cycleSeconds = (performance.now() - began) / 1000;
    // The model process refits after answering the cycle: the requests are measured until it is done.
    await service.modelHost.refitsDone();
    const refitsDoneSeconds = (performance.now() - began) / 1000;
    const stallMs = stalls.stop();
    done = true;
    await client;
    latencies.sort((a, b) => a - b);
    return {
      mode: modelProcess ? 'model process (default)' : 'event loop (`modelProcess: false`)',
      cycleSeconds,
      refitsDoneSeconds,
      series: new Set(snapshot.forecasts.map((f) => f.seriesKey)).size,
      requests: latencies.length,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      maxMs: latencies.at(-1) ?? Number.NaN,
      eventLoopMaxStallMs: stallMs,
    };
  } finally {
    await service.stop();
  }
}

const args = parseArgs(process.argv.slice(2));
const rows = [await measure(args.model, false), await measure(args.model, true)];
if (args.json) {
  process.stdout.write(`${JSON.stringify({ command: `npm run bench:refit -- --model ${args.model} --json`, model: args.model, rows }, null, 2)}\n`);
} else {
  const f = (x: number, digits = 1) => x.toFixed(digits);
  const out = [
    `A refit cycle of the demo workload with \`forecast.model: ${args.model}\` (every series refitted), sequential \`GET /metrics\` meanwhile, until the refits were done:`,
    '',
    '| models run on | cycle | refits done after | series | requests meanwhile | p50 | p99 | max | longest event-loop stall |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.mode} | ${f(r.cycleSeconds)} s | ${f(r.refitsDoneSeconds)} s | ${r.series} | ${r.requests} | ${f(r.p50Ms)} ms | ${f(r.p99Ms)} ms | ${f(r.maxMs)} ms | ${f(r.eventLoopMaxStallMs)} ms |`,
    ),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}
