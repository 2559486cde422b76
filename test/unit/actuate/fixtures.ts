import type { ActuationMetrics, ActuationOutcome } from '../../../src/actuate/index.js';
import type { Resource } from '../../../src/core/index.js';
import type { ResourceDecision, Snapshot } from '../../../src/engine/index.js';

/** A snapshot carrying only `decisions` (everything actuation reads). */
export function snapshotWith(decisions: readonly ResourceDecision[], cycle = 1): Snapshot {
  return {
    cycle,
    startedAtMs: 0,
    completedAtMs: 0,
    durationSeconds: 0,
    inputs: [],
    queues: [],
    forecasts: [],
    accuracy: [],
    maturedAccuracy: [],
    anomalies: [],
    decisions,
    problems: [],
  };
}

/** A decision to go from `current` to `recommended` replicas. */
export function decision(resource: Resource, current: number | null, recommended: number): ResourceDecision {
  return {
    resource,
    currentReplicas: current,
    recommendedReplicas: recommended,
    direction: current === null || recommended === current ? 'hold' : recommended > current ? 'up' : 'down',
    reasons: ['test'],
    confidence: 0.9,
  };
}

/** ActuationMetrics that count in a map, keyed "resource/outcome". */
export class CountingMetrics implements ActuationMetrics {
  readonly counts = new Map<string, number>();
  readonly leader: boolean[] = [];

  patched(resource: Resource, outcome: ActuationOutcome): void {
    const key = `${resource}/${outcome}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  setLeader(isLeader: boolean): void {
    this.leader.push(isLeader);
  }

  count(resource: Resource, outcome: ActuationOutcome): number {
    return this.counts.get(`${resource}/${outcome}`) ?? 0;
  }

  /** All counts as a plain object, for whole-state assertions. */
  all(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
