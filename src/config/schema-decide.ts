import { z } from 'zod';
import { duration, range } from './schema-primitives.js';

// Sections of the decisions: scaling ranges and cooldowns, anomaly detection, and the rules and damping.

export const scalingSection = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Master switch for recommendations (SCALING_ENABLED).'),
    mlPredictionEnabled: z.boolean().default(true).describe('Use forecasts in decisions (SCALING_ML_PREDICTION_ENABLED).'),
    anomalyDetectionEnabled: z.boolean().default(true).describe('Score anomalies (SCALING_ANOMALY_DETECTION_ENABLED).'),
    monitoringInterval: duration.default(30).describe('Time between reconcile cycles (SCALING_MONITORING_INTERVAL_SECONDS).'),
    predictionConfidenceThreshold: z.number().min(0).max(1).default(0.7).describe('Forecasts with less confidence than this are not acted on (SCALING_PREDICTION_CONFIDENCE_THRESHOLD).'),
    modelPath: z.string().default('models').describe('Folder for trained models (SCALING_ML_MODEL_PATH).'),
    modelRetrainInterval: duration.default(24 * 3600).describe('How often learned models are retrained (SCALING_MODEL_RETRAIN_HOURS).'),
    resources: z
      .strictObject({
        worker_processes: range(2, 20, 'Replica range of the queue workers (SCALING_WORKER_MIN, SCALING_WORKER_MAX).'),
        api_instances: range(2, 10, 'Replica range of the API servers (SCALING_API_MIN, SCALING_API_MAX).'),
        batch_processors: range(1, 8, 'Replica range of the batch processors (SCALING_BATCH_MIN, SCALING_BATCH_MAX).'),
        ml_workers: range(1, 6, 'Replica range of the ML inference workers.'),
        db_connections: range(20, 200, 'Size range of the database connection pool.'),
      })
      .prefault({})
      .describe('The least and most replicas recommended for each resource (design ranges by default).'),
    cooldowns: z
      .strictObject({
        scaleUp: duration.default(180).describe('Least time between two scale-ups of a resource (SCALING_COOLDOWN_SCALE_UP_MINUTES).'),
        scaleDown: duration.default(600).describe('Least time after any scaling before a scale-down (SCALING_COOLDOWN_SCALE_DOWN_MINUTES).'),
        emergency: duration.default(60).describe('Least time between emergency scale-ups (SCALING_COOLDOWN_EMERGENCY_MINUTES).'),
      })
      .prefault({})
      .describe('Least times between scaling actions, which damp oscillation.'),
  })
  .prefault({})
  .describe('Scaling recommendations.');

export const anomalySection = z
  .strictObject({
    detector: z
      .enum(['zscore', 'mad', 'seasonal', 'adaptive'])
      .default('adaptive')
      .describe("Detector of every monitored metric: adaptive (the best on the NAB benchmark), or zscore (the design's), mad or seasonal (docs/anomaly-detection.md)."),
    thresholds: z
      .strictObject({
        cpu: z.number().positive().default(2.5).describe('CPU threshold, in standard deviations.'),
        memory: z.number().positive().default(2.0).describe('Memory threshold, in standard deviations.'),
        queue_depth: z.number().positive().default(3.0).describe('Queue depth threshold (every queue), in standard deviations.'),
        response_time: z.number().positive().default(2.5).describe('p95 response time threshold, in standard deviations.'),
        error_rate: z.number().positive().default(4.0).describe('Error rate threshold, in standard deviations.'),
      })
      .prefault({})
      .describe('Per-metric thresholds: how unusual a value must be to count (critical from 1.5 ×); the adaptive detector scales its minimum deviations by threshold / 2.5.'),
    baselineWindow: duration.default(86400).describe('Baseline window of the zscore and mad detectors (the design: 24h); no verdict before a series covers it.'),
  })
  .prefault({})
  .describe('Anomaly detection, when scaling.anomalyDetectionEnabled is on.');

export const decisionsSection = z
  .strictObject({
    rulesFile: z.string().default('policies/scaling.rules.yaml').describe('The scaling rules file (docs/scaling-decisions.md); its min/max can only narrow scaling.resources.'),
    tolerance: z.number().min(0).max(0.99).default(0.1).describe("Changes of at most this share of the replicas are not made (the HPA's tolerance)."),
    stabilization: z
      .strictObject({
        scaleUp: duration.optional().describe('Scale up no further than the lowest recommendation of this window (unset: no window, the HPA default).'),
        scaleDown: duration.default(300).describe('Scale down no further than the highest recommendation of this window (the HPA default).'),
      })
      .prefault({})
      .describe('HPA-style stabilization windows.'),
    oscillationWindow: duration.default(1800).describe('Four scaling events alternating within this window count as oscillation, and a further reversal is held.'),
    reactiveFloor: z.boolean().default(true).describe("Never recommend less than the observed load needs now (the rules file's demand.observed)."),
    useUpperQuantile: z.boolean().default(true).describe("Scale up on the forecast's 90th percentile rather than its median (scale-down always needs the 90th percentile to agree)."),
    forecastQuantile: z
      .union([z.number().min(0.5).max(0.995), z.literal('model')])
      .default(0.98)
      .describe(
        'The calibrated quantile of the forecast that decisions size for, the cost/quality knob: median + c · (p90 − p10), c the quantile of the series\' recent (actual − median) / (p90 − p10) at that horizon; higher costs more replicas and is under-provisioned less. 0.98 is the leave-one-trace-out choice of npm run bench:scaling (docs/scaling-benchmark.md). With a quantile, forecasts are not gated by scaling.predictionConfidenceThreshold (a poor forecast gets a wider reserve instead). "model": the model\'s own p90, gated.',
      ),
  })
  .prefault({})
  .describe('How scaling recommendations are decided (rules, damping, forecasts).');
