import { elasticityMetrics, type ElasticityMetrics } from './metrics.js';
import { demandReplicas } from './oracle-policy.js';
import type { AutoscalingPolicy, Observation } from './policy.js';
import { FluidQueue } from './queue.js';
import { arrivalsBetween, type LoadTrace } from './trace.js';

/** The simulated system. */
export interface SimulationOptions {
  /** Messages per second one ready replica serves (at the SLO). */
  readonly capacityPerReplicaPerSecond: number;
  /** Time from asking for a replica to it serving. */
  readonly startupDelaySeconds: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** A message waiting longer than this violates the SLO. */
  readonly sloWaitSeconds: number;
  /** Simulation step (the HPA's 15 s sync by default); policies act on multiples of it. */
  readonly tickSeconds: number;
  /** Replicas ready at the start (default: what the first tick needs, within the range). */
  readonly initialReplicas?: number;
  /** Keep per-tick series for plots (default true). */
  readonly keepSeries?: boolean;
  /**
   * Measure from this instant on (default: the start). The run starts at the trace's start either
   * way, so queue and replicas carry over; a benchmark scores the part of a trace nobody tuned on.
   */
  readonly scoreFromMs?: number;
}

/** Per-tick series (kept for plots). */
export interface SimulationSeries {
  readonly startMs: number;
  readonly tickSeconds: number;
  /** Arrival rate in replica units: rate / capacity. */
  readonly load: Float64Array;
  /** d_t = ceil(load). */
  readonly demand: Int32Array;
  /** s_t = ready replicas. */
  readonly supply: Int32Array;
  /** Ready + starting replicas. */
  readonly provisioned: Int32Array;
  readonly queueDepth: Float64Array;
  readonly oldestWaitSeconds: Float64Array;
}

/** What a run measured. */
export interface SimulationResult {
  readonly policy: string;
  readonly ticks: number;
  readonly tickSeconds: number;
  readonly durationSeconds: number;
  readonly elasticity: ElasticityMetrics;
  /** Share of time the oldest waiting message was older than the SLO, %. */
  readonly sloViolationPercent: number;
  readonly sloViolationMinutes: number;
  /** Σ provisioned replicas · Δt (what is paid: starting replicas count), minutes. */
  readonly replicaMinutes: number;
  /** Σ ready replicas · Δt, minutes. */
  readonly readyReplicaMinutes: number;
  /** Σ d_t · Δt: the oracle's ready replica-minutes, minutes. */
  readonly demandReplicaMinutes: number;
  readonly scalingActions: { readonly up: number; readonly down: number; readonly total: number; readonly perHour: number };
  readonly maxQueueDepth: number;
  readonly maxWaitSeconds: number;
  readonly arrivals: number;
  readonly served: number;
  readonly finalQueueDepth: number;
  readonly series?: SimulationSeries;
}

/**
 * Replays a load trace through a FIFO queue served by replicas, under an autoscaling policy.
 * Time advances in ticks; at each tick: replicas whose start-up has elapsed become ready; the
 * policy, when due, sees the observations so far and sets the provisioned replicas (new ones
 * start, surplus ones stop at once, starting ones first); then the tick's arrivals join the queue
 * and the ready replicas serve it at their capacity. Demand d_t = ceil(arrival rate / capacity),
 * supply s_t = ready replicas; the SPEC metrics are computed over every tick. Deterministic.
 */
