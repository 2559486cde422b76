import { inputKey } from '../core/index.js';
import type { InputRef, RegularSeries } from '../core/index.js';
import type { Config } from '../config/index.js';
import type { CovariateName, FeatureInputs } from '../forecast/index.js';

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
  const queue = input.queue;
  return {
    ...system,
    enqueue_rate_per_second: { kind: 'queue', queue, metric: 'enqueue_rate_per_second' },
    dequeue_rate_per_second: { kind: 'queue', queue, metric: 'dequeue_rate_per_second' },
    wait_avg_seconds: { kind: 'queue', queue, metric: 'wait_avg_seconds' },
    failed_messages: { kind: 'queue', queue, metric: 'failed_messages' },
  };
}

/** The inputs whose history the LSTM needs besides the forecast series (each queue's service rate, wait and failures). */
export function covariateInputs(config: Config): InputRef[] {
  return config.queues.flatMap((q) => (['dequeue_rate_per_second', 'wait_avg_seconds', 'failed_messages'] as const).map((metric): InputRef => ({ kind: 'queue', queue: q.name, metric })));
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
