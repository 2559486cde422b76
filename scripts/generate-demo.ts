/**
 * Generates the bundled demo workload in demo/: 14 days at 60 s of every input Foresight reads for
 * the five default queues, as gzipped `timestamp,value` CSV traces that ReplaySource plays.
 *
 * Run: `npx tsx scripts/generate-demo.ts [outDir]` (default: demo/ at the package root).
 *
 * The data is simulated, not recorded, and fully determined by the seed: the same seed always
 * writes the same bytes. The simulation is a small discrete-time model of a claims-processing
 * platform, so that the series are mutually consistent rather than independent curves:
 *
 * - Arrivals per queue follow a business-hours daily cycle and a weekly cycle (quiet weekends),
 *   with day-to-day variation, slow multiplicative noise and Poisson counts per minute, plus
 *   bursts: a nightly batch at 02:00 for batch_processing, a daily 16:00 resubmission into
 *   failed_claims, random ML-inference spikes, a "storm" of priority claims on day 10 and an
 *   ML incident on day 8 (for anomaly detection).
 * - Three worker pools (worker_processes serving validation, priority_claims and failed_claims in
 *   strict priority; batch_processors; ml_workers) serve the queues at a fixed rate per ready
 *   replica. Each pool is scaled by a reactive, HPA-like controller (desired = what the recent
 *   arrival rate plus draining the backlog needs; new pods take 2-8 minutes to become ready, ML
 *   workers the longest as they load a model; scale down after a 10-minute stabilisation window),
 *   so a queue grows whenever load rises faster than the controller reacts. That lag is what
 *   predictive scaling is for.
 * - Depth is arrivals minus service; enqueue and dequeue rates are 5-minute rates of the same
 *   counts; waits come from FIFO order (the age of the head message, and the wait of the messages
 *   dequeued); consumers are the ready replicas; failed messages are a fraction of those served,
 *   and validation's failures are what arrives in failed_claims.
 * - api_instances follow the HTTP request rate; response time and error rate rise with their
 *   utilisation; the database pool (db_connections) follows connections in use.
 * - CPU, load averages, memory, disk and network are computed from the work done and the pods
 *   running (plus a nightly backup at 03:00 and a memory leak in the API reset by a nightly restart).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { allInputs, inputKey, type InputRef, type PerformanceMetric, type QueueMetric, type Resource, type Sample, type SystemMetric } from '../src/core/index.js';
import { replayFileName } from '../src/source/index.js';

/** The five default queues of the configuration. */
export const demoQueues = ['batch_processing', 'ml_inference', 'validation', 'failed_claims', 'priority_claims'] as const;
type DemoQueue = (typeof demoQueues)[number];

/** Options of {@link generateDemo}; the defaults produce the bundled demo. */
export interface DemoOptions {
  readonly seed?: number;
  /** First recorded sample; a Monday 00:00 UTC keeps weekdays aligned when the trace loops. */
  readonly startMs?: number;
  readonly days?: number;
  /** Simulated before `startMs` and dropped, so that the trace does not start from empty queues. */
  readonly warmupDays?: number;
}

/** Monday 2024-01-01 00:00 UTC. */
export const demoStartMs = Date.UTC(2024, 0, 1);
/** The seed of the bundled demo. */
export const demoSeed = 20240101;
/** Days in the bundled demo: two whole weeks, so a loop keeps the day of week. */
export const demoDays = 14;
const stepSeconds = 60;
const stepsPerDay = 86_400 / stepSeconds;
// Prometheus' rate(...[5m]) and increase(...[5m]) over 60 s steps.
const rateWindowSteps = 5;
// Time a ready message waits for a consumer to fetch it even when consumers are idle (prefetch,
// polling, acknowledgements): a healthy queue is short, not empty.
const deliveryLatencySeconds = 0.4;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness.

/** mulberry32: a small, fast 32-bit PRNG; good enough for synthetic noise, and reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An independent stream per name, so that changing one part of the model leaves the others' noise alone. */
class Random {
  readonly #next: () => number;
  #spare: number | undefined;

