import type { RuleEvaluation } from './evaluate-rules.js';
import { type Draft, moved } from './draft.js';

/**
 * Whether the resource's forecast demand can be used this cycle: `usable`; `unavailable` (the
 * forecasts it reads are missing or below the confidence threshold); `disabled` (forecasts are
 * switched off); `none` (the resource has no forecast demand expression).
 */
export type ForecastDemandState = 'usable' | 'unavailable' | 'disabled' | 'none';

/** What the optimise stage needs besides the draft. */
export interface OptimiseContext {
  readonly evaluation: RuleEvaluation;
  /** True when the resource has at least one scaling rule. */
  readonly hasRules: boolean;
  readonly forecastDemand: ForecastDemandState;
  /** Confidence of the forecasts the resource reads (NaN: none). */
  readonly forecastConfidence: number;
  /** True when the named rule reads a forecast variable. */
  readonly ruleReadsForecast: (ruleName: string) => boolean;
}

const finiteOr = (value: number, fallback: number): number => (Number.isFinite(value) ? value : fallback);

/**
 * Stage 4, optimise and prioritise: one action per resource.
 *
 * - A scale-up rule beats a scale-down rule (capacity first); among rules of one direction the
 *   highest priority wins. Its factor is applied to the current replicas: up to
 *   max(current + 1, ceil(current × factor)), down to min(current − 1, floor(current × factor)),
 *   and never against its direction relative to the previous recommendation.
 * - What the forecast load needs (at the configured quantile) raises the proposal when it is higher.
 * - A scale-down stops where the observed load, or the forecast's 90th percentile when the
 *   forecast can be read, still needs replicas. With no rule firing, the resource scales down to
 *   what both need when both say it is fewer. A forecast alone never takes replicas away: the
 *   observed need must agree. Without a usable forecast, the observed need decides alone, as the
 *   HPA would (the reasons say the forecast was missing).
 */
export function optimise(draft: Draft, context: OptimiseContext): Draft {
  const { evaluation } = context;
  const { current, baseline } = draft;
  const forecastConfidence = Number.isFinite(context.forecastConfidence) ? context.forecastConfidence : draft.confidence;
  let next = draft;
  const winner = evaluation.up[0] ?? evaluation.down[0];
  if (winner !== undefined) {
    // A rule only ever moves the recommendation its own way: an up rule applied to replicas that
    // lag behind a higher recommendation leaves that recommendation alone.
    const replicas =
      winner.direction === 'up'
        ? Math.max(baseline, current + 1, Math.ceil(current * winner.scalingFactor - 1e-9))
        : Math.min(baseline, Math.max(0, Math.min(current - 1, Math.floor(current * winner.scalingFactor + 1e-9))));
    next = moved(draft, replicas, winner.direction === 'down' ? 'scale_down_rule' : winner.emergency ? 'emergency_rule' : 'scale_up_rule', {
      rule: winner,
      emergency: winner.emergency,
      confidence: context.ruleReadsForecast(winner.name) ? forecastConfidence : draft.confidence,
    });
  } else if (context.hasRules) {
    next = { ...draft, reasons: [...draft.reasons, 'no_rule_fired'] };
  }

  const usable = context.forecastDemand === 'usable';
  const { observed, forecast, forecastUpper } = draft.demand;
  if (usable && Number.isFinite(forecast) && forecast > next.replicas) {
    next = moved(next, forecast, 'forecast_scale_up', { confidence: forecastConfidence });
  }

  const observedNeed = finiteOr(observed, 0);
  const forecastNeed = usable ? finiteOr(forecastUpper, 0) : 0;
  const limit = Math.max(observedNeed, forecastNeed);
  if (next.replicas < baseline && limit > next.replicas) {
    next = moved(next, Math.min(baseline, limit), forecastNeed >= observedNeed && usable ? 'scale_down_limited_by_forecast' : 'scale_down_limited_by_load');
  } else if (winner === undefined && next.replicas === baseline && Number.isFinite(observed) && limit < baseline) {
    next = moved(next, limit, 'demand_scale_down', { confidence: usable ? forecastConfidence : next.confidence });
  }
  return next;
}
