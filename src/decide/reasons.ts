/**
 * Why a decision came out as it did. A closed set: dashboards, alerts and /scaling/history match
 * on these strings, so a code never changes meaning; new situations get new codes.
 */
export const reasonCodes = [
  /** No input at all reached the resource this cycle (a Prometheus outage): hold. */
  'inputs_missing',
  /** The current replicas are not known: hold at the last recommendation. */
  'current_replicas_missing',
  /** The resource has neither rules nor demand expressions: hold. */
  'no_rules',
  /** A rule could not be decided because an input it reads is missing. */
  'rule_undetermined',
  /** A rule was skipped because it acted less than its cooldown_minutes ago. */
  'rule_cooldown',
  /** The winning rule was a scale-up rule. */
  'scale_up_rule',
  /** The winning rule was an emergency scale-up rule. */
  'emergency_rule',
  /** The winning rule was a scale-down rule. */
  'scale_down_rule',
  /** No rule fired. */
  'no_rule_fired',
  /** Forecasts are switched off (scaling.mlPredictionEnabled). */
  'forecasts_disabled',
  /** A forecast the rules read was not available. */
  'forecast_missing',
  /** A forecast was below the confidence threshold and was not acted on. */
  'forecast_low_confidence',
  /** What the forecast load needs raised the recommendation. */
  'forecast_scale_up',
  /** Observed load and, when forecasts are read, the forecast's 90th percentile both need fewer replicas: scaled down to that. */
  'demand_scale_down',
  /** A scale-down stopped where the forecast's upper quantile still needs replicas. */
  'scale_down_limited_by_forecast',
  /** A scale-down stopped where the observed load still needs replicas. */
  'scale_down_limited_by_load',
  /** A scale-up was held: the resource scaled up less than the scale-up cooldown ago. */
  'cooldown_scale_up',
  /** A scale-down was held: the resource scaled less than the scale-down cooldown ago. */
  'cooldown_scale_down',
  /** An emergency scale-up was held: the last emergency was less than the emergency cooldown ago. */
  'cooldown_emergency',
  /** An emergency scale-up went ahead inside the normal scale-up cooldown. */
  'emergency_bypassed_cooldown',
  /** The change was within the tolerance of the current replicas: hold. */
  'within_tolerance',
  /** A scale-down was limited to the highest recommendation of the scale-down stabilization window. */
  'stabilized_scale_down',
  /** A scale-up was limited to the lowest recommendation of the scale-up stabilization window. */
  'stabilized_scale_up',
  /** The recent scaling events alternate; a further reversal was held. */
  'oscillation_damped',
  /** A critical anomaly is active; scale-down was held. */
  'anomaly_hold',
  /** Raised to what the observed load needs now. */
  'reactive_floor',
  /** Raised to the resource's minimum. */
  'clamped_to_min',
  /** Lowered to the resource's maximum. */
  'clamped_to_max',
  /** Nothing to change. */
  'steady',
] as const;

/** One of {@link reasonCodes}. */
export type ReasonCode = (typeof reasonCodes)[number];