  constructor(seed: number, name: string) {
    let hash = 2_166_136_261 ^ seed;
    for (const char of name) hash = Math.imul(hash ^ char.charCodeAt(0), 16_777_619);
    this.#next = mulberry32(hash);
  }

  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.#next();
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.#spare !== undefined) {
      const spare = this.#spare;
      this.#spare = undefined;
      return spare;
    }
    const u = Math.max(this.#next(), 1e-12);
    const v = this.#next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.#spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 40) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    // Knuth's method is exact and fast for small means.
    const limit = Math.exp(-mean);
    let count = 0;
    let product = this.#next();
    while (product > limit) {
      count += 1;
      product *= this.#next();
    }
    return count;
  }
}

/** Slowly wandering noise: an AR(1) process with the given stationary standard deviation. */
class Wander {
  #value = 0;
  readonly #noise: number;

  constructor(
    private readonly random: Random,
    private readonly persistence: number,
    deviation: number,
  ) {
    this.#noise = deviation * Math.sqrt(1 - persistence * persistence);
  }

  next(): number {
    this.#value = this.persistence * this.#value + this.#noise * this.random.normal();
    return this.#value;
  }
}

/** The mean of the last `size` values pushed: what rate(x[5m]) makes of a per-step quantity. */
class Trailing {
  readonly #values: number[] = [];

  constructor(private readonly size: number) {}

  push(value: number): number {
    this.#values.push(value);
    if (this.#values.length > this.size) this.#values.shift();
    return this.#values.reduce((sum, v) => sum + v, 0) / this.#values.length;
  }

  sum(): number {
    return this.#values.reduce((sum, v) => sum + v, 0);
  }

  mean(): number {
    return this.#values.length === 0 ? 0 : this.sum() / this.#values.length;
  }
}

// ---------------------------------------------------------------------------------------------
// Calendar: business hours and the week, in UTC.

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** 0 at night, about 1 in business hours, with a lunch dip. `hour` is 0-24 UTC. */
function businessCurve(hour: number): number {
  // Most of the morning ramp happens within half an hour of 08:15, when the claims handlers start.
  const open = sigmoid((hour - 8.25) / 0.22) * (1 - sigmoid((hour - 18.2) / 0.9));
  const lunch = 1 - 0.15 * Math.exp(-(((hour - 12.75) / 0.55) ** 2));
  return open * lunch;
}

// Monday's backlog, a lighter Friday, quiet weekends.
const weekdayFactor = [1.08, 1, 1, 0.97, 0.88, 0.28, 0.2] as const;

function within(hour: number, from: number, to: number): boolean {
  return hour >= from && hour < to;
}

// ---------------------------------------------------------------------------------------------
// Queues and the pools that drain them.

/** A FIFO queue tracked as cumulative counts, so that waits follow from arrival order. */
class Queue {
  depth = 0;
  #arrived = 0;
  #served = 0;
  /** Cumulative arrivals at the end of each step, for the arrival time of message number n. */
  readonly #cumulative: number[] = [];
  #cursor = 0;
  readonly enqueue = new Trailing(rateWindowSteps);
  readonly dequeue = new Trailing(rateWindowSteps);
  readonly failures = new Trailing(rateWindowSteps);
  readonly #waitSum = new Trailing(rateWindowSteps);
  readonly #waitCount = new Trailing(rateWindowSteps);
  arrivals = 0;
  served = 0;

  /** Arrivals of this step (a count); returns nothing, service comes next. */
  arrive(count: number): void {
    this.arrivals = count;
    this.#arrived += count;
    this.#cumulative.push(this.#arrived);
    this.depth += count;
  }

