/**
 * The service `bench/scale.ts` measures, as a child process (so the benchmark's load generator and
 * timers never share its event loop). Forked with `[configPath, pkiDir, queueCount]`:
 * - builds a Service from the YAML at configPath (models in their own process, as deployed) and starts
 *   it; the scheduler's first cycle is the first forecast; sends `{ type: 'ready', ..., firstForecastSeconds }`
 *   once a snapshot holds a depth forecast for every queue;
 * - on `'cycle'` runs one reconcile cycle and answers `{ type: 'cycle', seconds, queuesWithForecasts }`,
 *   or `{ type: 'cycle-failed', message }` when the cycle fails;
 * - on `'stop'` (or when the benchmark goes away) stops the Service and exits.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import type { Registry } from 'prom-client';
import { messageOf, systemClock } from '../../src/core/index.js';
import { buildService, configFromYaml } from '../../test/support/service.js';
import { stopOnce } from './stop-once.js';

export interface ScaleChildReady {
  readonly type: 'ready';
  readonly url: string;
  readonly externalMetricsUrl: string;
  readonly firstForecastSeconds: number;
  /** The service's largest resident memory seen until then (sampled every 50 ms, when the event loop lets it). */
  readonly peakRssBytes: number;
  readonly queues: number;
}

export interface ScaleChildCycle {
  readonly type: 'cycle';
  readonly seconds: number;
  readonly queuesWithForecasts: number;
  /** CPU of this process during the cycle. */
  readonly serviceCpuSeconds: number;
  /** CPU the model processes spent answering the cycle's calls, and refitting in the background meanwhile. */
  readonly modelCallsCpuSeconds: number;
  readonly modelRefitsCpuSeconds: number;
  /** Series waiting for a background refit after the cycle. */
  readonly queuedRefits: number;
  /** Series whose history window is not all read yet (older slices pending). */
  readonly historyPendingSeries: number;
  /** HTTP requests the service sent to Prometheus during the cycle (its query-duration histogram's count). */
  readonly prometheusRequests: number;
  /** process.memoryUsage() after the cycle: where the service's memory is. */
  readonly memory: NodeJS.MemoryUsage;
}

export interface ScaleChildCycleFailed {
  readonly type: 'cycle-failed';
  readonly message: string;
}

/** Cycle attempts the first full forecast may take before the benchmark gives up. */
const maxCyclesToFirstForecast = 20;

