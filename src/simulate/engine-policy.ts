import { err, ok, type Result } from '../core/index.js';
import {
  buildDecisionPolicy,
  type DecisionPolicy,
  type DecisionState,
  decide,
  type ForecastInput,
  formatRulesIssue,
  initialDecisionState,
  type PolicySettings,
  parseScalingRules,
} from '../decide/index.js';
import type { BandCalibration } from './band-calibration.js';
import type { ForecastFeed } from './forecast-feed.js';
import type { AutoscalingPolicy, Observation } from './policy.js';
import { defaultForecastQuantile, predictiveForecasts } from './predictive-policy.js';
import type { LoadTrace } from './trace.js';

/**
 * The rules the simulated service runs with: one queue drained by `worker_processes`. The load
 * needs (arrival rate + the backlog drained within the SLO) / capacity replicas now, and the
 * forecast arrival rate (its calibrated upper quantile, see {@link EnginePolicyOptions.forecastQuantile})
 * plus the backlog / capacity ahead; an SLO breach is an emergency. The constants are replaced by
 * the simulator's options.
 */
export const simulationRulesText = `# The rules of "foresight simulate --policy predictive" (replace with --rules F.yaml).
constants:
  capacity_per_replica: 1     # messages per second one replica serves: --capacity-per-replica
  slo_wait_seconds: 60        # --slo-wait
scaling_rules:
  worker_processes:
    scale_up:
      - name: slo_breach
        description: The oldest message has waited longer than the SLO.
        condition: "queue_wait_time_max_ms > slo_wait_seconds * 1000"
        scaling_factor: 1.5
        priority: 100
        emergency: true
    demand:
      observed: "(enqueue_rate_per_second + queue_depth / slo_wait_seconds) / capacity_per_replica"
      forecast: "(predicted_enqueue_rate_per_second + queue_depth / slo_wait_seconds) / capacity_per_replica"
`;

/** The simulated queue's name in the decision input. */
export const simulatedQueue = 'simulated';

/** How the engine policy is set up. */
export interface EnginePolicyOptions {
  readonly trace: LoadTrace;
  readonly capacityPerReplicaPerSecond: number;
  readonly startupDelaySeconds: number;
  readonly sloWaitSeconds: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** A registered model name or "auto" (default holt_winters; the service serves auto: docs/known-limits.md). */
  readonly model?: string;
  /** The rules (YAML text) and the file name for messages; default {@link simulationRulesText}. */
  readonly rulesText?: string;
  readonly rulesFile?: string;
  /**
   * Decision policy settings over the service's defaults (cooldowns, windows...). The default
   * here is the service's except `minForecastConfidence` 0, like the service's default
   * `decisions.forecastQuantile` path: the calibrated reserve widens by itself when forecasts are poor.
   */
  readonly settings?: PolicySettings;
  /** Seconds between decisions (the service's 30 s monitoring interval). */
  readonly periodSeconds?: number;
  /** Forecasts off: the same engine, reactive only (for ablations). */
  readonly forecasts?: boolean;
  /**
   * Forecasts made for the same trace and a horizon at least this run's (benchmarks reuse one
   * feed and calibration across runs); default: {@link predictiveForecasts} of `model`.
   */
  readonly shared?: { readonly feed: Pick<ForecastFeed, 'forecast' | 'accuracy' | 'models'>; readonly calibration: Pick<BandCalibration, 'multiplier'> };
  /**
   * The forecast's upper value the engine sees as its p90: median + c_h(q) · band, the calibrated
   * `q`-quantile of the recent errors (see {@link predictivePolicy}); `'model'` for the model's
   * own p90. Default {@link defaultForecastQuantile}, the service's `decisions.forecastQuantile`.
   */
  readonly forecastQuantile?: number | 'model';
}

/** The settings the simulation runs the decision engine with, over the service's defaults. */
export interface EnginePolicyDescription {
  readonly policy: DecisionPolicy;
  readonly horizonSteps: number;
  /** The calibrated quantile the forecast's upper value is read at, or 'model' for the model's p90. */
  readonly forecastQuantile: number | 'model';
  readonly models: readonly string[];
  /** How many decisions carried each reason code. */
  readonly reasonCounts: Readonly<Record<string, number>>;
  readonly decisions: number;
}

/**
 * Foresight's own engine: every period, the simulator's observations become a decision input
 * (queue depth, arrival and service rates, waits, replicas) plus the forecast of the arrival rate
 * over the steps the one-minute observed rate cannot show yet, up to the end of the look-ahead
 * (start-up delay + period): the largest median and calibrated upper quantile among them, with
 * 1 − WAPE of the recent 1-step forecasts as their confidence. decide() returns the recommendation
 * for `worker_processes`. The forecasts come from {@link predictiveForecasts}: causal, refitted
 * daily on the last seven days, calibrated on the last week of matured errors.
 */
