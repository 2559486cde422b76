import { median } from 'simple-statistics';
import { RandomForestRegression } from 'ml-random-forest';
import { err, ok } from '../../core/index.js';
import type { Resource, Result } from '../../core/index.js';
import { calendarPosition, cyclic } from '../features/calendar.js';

/**
 * One moment in a resource's history: how many replicas it had, the work that arrived and the work
 * it did, and whether work was waiting. For a queue consumer (worker_processes, batch_processors,
 * ml_workers) load is the enqueue rate, throughput the dequeue rate and backlog the queue depth;
 * for api_instances, requests per second arriving and served, and backlog 0 with latency set.
 */
export interface ResourceObservation {
  readonly timestampMs: number;
  readonly replicas: number;
  /** Work arriving per second. */
  readonly load: number;
  /** Work done per second. */
  readonly throughput: number;
  /** Work waiting (queue depth); 0 when nothing waits. */
  readonly backlog: number;
  /** Queue wait or response time p95, in seconds, when known. */
  readonly latencySeconds?: number;
  /** Node CPU utilisation 0–100, when known (context: the same replica does less on a busy node). */
  readonly cpuPercent?: number;
}

/** The service level a resource must keep; used to report how often the observed replicas kept it. */
export interface ResourceTargets {
  /** Most work waiting that still counts as "kept up" (the queue threshold). */
  readonly maxBacklog: number;
  /** Longest acceptable wait or p95 latency, seconds (optional). */
  readonly maxLatencySeconds?: number;
}

/** Options of {@link trainResourceOptimizer}. */
export interface ResourceOptimizerOptions {
  /** Trees in the forest. Default 25. */
  readonly trees?: number;
  /** Seed of the forest's sampling. Default 1. */
  readonly seed?: number;
  /** Saturated observations needed before the model is trusted at all. Default 30. */
  readonly minSaturatedSamples?: number;
  /** Capacity to provision per unit of predicted load (1.2 = run replicas at most 83 % busy). Default 1.2. */
  readonly headroom?: number;
  /** Backlog above which the resource counts as saturated (every replica busy). Default 1. */
  readonly saturationBacklog?: number;
  /** Most training observations (the newest are kept). Default 600: ml-cart's split search is quadratic. */
  readonly maxSamples?: number;
}

/** A replica recommendation for one resource, shaped for the decision engine and `recommended_replicas{resource}`. */
export interface ResourceRecommendation {
  readonly resource: Resource;
  /** Smallest replica count in range whose predicted capacity covers load × headroom (max of range if none does). */
  readonly recommendedReplicas: number;
  /** 0–1: how much to believe it (data, agreement of the trees, extrapolation). */
  readonly confidence: number;
  /** True when confidence reaches the threshold the caller passed: only then should the decision engine act on it. */
  readonly trusted: boolean;
  /** Predicted work one replica does per second at the recommended count. */
  readonly capacityPerReplica: number;
  readonly predictedLoad: number;
  /** Reason codes: why the confidence is what it is. */
  readonly reasons: readonly ResourceRecommendationReason[];
}

/** Why a recommendation has the confidence it has. */
export type ResourceRecommendationReason = 'learned_capacity' | 'few_saturated_samples' | 'trees_disagree' | 'load_beyond_history' | 'replicas_beyond_history' | 'no_replica_meets_load';

/** What the optimizer learned about one resource. */
export interface ResourceModel {
  readonly resource: Resource;
  /** Observations used, and how many of them were saturated (the ones that teach capacity). */
  readonly samples: number;
  readonly saturatedSamples: number;
  /** Median observed throughput per replica over the saturated observations. */
  readonly medianCapacityPerReplica: number;
  /** Share of observations where the replicas kept the targets. */
  readonly targetsKeptShare: number;
  /** Recommends replicas in `range` for `predictedLoad` at time `atMs` (and node CPU, when known). */
  recommend(predictedLoad: number, atMs: number, range: { readonly min: number; readonly max: number }, confidenceThreshold: number, cpuPercent?: number): ResourceRecommendation;
}

/** Why no model could be learned. */
export interface ResourceOptimizerFailure {
  readonly reason: 'insufficient_data';
  readonly message: string;
}

/** The feature row of the capacity model: time of day and week, replica count, node CPU (−1 when unknown). */
function featureRow(atMs: number, replicas: number, cpuPercent: number | undefined): number[] {
  const position = calendarPosition(atMs);
  const [hourSin, hourCos] = cyclic(position.dayFraction);
  const [dowSin, dowCos] = cyclic(position.weekFraction);
  return [hourSin, hourCos, dowSin, dowCos, replicas, cpuPercent ?? -1];
}

/** The median, NaN for no values (simple-statistics throws). */
function medianOrNaN(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : median(values);
}

/**
 * Learns, from a resource's history, how much work one replica does, and recommends replicas for a
 * predicted load. The labels are honest: per-replica capacity is only observable while the
 * resource is saturated (work was waiting before and after, so every replica was busy and the
 * throughput was the capacity); at other times throughput only equals the arrivals and says
 * nothing about capacity, so those observations are not labels. A Random Forest
 * (`ml-random-forest`) learns capacity per replica from the time of day and week, the replica
 * count (contention: ten replicas may not do ten times the work) and node CPU. A recommendation is
 * the smallest replica count r with r × capacity(r) ≥ load × headroom.
 */
