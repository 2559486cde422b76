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
export interface KedaPolicyOptions {
  /** The ScaledObject's minReplicaCount (0 allows scaling to zero) and maxReplicaCount. */
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Messages waiting per replica: the trigger's threshold (RabbitMQ `QueueLength` mode). */
  readonly queueLengthPerReplica: number;
  /** The trigger's activation threshold: the scaler is active while the depth is above it (default 0). */
  readonly activationQueueLength?: number;
  /** KEDA's pollingInterval, seconds (default 30). */
  readonly pollingIntervalSeconds?: number;
  /** KEDA's cooldownPeriod, seconds (default 300): how long after the last active poll it scales to zero. */
  readonly cooldownPeriodSeconds?: number;
  /** The HPA KEDA creates: tolerance and behavior (`advanced.horizontalPodAutoscalerConfig`). */
  readonly tolerance?: number;
  readonly behavior?: HpaSettings['behavior'];
  /** Name in reports (default "keda"). */
  readonly name?: string;
}

/**
 * KEDA with a queue-length threshold (pkg/scaling/executor/scale_scaledobjects.go and the HPA it
 * creates). Two loops act on the Deployment:
 *
 * - **KEDA's own**, every pollingInterval (30 s): it reads the depth, which the HPA is then served
 *   from cache (`useCachedMetrics`) until the next poll. The trigger is active while the depth is
 *   above `activationQueueLength`. At zero replicas an active trigger scales to
 *   max(minReplicaCount, 1). With minReplicaCount 0, an inactive trigger scales to zero once
 *   `cooldownPeriod` has passed since the last active poll (at once if it was never active).
 *   Activation and cooldown govern only 0 ↔ 1: between 1 and N the HPA decides.
 * - **The HPA** KEDA creates, every 15 s: an External AverageValue metric with the threshold as
 *   target, minReplicas max(minReplicaCount, 1), and the HPA's arithmetic and default behavior. At
 *   zero replicas the HPA does nothing (its ScalingDisabled condition).
 */
export function kedaPolicy(options: KedaPolicyOptions): AutoscalingPolicy {
  const { minReplicas: minReplicaCount, maxReplicas } = options;
  const controller = new HpaController({
    minReplicas: Math.max(1, minReplicaCount),
    maxReplicas,
    ...(options.tolerance === undefined ? {} : { tolerance: options.tolerance }),
    ...(options.behavior === undefined ? {} : { behavior: options.behavior }),
  });
  const pollingMs = (options.pollingIntervalSeconds ?? 30) * 1000;
  const cooldownMs = (options.cooldownPeriodSeconds ?? 300) * 1000;
  const activation = options.activationQueueLength ?? 0;
  let polledAtMs = Number.NEGATIVE_INFINITY;
  let lastActiveMs: number | undefined;
  let cachedDepth = 0;
  return {
    name: options.name ?? 'keda',
    periodSeconds: hpaSyncPeriodSeconds,
    decide: (o: Observation) => {
      const current = o.provisionedReplicas;
      if (o.nowMs - polledAtMs >= pollingMs) {
        polledAtMs = o.nowMs;
        cachedDepth = o.queueDepth;
        const active = cachedDepth > activation;
        if (active) lastActiveMs = o.nowMs;
        if (current === 0 && active) return Math.max(1, minReplicaCount);
        if (!active && current > 0 && minReplicaCount === 0 && (lastActiveMs === undefined || o.nowMs - lastActiveMs > cooldownMs)) return 0;
        if (!active && current < minReplicaCount) return minReplicaCount;
      }
      if (current === 0) return 0;
      return controller.reconcile(current, cachedDepth, options.queueLengthPerReplica, o.nowMs);
    },
  };
}