  /** Serves up to `capacity` messages; returns the capacity left over. */
  serve(capacity: number, step: number): number {
    const served = Math.min(this.depth, capacity);
    const before = this.#served;
    this.#served += served;
    this.served = served;
    this.depth -= served;
    // The messages dequeued this step are numbers [before, before + served); their mean wait is
    // about that of the middle one, dequeued mid-step.
    if (served > 0) {
      const wait = Math.max(0, (step + 0.5) * stepSeconds - this.#arrivalSeconds((before + this.#served) / 2));
      this.#waitSum.push(wait * served);
      this.#waitCount.push(served);
    } else {
      this.#waitSum.push(0);
      this.#waitCount.push(0);
    }
    return capacity - served;
  }

  /** Mean wait of the messages dequeued in the last 5 minutes (0 when none were). */
  waitAvgSeconds(): number {
    const count = this.#waitCount.sum();
    return count > 0 ? this.#waitSum.sum() / count : 0;
  }

  /** Age of the oldest waiting message at the end of `step`, 0 when the queue is empty. */
  waitMaxSeconds(step: number): number {
    if (this.depth < 1) return 0;
    return Math.max(0, (step + 1) * stepSeconds - this.#arrivalSeconds(this.#served));
  }

  /** Arrival time (seconds since the first step) of message number `n`, arrivals spread evenly over each step. */
  #arrivalSeconds(n: number): number {
    const cumulative = this.#cumulative;
    while (this.#cursor < cumulative.length - 1 && cumulative[this.#cursor]! <= n) this.#cursor += 1;
    const end = cumulative[this.#cursor]!;
    const start = this.#cursor === 0 ? 0 : cumulative[this.#cursor - 1]!;
    const fraction = end > start ? (n - start) / (end - start) : 1;
    return (this.#cursor + Math.min(1, Math.max(0, fraction))) * stepSeconds;
  }
}

interface PoolSpec {
  readonly min: number;
  readonly max: number;
  /** Messages (or requests) per second one ready replica handles. */
  readonly perReplicaPerSecond: number;
  /** Utilisation the controller aims for. */
  readonly targetUtilisation: number;
  /** The controller plans to drain the backlog within this many seconds. */
  readonly drainSeconds: number;
  readonly stabiliseDownSteps: number;
  /** Minutes from a scale-up decision to ready pods (scheduling, image pull, warm-up), lowest and highest. */
  readonly startupSteps: readonly [number, number];
}

/** Replicas of one deployment under a reactive (HPA-like) controller. */
class Pool {
  replicas: number;
  ready: number;
  readonly #pending: { readyAtStep: number; count: number }[] = [];
  readonly #recentDesired: number[] = [];

  constructor(
    readonly spec: PoolSpec,
    private readonly random: Random,
    initial: number,
  ) {
    this.replicas = initial;
    this.ready = initial;
  }

  /** Pods that became ready by `step` join the pool. */
  tick(step: number): void {
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      const batch = this.#pending[i]!;
      if (batch.readyAtStep <= step) {
        this.ready += batch.count;
        this.#pending.splice(i, 1);
      }
    }
  }

  /** One controller evaluation from what it observes (a rate and a backlog); takes effect later. */
  reconcile(step: number, ratePerSecond: number, backlog: number): void {
    const { min, max, perReplicaPerSecond, targetUtilisation, drainSeconds, stabiliseDownSteps } = this.spec;
    const need = (ratePerSecond + backlog / drainSeconds) / (perReplicaPerSecond * targetUtilisation);
    const desired = Math.min(max, Math.max(min, Math.ceil(need)));
    this.#recentDesired.push(desired);
    if (this.#recentDesired.length > stabiliseDownSteps) this.#recentDesired.shift();
    if (desired > this.replicas) {
      const [fastest, slowest] = this.spec.startupSteps;
      this.#pending.push({ readyAtStep: step + fastest + Math.floor(this.random.uniform(0, slowest - fastest + 1)), count: desired - this.replicas });
      this.replicas = desired;
      return;
    }
    const stabilised = Math.max(...this.#recentDesired);
    if (stabilised < this.replicas) {
      let remove = this.replicas - stabilised;
      this.replicas = stabilised;
      // Pods that are not ready yet go first.
      while (remove > 0 && this.#pending.length > 0) {
        const last = this.#pending[this.#pending.length - 1]!;
        const taken = Math.min(remove, last.count);
        last.count -= taken;
        remove -= taken;
        if (last.count === 0) this.#pending.pop();
      }
      this.ready -= remove;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rounding: sensible precision keeps the folder small and the numbers readable.

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

function significant(value: number, digits: number): number {
  if (value === 0) return 0;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const factor = 10 ** (digits - 1 - magnitude);
  return Math.round(value * factor) / factor;
}

// ---------------------------------------------------------------------------------------------
// The simulation.

interface QueueModel {
  readonly pFail: number;
}

const queueModels: Readonly<Record<DemoQueue, QueueModel>> = {
  batch_processing: { pFail: 0.0015 },
  ml_inference: { pFail: 0.003 },
  validation: { pFail: 0.03 }, // Failed validations are routed to failed_claims.
  failed_claims: { pFail: 0.06 },
  priority_claims: { pFail: 0.004 },
};

/**
 * Simulates the demo workload. Returns rounded samples per `inputKey`, for every input of the five
 * default queues, every system and performance input, and every resource's replicas.
 */
export function generateDemo(options: DemoOptions = {}): Map<string, Sample[]> {
  const seed = options.seed ?? demoSeed;
  const startMs = options.startMs ?? demoStartMs;
  const days = options.days ?? demoDays;
  const warmupDays = options.warmupDays ?? 1;
  const random = (name: string) => new Random(seed, name);

  const out = new Map<string, Sample[]>();
  const emit = (input: InputRef, timestampMs: number, value: number): void => {
    const key = inputKey(input);
    let samples = out.get(key);
    if (samples === undefined) {
      samples = [];
      out.set(key, samples);
    }
    samples.push({ timestampMs, value });
  };

  // Per-day variation and random events, drawn up front from streams of their own, so that a
  // shorter run is an exact prefix of a longer one (the tests rely on it).
  const totalDays = days + warmupDays;
  const scaleRandom = random('day-scale');
  const batchRandom = random('nightly-batch');
  const spikeRandom = random('ml-spikes');
  const dayScale = Array.from({ length: totalDays }, () => Math.exp(0.06 * scaleRandom.normal()));
  const nightlyBatch = Array.from({ length: totalDays }, () => 1 + 0.1 * batchRandom.normal());
  const mlSpikes: { startHour: number; endHour: number; factor: number }[][] = Array.from({ length: totalDays }, () => {
    // Four draws per day whatever the outcome, to keep the days aligned.
    const [happens, start, minutes, factor] = [spikeRandom.uniform(), spikeRandom.uniform(9, 16.5), spikeRandom.uniform(10, 30), spikeRandom.uniform(1.6, 2.2)];
    return happens > 0.6 ? [] : [{ startHour: start, endHour: start + minutes / 60, factor }];
  });
  // Recorded days (after the warm-up) on which the scripted anomalies happen.
  const incidentDay = 8; // Tuesday of week 2: ML workers fail 18% of messages, API errors rise.
  const stormDay = 10; // Thursday of week 2: a burst of priority claims (a hail storm, say).
  const rerunDay = 9; // Wednesday of week 2: an ad-hoc batch re-run in the afternoon.

  const queues = Object.fromEntries(demoQueues.map((q) => [q, new Queue()])) as Record<DemoQueue, Queue>;
  const workers = new Pool({ min: 2, max: 20, perReplicaPerSecond: 2.2, targetUtilisation: 0.8, drainSeconds: 300, stabiliseDownSteps: 10, startupSteps: [3, 5] }, random('pool-workers'), 3);
  const batch = new Pool({ min: 1, max: 8, perReplicaPerSecond: 2.6, targetUtilisation: 0.85, drainSeconds: 600, stabiliseDownSteps: 10, startupSteps: [2, 3] }, random('pool-batch'), 1);
  const ml = new Pool({ min: 1, max: 6, perReplicaPerSecond: 2, targetUtilisation: 0.8, drainSeconds: 300, stabiliseDownSteps: 10, startupSteps: [5, 8] }, random('pool-ml'), 1);
  const api = new Pool({ min: 2, max: 10, perReplicaPerSecond: 30, targetUtilisation: 0.7, drainSeconds: 1, stabiliseDownSteps: 5, startupSteps: [1, 2] }, random('pool-api'), 2);
  let dbPool = 20;
  const dbRecent: number[] = [];

  const arrivalRandom = random('arrivals');
  const failureRandom = random('failures');
  const systemRandom = random('system');
  const wander = Object.fromEntries(demoQueues.map((q) => [q, new Wander(random(`wander-${q}`), 0.985, 0.12)])) as Record<DemoQueue, Wander>;
  const apiWander = new Wander(random('wander-api'), 0.985, 0.1);
  const cpuWander = new Wander(random('wander-cpu'), 0.9, 0.04);
  const diskWander = new Wander(random('wander-disk'), 0.8, 0.25);
  const netWander = new Wander(random('wander-net'), 0.9, 0.08);
  const dbWander = new Wander(random('wander-db'), 0.95, 1.5);
  const rps5 = new Trailing(rateWindowSteps);
  const cpu5 = new Trailing(rateWindowSteps);
  const disk5 = new Trailing(rateWindowSteps);
  const net5 = new Trailing(rateWindowSteps);
  const errors5 = new Trailing(rateWindowSteps);
  const p95Smooth = new Trailing(rateWindowSteps);
  let load1 = 2;
  let load5 = 2;
  let load15 = 2;
  let apiLeakGiB = 0;
  let failedRouted = 0;

  const steps = totalDays * stepsPerDay;
  for (let step = 0; step < steps; step++) {
    const recordedStep = step - warmupDays * stepsPerDay;
    const timestampMs = startMs + recordedStep * stepSeconds * 1000;
    const day = Math.floor(recordedStep / stepsPerDay);
    const dayIndex = day + warmupDays;
    const weekday = (((day % 7) + 7) % 7) as 0 | 1 | 2 | 3 | 4 | 5 | 6;
    const hour = (((recordedStep % stepsPerDay) + stepsPerDay) % stepsPerDay) / 60;
    const business = businessCurve(hour) * weekdayFactor[weekday] * dayScale[dayIndex]!;
    const storm = day === stormDay && within(hour, 13, 14.5);
    const incident = day === incidentDay && within(hour, 15 + 1 / 6, 15 + 5 / 6);
    const backup = within(hour, 3, 3 + 2 / 3);

    workers.tick(step);
    batch.tick(step);
    ml.tick(step);
    api.tick(step);

    // Arrivals (messages per second, then a Poisson count per step).
    const noise = (q: DemoQueue) => Math.exp(wander[q].next());
    const spike = mlSpikes[dayIndex]!.find((s) => within(hour, s.startHour, s.endHour));
    let batchRate = (0.4 + 1.8 * business) * noise('batch_processing');
    // The nightly batch: the previous business day's claims, 02:00-02:15 (small after weekend days).
    if (within(hour, 2, 2.25)) batchRate += ((weekday >= 1 && weekday <= 5 ? 26_000 : 7_000) * nightlyBatch[dayIndex]!) / 900;
    if (day === rerunDay && within(hour, 14.5, 14.5 + 1 / 6)) batchRate += 12_000 / 600;
    const rates: Record<DemoQueue, number> = {
      batch_processing: batchRate,
      ml_inference: (0.7 + 7 * business) * noise('ml_inference') * (spike?.factor ?? 1),
      validation: (1.8 + 24 * business) * noise('validation') * (storm ? 1.1 : 1),
      priority_claims: (0.25 + 4.2 * business) * noise('priority_claims') * (storm ? 3 : 1),
      // Failed validations (routed last step) plus the 16:00 weekday resubmission of rejected claims.
      failed_claims: (weekday <= 4 && within(hour, 16, 16 + 1 / 6) ? 1_200 / 600 : 0) * noise('failed_claims'),
    };
    for (const q of demoQueues) {
      const count = arrivalRandom.poisson(rates[q] * stepSeconds) + (q === 'failed_claims' ? failedRouted : 0);
      queues[q].arrive(count);
    }

    // Service: workers take priority claims first, then validation, then failed claims.
    const efficiency = () => 1 + 0.04 * systemRandom.normal();
    let workerCapacity = workers.ready * workers.spec.perReplicaPerSecond * stepSeconds * efficiency();
    workerCapacity = queues.priority_claims.serve(workerCapacity, step);
    workerCapacity = queues.validation.serve(workerCapacity, step);
    queues.failed_claims.serve(workerCapacity, step);
    queues.batch_processing.serve(batch.ready * batch.spec.perReplicaPerSecond * stepSeconds * efficiency(), step);
    queues.ml_inference.serve(ml.ready * ml.spec.perReplicaPerSecond * stepSeconds * efficiency(), step);

    const failures = {} as Record<DemoQueue, number>;
    for (const q of demoQueues) {
      const pFail = q === 'ml_inference' && incident ? 0.18 : queueModels[q].pFail;
      failures[q] = failureRandom.poisson(queues[q].served * pFail);
    }
    failedRouted = failures.validation;

    // HTTP traffic and the API deployment.
    const requestsPerSecond = Math.max(0, (10 + 175 * business) * Math.exp(apiWander.next()) * (storm ? 1.8 : 1) + 2 * systemRandom.normal());
    const rpsRate = rps5.push(requestsPerSecond);
    const apiUtilisation = requestsPerSecond / (Math.max(1, api.ready) * api.spec.perReplicaPerSecond);

    // The database pool follows connections in use, growing at once and shrinking after 30 minutes.
    const inUse = Math.max(2, 4 + 0.11 * requestsPerSecond + 1.2 * (workers.ready + batch.ready) + 0.8 * ml.ready + dbWander.next());
    const dbDesired = Math.min(200, Math.max(20, Math.ceil(inUse / 0.75 / 10) * 10));
    dbRecent.push(dbDesired);
    if (dbRecent.length > 30) dbRecent.shift();
    const dbUtilisation = Math.min(100, (100 * inUse) / dbPool);

    let p95 = (0.14 + 0.1 * Math.min(apiUtilisation, 1)) / Math.sqrt(Math.max(0.02, 1 - Math.min(apiUtilisation, 0.98)));
    if (apiUtilisation > 0.98) p95 += 6 * (apiUtilisation - 0.98);
    if (dbUtilisation > 85) p95 *= 1 + (dbUtilisation - 85) / 15;
    if (incident) p95 *= 2;
    p95 *= Math.exp(0.06 * systemRandom.normal());
    const errorPercent = Math.max(0, 0.12 + 0.04 * systemRandom.normal() + Math.min(8, Math.max(0, apiUtilisation - 0.92) * 25) + (incident ? 5 : 0) + (storm ? 0.3 : 0));

    // Nodes: 4 nodes of 8 cores and 32 GiB.
    const workerRate = (queues.priority_claims.served + queues.validation.served + queues.failed_claims.served) / stepSeconds;
    const batchRateServed = queues.batch_processing.served / stepSeconds;
    const mlRateServed = queues.ml_inference.served / stepSeconds;
    const pods = workers.ready + batch.ready + ml.ready + api.ready;
    const cores = 1.4 + 0.06 * pods + 0.012 * requestsPerSecond + 0.09 * workerRate + 0.55 * batchRateServed + 0.75 * mlRateServed + (backup ? 1.5 : 0);
    const cpuPercent = Math.min(100, Math.max(1, ((100 * cores) / 32) * Math.exp(cpuWander.next())));
    const diskBytes = (1.2e6 + 350e3 * batchRateServed + 40e3 * mlRateServed + 8e3 * workerRate + (backup ? 85e6 : 0)) * Math.exp(diskWander.next());
    const totalMessages = demoQueues.reduce((sum, q) => sum + queues[q].arrivals + queues[q].served, 0) / stepSeconds;
    const networkBytes = (6e3 * totalMessages + 28e3 * requestsPerSecond + 180e3 * mlRateServed + (backup ? 60e6 : 0)) * Math.exp(netWander.next());
    // Load: runnable threads per node, smoothed as the kernel does (exponential decay over 1, 5, 15 min).
    const runnable = Math.max(0, (cores * (1 + 0.1 * systemRandom.normal()) + diskBytes / 40e6) / 4);
    load1 += (1 - Math.exp(-1)) * (runnable - load1);
    load5 += (1 - Math.exp(-1 / 5)) * (runnable - load5);
    load15 += (1 - Math.exp(-1 / 15)) * (runnable - load15);
    // The API leaks memory until its nightly restart at 04:00.
    apiLeakGiB = within(hour, 4, 4 + 1 / 60) ? 0 : apiLeakGiB + (0.15 / 60) * api.ready;
    const brokerGiB = (demoQueues.reduce((sum, q) => sum + queues[q].depth, 0) * 4096) / 2 ** 30;
    const usedGiB = 22 + 0.5 * workers.ready + 1.2 * batch.ready + 3.5 * ml.ready + 0.4 * api.ready + apiLeakGiB + brokerGiB;
    const memoryPercent = Math.min(100, (100 * usedGiB) / 128 + 0.3 * systemRandom.normal());

    if (recordedStep >= 0) {
      for (const q of demoQueues) {
        const queue = queues[q];
        const consumers = q === 'batch_processing' ? batch.ready : q === 'ml_inference' ? ml.ready : workers.ready;
        const values: Record<QueueMetric, number> = {
          // Ready messages: the backlog plus those not yet fetched (Little's law over the delivery latency).
          depth: Math.round(queue.depth) + arrivalRandom.poisson((queue.arrivals / stepSeconds) * deliveryLatencySeconds),
          enqueue_rate_per_second: round(queue.enqueue.push(queue.arrivals) / stepSeconds, 2),
          dequeue_rate_per_second: round(queue.dequeue.push(queue.served) / stepSeconds, 2),
          wait_avg_seconds: round(deliveryLatencySeconds + queue.waitAvgSeconds(), 1),
          wait_max_seconds: round(Math.max(queue.waitMaxSeconds(step), queue.arrivals > 0 ? 2 * deliveryLatencySeconds * arrivalRandom.uniform() : 0), 1),
          consumers,
          failed_messages: Math.round(queue.failures.push(failures[q])),
        };
        for (const [metric, value] of Object.entries(values) as [QueueMetric, number][]) emit({ kind: 'queue', queue: q, metric }, timestampMs, value);
      }
      const system: Record<SystemMetric, number> = {
        cpu_percent: round(cpu5.push(cpuPercent), 1),
        memory_percent: round(memoryPercent, 1),
        disk_io_bytes_per_second: significant(disk5.push(diskBytes), 3),
        network_io_bytes_per_second: significant(net5.push(networkBytes), 3),
        load1: round(load1, 2),
        load5: round(load5, 2),
        load15: round(load15, 2),
      };
      for (const [metric, value] of Object.entries(system) as [SystemMetric, number][]) emit({ kind: 'system', metric }, timestampMs, value);
      const performance: Record<PerformanceMetric, number> = {
        response_time_p95_seconds: round(Math.min(12, p95Smooth.push(p95)), 3),
        error_rate_percent: round(Math.min(100, errors5.push(errorPercent)), 2),
        db_connection_utilization_percent: round(dbUtilisation, 1),
      };
      for (const [metric, value] of Object.entries(performance) as [PerformanceMetric, number][]) emit({ kind: 'performance', metric }, timestampMs, value);
      const replicas: Record<Resource, number> = {
        worker_processes: workers.replicas,
        api_instances: api.replicas,
        batch_processors: batch.replicas,
        ml_workers: ml.replicas,
        db_connections: dbPool,
      };
      for (const [resource, value] of Object.entries(replicas) as [Resource, number][]) emit({ kind: 'replicas', resource }, timestampMs, value);
    } else {
      // Keep the 5-minute windows filled during the warm-up.
      for (const q of demoQueues) {
        queues[q].enqueue.push(queues[q].arrivals);
        queues[q].dequeue.push(queues[q].served);
        queues[q].failures.push(failures[q]);
      }
      cpu5.push(cpuPercent);
      disk5.push(diskBytes);
      net5.push(networkBytes);
      p95Smooth.push(p95);
      errors5.push(errorPercent);
    }

    // The controllers act on the 5-minute rates they observe now; the effect shows from the next step.
    const observed = (q: DemoQueue) => queues[q].enqueue.mean() / stepSeconds;
    workers.reconcile(step, observed('priority_claims') + observed('validation') + observed('failed_claims'), queues.priority_claims.depth + queues.validation.depth + queues.failed_claims.depth);
    batch.reconcile(step, observed('batch_processing'), queues.batch_processing.depth);
    ml.reconcile(step, observed('ml_inference'), queues.ml_inference.depth);
    api.reconcile(step, rpsRate, 0);
    const dbTarget = Math.max(...dbRecent);
    dbPool = dbDesired > dbPool ? dbDesired : Math.min(dbPool, dbTarget);
  }
  return out;
}

/** Formats samples as a `timestamp,value` CSV with a header line. */
export function toCsv(samples: readonly Sample[]): string {
  const lines = ['timestamp,value'];
  for (const s of samples) lines.push(`${Math.round(s.timestampMs / 1000)},${String(s.value)}`);
  return `${lines.join('\n')}\n`;
}

/** Writes every trace of {@link generateDemo} to `dir` as `<input key with "/" → "__">.csv.gz`. */
export function writeDemo(dir: string, options: DemoOptions = {}): { readonly files: number; readonly bytes: number } {
  mkdirSync(dir, { recursive: true });
  const traces = generateDemo(options);
  let bytes = 0;
  let files = 0;
  for (const input of allInputs(demoQueues)) {
    const samples = traces.get(inputKey(input));
    if (samples === undefined) throw new Error(`the simulation produced no ${inputKey(input)}`);
    // Level 9 and Node's fixed gzip header (no file name, mtime 0) keep the bytes reproducible.
    const gz = gzipSync(toCsv(samples), { level: 9 });
    writeFileSync(join(dir, `${replayFileName(input)}.gz`), gz);
    bytes += gz.length;
    files += 1;
  }
  return { files, bytes };
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntryPoint) {
  const dir = process.argv[2] ?? fileURLToPath(new URL('../demo/', import.meta.url));
  const { files, bytes } = writeDemo(dir);
  process.stdout.write(`wrote ${files} traces (${(bytes / 1e6).toFixed(2)} MB gzipped) to ${dir}\n`);
}
