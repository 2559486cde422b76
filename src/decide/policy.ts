import { err, ok, type Resource, resources, type Result } from '../core/index.js';
import type { RuleSet } from './rules.js';
import { trendWindowMeasurements } from './trend.js';

/** A replica (or pool size) range. */
export interface ReplicaRange {
  readonly min: number;
  readonly max: number;
}

/** Everything decide() needs besides its input and state. Built once per configuration. */
export interface DecisionPolicy {
  readonly rules: RuleSet;
  /** Effective ranges: the configured range narrowed by the rules file's. */
  readonly ranges: Readonly<Record<Resource, ReplicaRange>>;
  readonly cooldowns: {
    /** Least time between two scale-ups of a resource. */
    readonly scaleUpSeconds: number;
    /** Least time after any scaling before a scale-down. */
    readonly scaleDownSeconds: number;
    /** Least time between emergency scale-ups. */
    readonly emergencySeconds: number;
  };
  /** Changes of at most this share of the current replicas are not made (the HPA's 0.1). */
  readonly tolerance: number;
  /** HPA-style windows: scale-down to the highest, scale-up to the lowest recommendation inside them. */
  readonly stabilization: { readonly scaleUpSeconds: number; readonly scaleDownSeconds: number };
  /** The alternating-pattern check: this many events alternating within the window is oscillation. */
  readonly oscillation: { readonly windowSeconds: number; readonly alternatingEvents: number };
  /** Never recommend less than the observed load needs now. */
  readonly reactiveFloor: boolean;
  /** Use forecasts at all (scaling.mlPredictionEnabled). */
  readonly useForecasts: boolean;
  /** Scale up on the forecast's 90th percentile rather than its median. */
  readonly useUpperQuantile: boolean;
  /** The forecast horizon decisions read. */
  readonly forecastHorizonSeconds: number;
  /** Forecasts with less confidence are not acted on (scaling.predictionConfidenceThreshold). */
  readonly minForecastConfidence: number;
  /** Hold scale-downs while a critical anomaly is active. */
  readonly holdScaleDownOnCriticalAnomaly: boolean;
  /** Measurements the queue trend is fitted on. */
  readonly trendWindowMeasurements: number;
}

/** The settings a policy is built from; every one has a default (see {@link defaultPolicySettings}). */
export type PolicySettings = Partial<Omit<DecisionPolicy, 'rules' | 'ranges'>> & {
  /** Configured ranges (scaling.resources); resources not given use the design's ranges. */
  readonly ranges?: Partial<Readonly<Record<Resource, ReplicaRange>>>;
};

/** The design's ranges (DESIGN.md "Resources it scales"). */
export const designRanges: Readonly<Record<Resource, ReplicaRange>> = {
  worker_processes: { min: 2, max: 20 },
  api_instances: { min: 2, max: 10 },
  batch_processors: { min: 1, max: 8 },
  ml_workers: { min: 1, max: 6 },
  db_connections: { min: 20, max: 200 },
};

/**
 * Defaults: the service's configured cooldowns (3 min up, 10 min down, 1 min emergency), the
 * HPA's tolerance (0.1) and stabilization windows (0 s up, 300 s down), oscillation as 4
 * alternating events within 30 minutes, forecasts on at their 90th percentile, 15-minute horizon.
 */
export const defaultPolicySettings: Omit<DecisionPolicy, 'rules' | 'ranges'> = {
  cooldowns: { scaleUpSeconds: 180, scaleDownSeconds: 600, emergencySeconds: 60 },
  tolerance: 0.1,
  stabilization: { scaleUpSeconds: 0, scaleDownSeconds: 300 },
  oscillation: { windowSeconds: 1800, alternatingEvents: 4 },
  reactiveFloor: true,
  useForecasts: true,
  useUpperQuantile: true,
  forecastHorizonSeconds: 900,
  minForecastConfidence: 0.7,
  holdScaleDownOnCriticalAnomaly: true,
  trendWindowMeasurements,
};

/**
 * Builds the policy: the settings over the defaults, and each resource's range narrowed by the
 * rules file's `min`/`max` (the configuration is the outer bound; a rules file can only narrow
 * it). An empty intersection, or a setting out of its domain, is an error naming both sides.
 */
export function buildDecisionPolicy(rules: RuleSet, settings: PolicySettings = {}): Result<DecisionPolicy, readonly string[]> {
  const problems: string[] = [];
  const ranges = {} as Record<Resource, ReplicaRange>;
  for (const resource of resources) {
    const configured = settings.ranges?.[resource] ?? designRanges[resource];
    const fromRules = rules.resources.get(resource);
    const min = Math.max(configured.min, fromRules?.min ?? configured.min);
    const max = Math.min(configured.max, fromRules?.max ?? configured.max);
    if (min > max) {
      problems.push(`${resource}: the configured range ${configured.min}–${configured.max} and the range in ${rules.file} ` + `(${fromRules?.min ?? '-'}–${fromRules?.max ?? '-'}) do not overlap`);
    }
    ranges[resource] = { min, max };
  }
  const policy: DecisionPolicy = { ...defaultPolicySettings, ...settings, rules, ranges };
  const nonNegative = (value: number, what: string): void => {
    if (!(value >= 0) || !Number.isFinite(value)) problems.push(`${what} must be a number >= 0, got ${value}`);
  };
  nonNegative(policy.cooldowns.scaleUpSeconds, 'cooldowns.scaleUpSeconds');
  nonNegative(policy.cooldowns.scaleDownSeconds, 'cooldowns.scaleDownSeconds');
  nonNegative(policy.cooldowns.emergencySeconds, 'cooldowns.emergencySeconds');
  nonNegative(policy.stabilization.scaleUpSeconds, 'stabilization.scaleUpSeconds');
  nonNegative(policy.stabilization.scaleDownSeconds, 'stabilization.scaleDownSeconds');
  nonNegative(policy.oscillation.windowSeconds, 'oscillation.windowSeconds');
  if (!(policy.tolerance >= 0 && policy.tolerance < 1)) problems.push(`tolerance must be in [0, 1), got ${policy.tolerance}`);
  if (!(policy.minForecastConfidence >= 0 && policy.minForecastConfidence <= 1)) problems.push(`minForecastConfidence must be in [0, 1], got ${policy.minForecastConfidence}`);
  if (!(policy.forecastHorizonSeconds > 0)) problems.push(`forecastHorizonSeconds must be > 0, got ${policy.forecastHorizonSeconds}`);
  if (!Number.isInteger(policy.oscillation.alternatingEvents) || policy.oscillation.alternatingEvents < 2) {
    problems.push(`oscillation.alternatingEvents must be a whole number >= 2, got ${policy.oscillation.alternatingEvents}`);
  }
  if (!Number.isInteger(policy.trendWindowMeasurements) || policy.trendWindowMeasurements < 2) {
    problems.push(`trendWindowMeasurements must be a whole number >= 2, got ${policy.trendWindowMeasurements}`);
  }
  return problems.length > 0 ? err(problems) : ok(policy);
}