export function enginePolicy(options: EnginePolicyOptions): Result<AutoscalingPolicy & { describe(): EnginePolicyDescription }, readonly string[]> {
  const file = options.rulesFile ?? 'simulation rules';
  const rules = parseScalingRules(options.rulesText ?? simulationRulesText, file, {
    constants: { capacity_per_replica: options.capacityPerReplicaPerSecond, slo_wait_seconds: options.sloWaitSeconds },
  });
  if (!rules.ok) return err(rules.error.map(formatRulesIssue));
  const periodSeconds = options.periodSeconds ?? 30;
  const stepSeconds = options.trace.series.stepSeconds;
  const lookaheadSeconds = options.startupDelaySeconds + periodSeconds;
  // From the last complete step: the current step, and every step until the look-ahead ends.
  const horizonSteps = Math.max(1, Math.ceil(lookaheadSeconds / stepSeconds) + 1);
  const built = buildDecisionPolicy(rules.value, {
    minForecastConfidence: 0,
    ...options.settings,
    useForecasts: options.forecasts ?? options.settings?.useForecasts ?? true,
    forecastHorizonSeconds: lookaheadSeconds,
    ranges: { worker_processes: { min: options.minReplicas, max: options.maxReplicas } },
  });
  if (!built.ok) return err(built.error);
  const policy = built.value;
  const { feed, calibration } = options.shared ?? predictiveForecasts(options.trace, { model: options.model ?? 'holt_winters', maxHorizonSteps: horizonSteps });
  const quantile = options.forecastQuantile ?? defaultForecastQuantile;
  let state: DecisionState = initialDecisionState;
  const reasonCounts: Record<string, number> = {};
  let decisions = 0;
  const stepMs = stepSeconds * 1000;
  const startMs = options.trace.series.startMs;
  const queues = [{ queue: simulatedQueue, resource: 'worker_processes' as const, threshold: options.capacityPerReplicaPerSecond * options.sloWaitSeconds }];
  const prefix = `queue/${simulatedQueue}`;
  const observedRateWindowMs = 60_000;
  return ok({
    name: 'predictive',
    periodSeconds,
    decide(o: Observation): number {
      const readings = new Map<string, number>([
        [`${prefix}/depth`, o.queueDepth],
        [`${prefix}/enqueue_rate_per_second`, o.arrivalRatePerSecond],
        [`${prefix}/dequeue_rate_per_second`, o.serviceRatePerSecond],
        [`${prefix}/wait_avg_seconds`, o.averageWaitSeconds],
        [`${prefix}/wait_max_seconds`, o.oldestWaitSeconds],
        ['replicas/worker_processes', o.provisionedReplicas],
      ]);
      const forecasts: ForecastInput[] = [];
      const origin = o.completedSteps - 1;
      if (policy.useForecasts && origin >= 0) {
        // Steps not yet seen by the one-minute observed rate, up to the end of the look-ahead: the
        // load the observations cannot show yet.
        const firstStep = Math.floor((o.nowMs - observedRateWindowMs - startMs) / stepMs) + 1;
        const lastStep = Math.floor((o.nowMs + lookaheadSeconds * 1000 - startMs) / stepMs);
        let value = Number.NaN;
        let p10 = Number.NaN;
        let p90 = Number.NaN;
        for (let h = Math.max(1, firstStep - origin); h <= Math.min(horizonSteps, lastStep - origin); h++) {
          const f = feed.forecast(origin, h);
          if (f === undefined) continue;
          const c = quantile === 'model' ? undefined : calibration.multiplier(origin, h, quantile);
          const upper = c === undefined ? f.p90 : f.value + c * (f.p90 - f.p10);
          value = Number.isNaN(value) ? f.value : Math.max(value, f.value);
          p10 = Number.isNaN(p10) ? f.p10 : Math.min(p10, f.p10);
          p90 = Number.isNaN(p90) ? upper : Math.max(p90, upper);
        }
        const accuracy = feed.accuracy(origin);
        if (Number.isFinite(value)) {
          forecasts.push({
            seriesKey: `${prefix}/enqueue_rate_per_second`,
            horizonSeconds: lookaheadSeconds,
            value: value / stepSeconds,
            p10: p10 / stepSeconds,
            p90: p90 / stepSeconds,
            ...(accuracy === undefined ? {} : { confidence: accuracy }),
          });
        }
      }
      const out = decide({ readings, forecasts, anomalies: [], queues }, state, policy, o.nowMs);
      state = out.nextState;
      const decision = out.decisions.find((d) => d.resource === 'worker_processes')!;
      decisions++;
      for (const reason of decision.reasons) reasonCounts[reason] = (reasonCounts[reason] ?? 0) + 1;
      return decision.recommendedReplicas;
    },
    describe: () => ({ policy, horizonSteps, forecastQuantile: quantile, models: [...new Set(feed.models)], reasonCounts: { ...reasonCounts }, decisions }),
  });
}