async function serve(configPath: string, pkiDir: string, expectedQueues: number): Promise<void> {
  const yaml = readFileSync(configPath, 'utf8').replace('__PKI_DIR__', JSON.stringify(pkiDir));
  // The system clock: the Prometheus it reads stamps its samples with the wall time (the test helper's default is a manual clock).
  const service = buildService(configFromYaml(yaml), { clock: systemClock });
  const began = performance.now();
  await service.start();
  const stop = stopOnce(service);
  process.on('disconnect', stop);
  const forecasted = () => (service.store.latest()?.queues ?? []).filter((q) => q.depthForecasts.length > 0).length;
  // The scheduler runs the first cycle at once; wait for a snapshot that forecasts every queue, but
  // give up after a bounded number of cycle attempts so a queue that never gets a forecast ends the
  // benchmark with a message instead of hanging it.
  const cyclesSeen = new Set<number>();
  let peakRssBytes = process.memoryUsage.rss();
  const allForecasted = await new Promise<boolean>((resolve) => {
    const poll = setInterval(() => {
      peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
      const done = forecasted() >= expectedQueues;
      cyclesSeen.add(service.store.status().lastAttemptAtMs);
      if (done || cyclesSeen.size > maxCyclesToFirstForecast) {
        clearInterval(poll);
        resolve(done);
      }
    }, 50);
  });
  if (!allForecasted) {
    const message = `after ${maxCyclesToFirstForecast} cycles only ${forecasted()} of ${expectedQueues} queues have a forecast`;
    process.send?.({ type: 'cycle-failed', message } satisfies ScaleChildCycleFailed);
    stop();
    return;
  }
  const firstForecastSeconds = (performance.now() - began) / 1000;
  const measuredCycle = async (): Promise<void> => {
    const cpuSeconds = () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    };
    // FORESIGHT_BENCH_PROFILE_DIR: a CPU profile of the service per steady cycle (chrome://inspect opens them).
    // Started before and written after the measured span: starting the profiler takes about 0.4 s of CPU.
    const profileDir = process.env['FORESIGHT_BENCH_PROFILE_DIR'];
    const profiling = profileDir === undefined ? undefined : await startProfile();
    const requestsBefore = await prometheusRequests(service.registry);
    const serviceBefore = cpuSeconds();
    const modelBefore = service.modelHost.cpuSeconds();
    const snapshot = await service.reconciler.runCycle();
    const serviceCpuSeconds = cpuSeconds() - serviceBefore;
    const model = service.modelHost.cpuSeconds();
    const requests = (await prometheusRequests(service.registry)) - requestsBefore;
    if (profiling !== undefined && profileDir !== undefined) writeFileSync(join(profileDir, `cycle-${snapshot.startedAtMs}.cpuprofile`), JSON.stringify(await stopProfile(profiling)));
    // FORESIGHT_BENCH_HEAP_DIR: a heap snapshot after each steady cycle (it collects garbage first, so the
    // memory reported next is what is reachable; at 1,000 queues it takes seconds and as much memory again).
    const heapDir = process.env['FORESIGHT_BENCH_HEAP_DIR'];
    if (heapDir !== undefined) writeHeapSnapshot(join(heapDir, `cycle-${snapshot.startedAtMs}.heapsnapshot`));
    process.send?.({
      type: 'cycle',
      seconds: snapshot.durationSeconds,
      queuesWithForecasts: forecasted(),
      serviceCpuSeconds,
      modelCallsCpuSeconds: model.callsSeconds - modelBefore.callsSeconds,
      modelRefitsCpuSeconds: model.refitsSeconds - modelBefore.refitsSeconds,
      queuedRefits: service.modelHost.queuedRefits() ?? 0,
      historyPendingSeries: snapshot.history?.pendingSeries ?? 0,
      prometheusRequests: requests,
      memory: process.memoryUsage(),
    } satisfies ScaleChildCycle);
  };
  process.on('message', (message) => {
    if (message === 'stop') stop();
    // A failed cycle is answered too: left unhandled it would end this process and leave the benchmark waiting.
    if (message === 'cycle') measuredCycle().catch((error: unknown) => process.send?.({ type: 'cycle-failed', message: messageOf(error) } satisfies ScaleChildCycleFailed));
  });
  process.send?.({ type: 'ready', url: service.url, externalMetricsUrl: service.externalMetrics.url, firstForecastSeconds, peakRssBytes, queues: forecasted() } satisfies ScaleChildReady);
}

/** Requests sent to Prometheus so far: the count of the source's query-duration histogram, every kind and outcome. */
async function prometheusRequests(registry: Registry): Promise<number> {
  const histogram = registry.getSingleMetric('foresight_source_query_duration_seconds');
  if (histogram === undefined) return Number.NaN;
  const { values } = await histogram.get();
  return values.filter((v) => 'metricName' in v && v.metricName === 'foresight_source_query_duration_seconds_count').reduce((sum, v) => sum + v.value, 0);
}

async function startProfile(): Promise<Session> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return session;
}

async function stopProfile(session: Session): Promise<unknown> {
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  return profile;
}

if (process.send !== undefined && process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [configPath, pkiDir, queues] = process.argv.slice(2);
  if (configPath === undefined || pkiDir === undefined || queues === undefined) throw new Error('scale-child.ts needs the config path, the PKI folder and the queue count');
  await serve(configPath, pkiDir, Number(queues));
}
