import { defaultHpaTolerance, hpaSyncPeriodSeconds } from './hpa.js';
import { hpaPolicy, kedaPolicy } from './hpa-policy.js';
import type { AutoscalingPolicy } from './policy.js';

/** The reactive autoscalers users run, as swept into a cost/quality frontier. */
export type ReactiveFamily = 'hpa-rate' | 'hpa-queue' | 'keda-queue';

/** One configuration of the sweep: a tested emulation and the parameters it was built with. */
export interface SweptPolicy {
  readonly family: ReactiveFamily;
  /** A short label for tables and plots ("hpa-rate 70 %", "keda 30 s"). */
  readonly label: string;
  /** Every parameter the emulation was given, for the report. */
  readonly parameters: Readonly<Record<string, number | string>>;
  /** A fresh policy (policies keep state, so one per run). */
  make(): AutoscalingPolicy;
}

/** The grid swept; the defaults are the ranges. */
export interface ReactiveGrid {
  /** HPA on the arrival rate: target utilisations (AverageValue = utilisation × capacity). */
  readonly rateUtilisations: readonly number[];
  /** HPA and KEDA on the queue depth: seconds of one replica's work per replica (AverageValue / threshold). */
  readonly queueSeconds: readonly number[];
}

/** HPA on the arrival rate at 50–90 % utilisation; HPA and KEDA on the queue at 5–120 s of work. */
export const defaultReactiveGrid: ReactiveGrid = {
  rateUtilisations: [0.5, 0.6, 0.7, 0.8, 0.9],
  queueSeconds: [5, 10, 20, 30, 60, 120],
};

/** KEDA's ScaledObject defaults the sweep keeps. */
const kedaDefaults = { pollingIntervalSeconds: 30, cooldownPeriodSeconds: 300, activationQueueLength: 0 } as const;

/**
 * The reactive sweep for a system whose replicas serve `capacityPerReplicaPerSecond` messages per
 * second each: the HPA on the arrival rate (`rate(...[1m])`, AverageValue target), the HPA on the
 * queue depth (AverageValue target) and KEDA's queue-length trigger, each built by the emulation
 * `foresight simulate --policy hpa|keda` runs (hpaPolicy, kedaPolicy), with default behavior.
 */
export function reactiveSweep(capacityPerReplicaPerSecond: number, range: { readonly minReplicas: number; readonly maxReplicas: number }, grid: ReactiveGrid = defaultReactiveGrid): SweptPolicy[] {
  const hpaCommon = { ...range, tolerance: defaultHpaTolerance, behavior: 'autoscaling/v2 defaults', syncPeriodSeconds: hpaSyncPeriodSeconds } as const;
  const sweep: SweptPolicy[] = [];
  for (const utilisation of grid.rateUtilisations) {
    const target = utilisation * capacityPerReplicaPerSecond;
    const label = `hpa-rate ${Math.round(utilisation * 100)} %`;
    sweep.push({
      family: 'hpa-rate',
      label,
      parameters: { ...hpaCommon, metric: 'arrival_rate', targetUtilisation: utilisation, targetAverageValue: target },
      make: () => hpaPolicy({ ...range, metric: 'arrival_rate', targetPerReplica: target, name: label }),
    });
  }
  for (const seconds of grid.queueSeconds) {
    const target = seconds * capacityPerReplicaPerSecond;
    const label = `hpa-queue ${seconds} s`;
    sweep.push({
      family: 'hpa-queue',
      label,
      parameters: { ...hpaCommon, metric: 'queue_depth', secondsOfWork: seconds, targetAverageValue: target },
      make: () => hpaPolicy({ ...range, metric: 'queue_depth', targetPerReplica: target, name: label }),
    });
  }
  for (const seconds of grid.queueSeconds) {
    const threshold = seconds * capacityPerReplicaPerSecond;
    const label = `keda-queue ${seconds} s`;
    sweep.push({
      family: 'keda-queue',
      label,
      parameters: { ...hpaCommon, ...kedaDefaults, metric: 'queue_depth', secondsOfWork: seconds, queueLength: threshold },
      make: () => kedaPolicy({ ...range, ...kedaDefaults, queueLengthPerReplica: threshold, name: label }),
    });
  }
  return sweep;
}