export function trainResourceOptimizer(
  resource: Resource,
  observations: readonly ResourceObservation[],
  targets: ResourceTargets,
  options: ResourceOptimizerOptions = {},
): Result<ResourceModel, ResourceOptimizerFailure> {
  const minSaturated = options.minSaturatedSamples ?? 30;
  const headroom = options.headroom ?? 1.2;
  const saturationBacklog = options.saturationBacklog ?? 1;
  const maxSamples = options.maxSamples ?? 600;
  const usable = observations
    .filter((o) => o.replicas >= 1 && Number.isFinite(o.throughput) && o.throughput >= 0 && Number.isFinite(o.backlog) && Number.isFinite(o.load))
    .sort((a, b) => a.timestampMs - b.timestampMs);
  const saturated: ResourceObservation[] = [];
  for (let i = 1; i < usable.length; i++) {
    const previous = usable[i - 1]!;
    const current = usable[i]!;
    // Waiting work on both sides of the interval: every replica had something to do throughout.
    if (previous.backlog >= saturationBacklog && current.backlog >= saturationBacklog && current.replicas === previous.replicas) saturated.push(current);
  }
  const kept = usable.filter((o) => o.backlog <= targets.maxBacklog && (targets.maxLatencySeconds === undefined || o.latencySeconds === undefined || o.latencySeconds <= targets.maxLatencySeconds));
  if (saturated.length < 10) {
    return err({
      reason: 'insufficient_data',
      message: `${resource}: ${saturated.length} saturated observations (work waiting before and after); at least 10 are needed to learn a capacity per replica`,
    });
  }
  const training = saturated.slice(-maxSamples);
  const rows = training.map((o) => featureRow(o.timestampMs, o.replicas, o.cpuPercent));
  const labels = training.map((o) => o.throughput / o.replicas);
  const forest = new RandomForestRegression({
    nEstimators: options.trees ?? 25,
    seed: options.seed ?? 1,
    // 0.8 of the 6 features per tree (ml-random-forest samples features per tree, not per split).
    maxFeatures: 0.8,
    replacement: false,
    useSampleBagging: true,
    noOOB: true,
    selectionMethod: 'median',
    treeOptions: { maxDepth: 6, minNumSamples: 5 },
  });
  forest.train(rows, labels);
  const replicasSeen = training.map((o) => o.replicas);
  const minReplicasSeen = Math.min(...replicasSeen);
  const maxReplicasSeen = Math.max(...replicasSeen);
  const maxThroughputSeen = Math.max(...usable.map((o) => o.throughput));
  const dataFactor = Math.min(1, saturated.length / minSaturated);

  return ok({
    resource,
    samples: usable.length,
    saturatedSamples: saturated.length,
    medianCapacityPerReplica: medianOrNaN(labels),
    targetsKeptShare: usable.length > 0 ? kept.length / usable.length : Number.NaN,
    recommend(predictedLoad, atMs, range, confidenceThreshold, cpuPercent) {
      const low = Math.max(1, Math.ceil(range.min));
      const high = Math.max(low, Math.floor(range.max));
      const candidates = Array.from({ length: high - low + 1 }, (_, i) => low + i);
      const perTree = forest.predictionValues(candidates.map((r) => featureRow(atMs, r, cpuPercent))).to2DArray();
      const capacities = perTree.map((trees) => medianOrNaN(trees));
      const needed = Math.max(0, predictedLoad) * headroom;
      let index = capacities.findIndex((capacity, i) => candidates[i]! * capacity >= needed);
      const reasons: ResourceRecommendationReason[] = ['learned_capacity'];
      if (index < 0) {
        index = candidates.length - 1;
        reasons.push('no_replica_meets_load');
      }
      const recommended = Math.max(range.min, candidates[index]!);
      const trees = perTree[index]!;
      const mean = trees.reduce((a, b) => a + b, 0) / trees.length;
      const std = Math.sqrt(trees.reduce((a, b) => a + (b - mean) ** 2, 0) / trees.length);
      const cv = mean > 0 ? std / mean : 1;
      // Trees that disagree by a coefficient of variation of 0.25 halve the confidence.
      const agreement = 1 / (1 + 4 * cv);
      let extrapolation = 1;
      if (predictedLoad > 1.5 * maxThroughputSeen) {
        extrapolation *= 0.5;
        reasons.push('load_beyond_history');
      }
      if (recommended > 2 * maxReplicasSeen || recommended < minReplicasSeen / 2) {
        extrapolation *= 0.7;
        reasons.push('replicas_beyond_history');
      }
      if (dataFactor < 1) reasons.push('few_saturated_samples');
      if (agreement < 0.8) reasons.push('trees_disagree');
      const confidence = Math.max(0, Math.min(1, dataFactor * agreement * extrapolation));
      return {
        resource,
        recommendedReplicas: recommended,
        confidence,
        trusted: confidence >= confidenceThreshold && !reasons.includes('no_replica_meets_load'),
        capacityPerReplica: capacities[index]!,
        predictedLoad,
        reasons,
      };
    },
  });
}