export function simulate(trace: LoadTrace, policy: AutoscalingPolicy, options: SimulationOptions): SimulationResult {
  const { capacityPerReplicaPerSecond: capacity, startupDelaySeconds, minReplicas, maxReplicas, sloWaitSeconds, tickSeconds } = options;
  if (!(capacity > 0) || !(tickSeconds > 0) || !(startupDelaySeconds >= 0) || !(sloWaitSeconds > 0) || !(minReplicas >= 0) || !(maxReplicas >= Math.max(1, minReplicas))) {
    throw new RangeError(`invalid simulation options: capacity ${capacity}, tick ${tickSeconds}s, start-up ${startupDelaySeconds}s, slo ${sloWaitSeconds}s, range ${minReplicas}-${maxReplicas}`);
  }
  const startMs = trace.series.startMs;
  const tickMs = tickSeconds * 1000;
  const stepMs = trace.series.stepSeconds * 1000;
  const n = Math.max(1, Math.ceil((trace.endMs - startMs) / tickMs));
  // The first tick measured, leaving at least one.
  const firstScored = Math.min(n - 1, Math.max(0, Math.ceil(((options.scoreFromMs ?? startMs) - startMs) / tickMs)));
  const scored = n - firstScored;
  const keep = options.keepSeries ?? true;
  const demand = new Int32Array(n);
  const supply = new Int32Array(n);
  const provisionedSeries = keep ? new Int32Array(n) : undefined;
  const load = keep ? new Float64Array(n) : undefined;
  const depthSeries = keep ? new Float64Array(n) : undefined;
  const waitSeries = keep ? new Float64Array(n) : undefined;

  const clamp = (replicas: number): number => Math.min(maxReplicas, Math.max(minReplicas, Math.round(replicas)));
  // Start times of the provisioned replicas' readiness, ascending (newest last).
  const readyAt: number[] = [];
  const initial = options.initialReplicas ?? demandReplicas(arrivalsBetween(trace, startMs, startMs + tickMs) / tickSeconds, capacity);
  for (let i = 0; i < clamp(initial); i++) readyAt.push(startMs);
  const history = new Float64Array(trace.series.values.length).fill(Number.NaN);
  const historySeries = { startMs, stepSeconds: trace.series.stepSeconds, values: history };
  let completedSteps = 0;
  const queue = new FluidQueue();
  // The last minute of arrivals and service, tick by tick, for the observed rates.
  const rateTicks = Math.max(1, Math.round(60 / tickSeconds));
  const recentArrivals = new Float64Array(rateTicks);
  const recentServed = new Float64Array(rateTicks);
  let nextDecisionMs = startMs;
  let up = 0;
  let down = 0;
  let sloTicks = 0;
  let provisionedSum = 0;
  let readySum = 0;
  let demandSum = 0;
  let maxDepth = 0;
  let maxWait = 0;
  let arrivalsTotal = 0;
  let servedTotal = 0;

  for (let k = 0; k < n; k++) {
    const nowMs = startMs + k * tickMs;
    while (completedSteps < history.length && startMs + (completedSteps + 1) * stepMs <= nowMs) {
      history[completedSteps] = trace.series.values[completedSteps]!;
      completedSteps++;
    }
    if (nowMs >= nextDecisionMs) {
      nextDecisionMs += policy.periodSeconds * 1000;
      const window = Math.min(k, rateTicks);
      let arrived = 0;
      let served = 0;
      for (let i = 0; i < window; i++) {
        arrived += recentArrivals[(k - 1 - i) % rateTicks]!;
        served += recentServed[(k - 1 - i) % rateTicks]!;
      }
      const ready = countReady(readyAt, nowMs);
      const observation: Observation = {
        nowMs,
        queueDepth: queue.depth,
        arrivalRatePerSecond: window > 0 ? arrived / (window * tickSeconds) : 0,
        serviceRatePerSecond: window > 0 ? served / (window * tickSeconds) : 0,
        oldestWaitSeconds: queue.oldestWaitSeconds(nowMs),
        averageWaitSeconds: queue.averageWaitSeconds(nowMs),
        readyReplicas: ready,
        provisionedReplicas: readyAt.length,
        history: historySeries,
        completedSteps,
      };
      const wanted = policy.decide(observation);
      const desired = clamp(Number.isFinite(wanted) ? wanted : readyAt.length);
      if (desired > readyAt.length) {
        if (k >= firstScored) up++;
        while (readyAt.length < desired) readyAt.push(nowMs + startupDelaySeconds * 1000);
      } else if (desired < readyAt.length) {
        if (k >= firstScored) down++;
        // Starting replicas go first: they serve nothing yet.
        readyAt.length = desired;
      }
    }
    const ready = countReady(readyAt, nowMs);
    const arrivals = arrivalsBetween(trace, nowMs, nowMs + tickMs);
    queue.push(nowMs, arrivals);
    const served = queue.serve(ready * capacity * tickSeconds);
    const endMs = nowMs + tickMs;
    const wait = queue.oldestWaitSeconds(endMs);
    const d = demandReplicas(arrivals / tickSeconds, capacity);
    demand[k] = d;
    supply[k] = ready;
    recentArrivals[k % rateTicks] = arrivals;
    recentServed[k % rateTicks] = served;
    if (keep) {
      load![k] = arrivals / tickSeconds / capacity;
      provisionedSeries![k] = readyAt.length;
      depthSeries![k] = queue.depth;
      waitSeries![k] = wait;
    }
    if (k < firstScored) continue;
    if (wait > sloWaitSeconds) sloTicks++;
    provisionedSum += readyAt.length;
    readySum += ready;
    demandSum += d;
    maxDepth = Math.max(maxDepth, queue.depth);
    maxWait = Math.max(maxWait, wait);
    arrivalsTotal += arrivals;
    servedTotal += served;
  }
  const minutesPerTick = tickSeconds / 60;
  const hours = (scored * tickSeconds) / 3600;
  return {
    policy: policy.name,
    ticks: scored,
    tickSeconds,
    durationSeconds: scored * tickSeconds,
    elasticity: elasticityMetrics(demand.subarray(firstScored), supply.subarray(firstScored), tickSeconds),
    sloViolationPercent: (100 * sloTicks) / scored,
    sloViolationMinutes: sloTicks * minutesPerTick,
    replicaMinutes: provisionedSum * minutesPerTick,
    readyReplicaMinutes: readySum * minutesPerTick,
    demandReplicaMinutes: demandSum * minutesPerTick,
    scalingActions: { up, down, total: up + down, perHour: (up + down) / hours },
    maxQueueDepth: maxDepth,
    maxWaitSeconds: maxWait,
    arrivals: arrivalsTotal,
    served: servedTotal,
    finalQueueDepth: queue.depth,
    ...(keep
      ? {
          series: {
            startMs,
            tickSeconds,
            load: load!,
            demand,
            supply,
            provisioned: provisionedSeries!,
            queueDepth: depthSeries!,
            oldestWaitSeconds: waitSeries!,
          },
        }
      : {}),
  };
}

/** Replicas ready at `nowMs` (the array is sorted ascending, so a binary search would do; n is small). */
function countReady(readyAt: readonly number[], nowMs: number): number {
  let count = 0;
  for (const at of readyAt) if (at <= nowMs) count++;
  return count;
}
