import { inputKey } from '../core/index.js';
import type { InputRef, RegularSeries } from '../core/index.js';
import type { CovariateName, FeatureInputs } from '../forecast/index.js';
import { type QueueSpec, queueInput } from './workload-queues.js';

/**
 * The covariates the LSTM reads besides a forecast series, and where they come from: every series
 * gets the node's CPU and memory; a queue's series also get that queue's arrival and service rates,
 * wait and failures. The engine keeps their history on the forecast grid (the queue inputs that are
 * not forecast themselves only while learned models are on).
 */
function covariateRefs(input: InputRef): Partial<Record<CovariateName, InputRef>> {
  const system: Partial<Record<CovariateName, InputRef>> = {
    cpu_percent: { kind: 'system', metric: 'cpu_percent' },
    memory_percent: { kind: 'system', metric: 'memory_percent' },
  };
  if (input.kind !== 'queue') return system;
  // The same queue as the target (a workload's queue keeps its namespace and workload).
  const of = (metric: 'enqueue_rate_per_second' | CovariateQueueMetric): InputRef => ({ ...input, metric });
  return {
    ...system,
    enqueue_rate_per_second: of('enqueue_rate_per_second'),
    dequeue_rate_per_second: of('dequeue_rate_per_second'),
    wait_avg_seconds: of('wait_avg_seconds'),
    failed_messages: of('failed_messages'),
  };
}

/** The queue metrics the LSTM reads that the engine does not forecast (the arrival rate is forecast). */
const covariateQueueMetrics = ['dequeue_rate_per_second', 'wait_avg_seconds', 'failed_messages'] as const;
type CovariateQueueMetric = (typeof covariateQueueMetrics)[number];

/**
 * The inputs whose history the LSTM needs besides the forecast series: each queue's service rate,
 * wait and failures (the system CPU and memory, and the arrival rates, are forecast themselves).
 */
export function covariateInputs(queues: readonly QueueSpec[]): InputRef[] {
  return queues.flatMap((q) => covariateQueueMetrics.map((metric) => queueInput(q, metric)));
}

/**
 * A forecast series with its covariates, all on the same grid (the engine's history buffers), for
 * the LSTM. A covariate without history is left out; the feature then reads as missing (the mean).
 */
export function featureInputsOf(input: InputRef, target: RegularSeries, historyOf: (key: string) => RegularSeries | undefined): FeatureInputs {
  const covariates: Partial<Record<CovariateName, RegularSeries>> = {};
  for (const [name, ref] of Object.entries(covariateRefs(input)) as [CovariateName, InputRef][]) {
    const series = historyOf(inputKey(ref));
    if (series !== undefined) covariates[name] = series;
  }
  return { target, covariates };
}
