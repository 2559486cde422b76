import type { Config } from '../config/index.js';
import type { Resource } from '../core/index.js';
import type { ResourceObservation } from '../forecast/index.js';
import type { HostOptimizeRequest, ModelHostPort } from './model-host.js';
import type { ObservationStore } from './observation-store.js';
import type { InputValue, OptimizerState, SeriesForecast } from './snapshot.js';

/** Most resource-optimizer observations kept per resource: one per cycle, a day of 30 s cycles. */
const maxOptimizerObservations = 2880;

/** The decision-input reading a trusted optimizer recommendation is passed as (decide's `learned_replicas`). */
export function optimizerReadingKey(resource: Resource): string {
  return `optimizer/${resource}`;
}

/**
 * The resource optimizer's part of a cycle: what it learns from (one observation per cycle per
 * queue-consuming resource, kept across restarts by the observation store) and what it recommends.
 */
export class OptimizerCycle {
  readonly #models: ModelHostPort;
  readonly #store: ObservationStore | undefined;
  /** One observation per cycle per queue-consuming resource: what the resource optimizer learns from. */
  readonly #observations = new Map<Resource, ResourceObservation[]>();

  constructor(models: ModelHostPort, store: ObservationStore | undefined) {
    this.#models = models;
    this.#store = store;
  }

  /**
   * Records one observation per queue-consuming resource from this cycle's readings; the model host
   * (re)trains its Random Forest once per refit-interval bucket (every cycle until a first model
   * could be learned) and recommends replicas for the predicted load: the sum of the queues'
   * arrival-rate forecasts at the first horizon (their p90 when decisions scale on the upper
   * quantile), or the load arriving now when a queue has no such forecast.
   */
  async run(config: Config, generation: number, inputs: readonly InputValue[], forecasts: readonly SeriesForecast[], nowMs: number): Promise<OptimizerState[]> {
    const values = new Map(inputs.map((i) => [i.key, i.value]));
    const read = (key: string): number | undefined => {
      const value = values.get(key);
      return value !== undefined && Number.isFinite(value) ? value : undefined;
    };
    const cpuPercent = read('system/cpu_percent');
    const horizonSeconds = config.forecast.horizons[0]!;
    const requests: HostOptimizeRequest['resources'][number][] = [];
    for (const resource of [...new Set(config.queues.map((q) => q.resource))]) {
      const queues = config.queues.filter((q) => q.resource === resource);
      // A sum over the resource's queues; undefined when any queue lacks the value (a partial sum understates).
      const sum = (metric: string): number | undefined => {
        let total = 0;
        for (const q of queues) {
          const value = read(`queue/${q.name}/${metric}`);
          if (value === undefined) return undefined;
          total += value;
        }
        return total;
      };
      // The worst queue's wait; unknown when any queue's is.
      const waits = queues.map((q) => read(`queue/${q.name}/wait_avg_seconds`)).filter((w): w is number => w !== undefined);
      const latencySeconds = waits.length === queues.length ? Math.max(...waits) : undefined;
      const replicas = read(`replicas/${resource}`);
      const load = sum('enqueue_rate_per_second');
      const throughput = sum('dequeue_rate_per_second');
      const history = await this.#observationsOf(resource);
      if (replicas !== undefined && load !== undefined && throughput !== undefined && (history.at(-1)?.timestampMs ?? Number.NEGATIVE_INFINITY) < nowMs) {
        const observation: ResourceObservation = {
          timestampMs: nowMs,
          replicas,
          load,
          throughput,
          // Unknown depth: NaN, which the trainer skips rather than reading as "nothing waiting".
          backlog: sum('depth') ?? Number.NaN,
          ...(latencySeconds === undefined ? {} : { latencySeconds }),
          ...(cpuPercent === undefined ? {} : { cpuPercent }),
        };
        history.push(observation);
        if (history.length > maxOptimizerObservations) history.splice(0, history.length - maxOptimizerObservations);
        await this.#store?.append(resource, [observation], maxOptimizerObservations);
      }
      let predictedLoad: number | undefined = 0;
      for (const q of queues) {
        const f = forecasts.find((x) => x.seriesKey === `queue/${q.name}/enqueue_rate_per_second` && x.horizonSeconds === horizonSeconds);
        if (f === undefined) {
          predictedLoad = undefined;
          break;
        }
        predictedLoad += config.decisions.useUpperQuantile ? f.p90 : f.value;
      }
      requests.push({
        resource,
        observations: history,
        maxBacklog: queues.reduce((total, q) => total + q.threshold, 0),
        ...(load === undefined
          ? {}
          : {
              recommend: {
                predictedLoad: predictedLoad ?? load,
                range: config.scaling.resources[resource],
                confidenceThreshold: config.scaling.predictionConfidenceThreshold,
                ...(cpuPercent === undefined ? {} : { cpuPercent }),
              },
            }),
      });
    }
    const replies = await this.#models.optimize({ generation, nowMs, refitIntervalSeconds: config.forecast.refitInterval, forest: config.ml.randomForest, resources: requests });
    return replies.flatMap(({ resource, recommendation: r }) =>
      r === undefined
        ? []
        : [
            {
              resource,
              recommendedReplicas: r.recommendedReplicas,
              confidence: r.confidence,
              trusted: r.trusted,
              capacityPerReplica: r.capacityPerReplica,
              predictedLoad: r.predictedLoad,
              reasons: r.reasons,
            },
          ],
    );
  }

  /** A resource's observations: on first use, those stored by earlier runs (older than any of this run's). */
  async #observationsOf(resource: Resource): Promise<ResourceObservation[]> {
    let history = this.#observations.get(resource);
    if (history === undefined) {
      history = (await this.#store?.load(resource, maxOptimizerObservations)) ?? [];
      this.#observations.set(resource, history);
    }
    return history;
  }
}
