import type { ScalingEvent } from '../state.js';
import { type Draft, held } from './draft.js';

/**
 * The design's alternating-pattern check: the latest `count` scaling events all fall inside the
 * window and each reverses the one before (up, down, up, down...).
 */
export function isOscillating(events: readonly ScalingEvent[], nowMs: number, windowSeconds: number, count: number): boolean {
  if (events.length < count) return false;
  const latest = events.slice(events.length - count);
  if (nowMs - latest[0]!.atMs > windowSeconds * 1000) return false;
  for (let i = 1; i < latest.length; i++) if (latest[i]!.direction === latest[i - 1]!.direction) return false;
  return true;
}

/**
 * Stage 6c, oscillation damping: while the events alternate, a change that would reverse the
 * latest event again is held. Emergencies go ahead (the reactive floor still applies after this).
 */
export function dampOscillation(draft: Draft, events: readonly ScalingEvent[], nowMs: number, windowSeconds: number, count: number): Draft {
  if (draft.emergency || draft.replicas === draft.baseline || !isOscillating(events, nowMs, windowSeconds, count)) return draft;
  const last = events[events.length - 1]!;
  const direction = draft.replicas > draft.baseline ? 'up' : 'down';
  return direction !== last.direction ? held(draft, 'oscillation_damped') : draft;
}
