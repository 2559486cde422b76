import { HpaController, type HpaSettings, hpaSyncPeriodSeconds } from './hpa.js';
import type { AutoscalingPolicy, Observation } from './policy.js';

/** The observed queue metric an HPA or KEDA scales on. */
export type QueueMetric = 'queue_depth' | 'arrival_rate';

/** How the simulated HPA is set up. */
export interface HpaPolicyOptions extends HpaSettings {
  /**
   * `queue_depth`: messages waiting (Foresight's `queue_depth` external metric, a
   * kube-metrics-adapter or prometheus-adapter rule); `arrival_rate`: messages arriving per
   * second over the last minute (`rate(..._published_total[1m])`).
   */
  readonly metric: QueueMetric;
  /** The AverageValue target per replica, in the metric's unit (messages, or messages per second). */
  readonly targetPerReplica: number;
  /** Name in reports (default "hpa"). */
  readonly name?: string;
}

function metricValue(o: Observation, metric: QueueMetric): number {
  return metric === 'queue_depth' ? o.queueDepth : o.arrivalRatePerSecond;
}

/**
 * The Kubernetes HPA with default behavior on one External metric of the observed queue with an
 * AverageValue target, synced every 15 s (see {@link HpaController}).
 */
export function hpaPolicy(options: HpaPolicyOptions): AutoscalingPolicy {
  const controller = new HpaController(options);
  return {
    name: options.name ?? 'hpa',
    periodSeconds: hpaSyncPeriodSeconds,
    decide: (o: Observation) => controller.reconcile(o.provisionedReplicas, metricValue(o, options.metric), options.targetPerReplica, o.nowMs),
  };
}

/** How the simulated KEDA ScaledObject is set up. */
export interface KedaPolicyOptions extends HpaSettings {
  /** Messages waiting per replica: the trigger's threshold (RabbitMQ `QueueLength` mode). */
  readonly queueLengthPerReplica: number;
  /** KEDA's pollingInterval, seconds (default 30). */
  readonly pollingIntervalSeconds?: number;
}

/**
 * KEDA with a queue-length threshold: KEDA serves the observed queue depth to the HPA it creates,
 * as an External AverageValue metric with the threshold as target, so the arithmetic and the
 * default behavior are the HPA's, synced every 15 s. The depth is read from the queue at KEDA's
 * pollingInterval (30 s) and served from that cache in between (`useCachedMetrics`), which is the
 * one place its behavior differs from a plain HPA on the same metric.
 */
export function kedaPolicy(options: KedaPolicyOptions): AutoscalingPolicy {
  const controller = new HpaController(options);
  const pollingMs = (options.pollingIntervalSeconds ?? 30) * 1000;
  let polledAtMs = Number.NEGATIVE_INFINITY;
  let cachedDepth = 0;
  return {
    name: 'keda',
    periodSeconds: hpaSyncPeriodSeconds,
    decide: (o: Observation) => {
      if (o.nowMs - polledAtMs >= pollingMs) {
        polledAtMs = o.nowMs;
        cachedDepth = o.queueDepth;
      }
      return controller.reconcile(o.provisionedReplicas, cachedDepth, options.queueLengthPerReplica, o.nowMs);
    },
  };
}
