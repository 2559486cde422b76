import { type Recommendation, stabilizedReplicas } from '../decide/index.js';

/** One HPA scaling policy (autoscaling/v2 HPAScalingPolicy). */
export interface HpaScalingPolicy {
  readonly type: 'Pods' | 'Percent';
  readonly value: number;
  readonly periodSeconds: number;
}

/** autoscaling/v2 HPAScalingRules. */
export interface HpaScalingRules {
  readonly stabilizationWindowSeconds: number;
  readonly selectPolicy: 'Max' | 'Min' | 'Disabled';
  readonly policies: readonly HpaScalingPolicy[];
}

/** autoscaling/v2 HorizontalPodAutoscalerBehavior. */
export interface HpaBehavior {
  readonly scaleUp: HpaScalingRules;
  readonly scaleDown: HpaScalingRules;
}

/**
 * The defaults (pkg/apis/autoscaling/v2/defaults.go; scale-down window from the controller's
 * --horizontal-pod-autoscaler-downscale-stabilization, 5m): up without a window, by the larger of
 * 4 pods or 100 % per 15 s; down after a 300 s window, by up to 100 % per 15 s.
 */
export const defaultHpaBehavior: HpaBehavior = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  },
  scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
};

/** The controller's --horizontal-pod-autoscaler-tolerance default. */
export const defaultHpaTolerance = 0.1;

/** The controller's --horizontal-pod-autoscaler-sync-period default, seconds. */
export const hpaSyncPeriodSeconds = 15;

/**
 * The replica calculator for an External metric with an AverageValue target
 * (replica_calculator.go, GetExternalPerPodMetricReplicas): the metric is read in milli-units
 * rounded up (Quantity.MilliValue), ratio = usage / (target × statusReplicas); inside the
 * tolerance the replicas stay, outside they become ceil(usage / target).
 */
export function externalAverageValueReplicas(usage: number, targetAverageValue: number, statusReplicas: number, tolerance: number): number {
  const usageMilli = Math.max(0, Math.ceil(usage * 1000 - 1e-9));
  const targetMilli = Math.ceil(targetAverageValue * 1000 - 1e-9);
  const ratio = usageMilli / (targetMilli * statusReplicas);
  if (Math.abs(1 - ratio) <= tolerance) return statusReplicas;
  return Math.ceil(usageMilli / targetMilli);
}

interface ScaleEvent {
  readonly atMs: number;
  readonly change: number;
}

function changeInPeriod(events: readonly ScaleEvent[], periodSeconds: number, nowMs: number): number {
  let sum = 0;
  for (const e of events) if (e.atMs > nowMs - periodSeconds * 1000) sum += e.change;
  return sum;
}

/** calculateScaleUpLimitWithScalingRules of the controller. */
export function scaleUpLimit(current: number, ups: readonly ScaleEvent[], downs: readonly ScaleEvent[], rules: HpaScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  let result = rules.selectPolicy === 'Min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  for (const policy of rules.policies) {
    const periodStart = current - changeInPeriod(ups, policy.periodSeconds, nowMs) + changeInPeriod(downs, policy.periodSeconds, nowMs);
    const proposed = policy.type === 'Pods' ? periodStart + policy.value : Math.ceil(periodStart * (1 + policy.value / 100));
    result = rules.selectPolicy === 'Min' ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors of the controller. */
export function scaleDownLimit(current: number, ups: readonly ScaleEvent[], downs: readonly ScaleEvent[], rules: HpaScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  let result = rules.selectPolicy === 'Min' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  for (const policy of rules.policies) {
    const periodStart = current - changeInPeriod(ups, policy.periodSeconds, nowMs) + changeInPeriod(downs, policy.periodSeconds, nowMs);
    // int32(float64(...)) in Go truncates toward zero.
    const proposed = policy.type === 'Pods' ? periodStart - policy.value : Math.trunc(periodStart * (1 - policy.value / 100));
    result = rules.selectPolicy === 'Min' ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** What an HPA is configured with. */
export interface HpaSettings {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly tolerance?: number;
  readonly behavior?: HpaBehavior;
}

/**
 * One HorizontalPodAutoscaler with one External AverageValue metric, reconciled like the
 * controller does every sync period (reconcileAutoscaler → computeReplicasForMetrics →
 * normalizeDesiredReplicasWithBehaviors: stabilization, then the rate limits of the policies,
 * then min/max). Keeps the controller's in-memory recommendations and scale events.
 */
export class HpaController {
  readonly #settings: Required<HpaSettings>;
  #recommendations: Recommendation[] = [];
  #ups: ScaleEvent[] = [];
  #downs: ScaleEvent[] = [];

  constructor(settings: HpaSettings) {
    this.#settings = { tolerance: defaultHpaTolerance, behavior: defaultHpaBehavior, ...settings };
  }

  /** One sync: the replicas the HPA sets, from the current (spec) replicas and the metric's value. */
  reconcile(currentReplicas: number, usage: number, targetAverageValue: number, nowMs: number): number {
    const { minReplicas, maxReplicas, tolerance, behavior } = this.#settings;
    let desired: number;
    if (currentReplicas > maxReplicas) desired = maxReplicas;
    else if (currentReplicas < minReplicas) desired = minReplicas;
    else {
      const proposal = Number.isFinite(usage) ? externalAverageValueReplicas(usage, targetAverageValue, currentReplicas, tolerance) : currentReplicas;
      desired = this.#normalize(currentReplicas, proposal, nowMs);
    }
    if (desired !== currentReplicas) {
      const event = { atMs: nowMs, change: Math.abs(desired - currentReplicas) };
      if (desired > currentReplicas) this.#ups.push(event);
      else this.#downs.push(event);
      const longest = Math.max(...[...behavior.scaleUp.policies, ...behavior.scaleDown.policies].map((p) => p.periodSeconds), 0) * 1000;
      this.#ups = this.#ups.filter((e) => nowMs - e.atMs <= longest);
      this.#downs = this.#downs.filter((e) => nowMs - e.atMs <= longest);
    }
    return desired;
  }

  #normalize(current: number, proposal: number, nowMs: number): number {
    const { minReplicas, maxReplicas, behavior } = this.#settings;
    const windows = { scaleUpSeconds: behavior.scaleUp.stabilizationWindowSeconds, scaleDownSeconds: behavior.scaleDown.stabilizationWindowSeconds };
    const stabilized = stabilizedReplicas(current, proposal, this.#recommendations, nowMs, windows);
    // Record the unstabilized recommendation, forgetting those older than both windows.
    const keepMs = Math.max(windows.scaleUpSeconds, windows.scaleDownSeconds) * 1000;
    this.#recommendations = [...this.#recommendations.filter((r) => nowMs - r.atMs < keepMs), { atMs: nowMs, replicas: proposal }];
    if (stabilized > current) {
      const limit = Math.max(current, scaleUpLimit(current, this.#ups, this.#downs, behavior.scaleUp, nowMs));
      return Math.min(stabilized, maxReplicas, limit);
    }
    if (stabilized < current) {
      const limit = Math.min(current, scaleDownLimit(current, this.#ups, this.#downs, behavior.scaleDown, nowMs));
      return Math.max(stabilized, minReplicas, limit);
    }
    return stabilized;
  }
}
