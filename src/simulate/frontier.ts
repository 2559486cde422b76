/**
 * Cost/quality frontiers of a set of autoscaler configurations: each configuration is a point
 * (cost = replica-minutes, value = a shortfall such as under-provisioned time, lower is better on
 * both). Two frontiers are offered, both read by linear interpolation:
 *
 * - the **monotone** frontier: the Pareto-optimal points (none cheaper and at least as good);
 * - the **lower convex hull** of those points, which lies on or below the monotone frontier. It is
 *   the stricter opponent, and a fair one: running configuration A for a share λ of the time and B
 *   for the rest costs and falls short about λ·A + (1 − λ)·B, so every point of the hull can be
 *   had by mixing two configurations that were measured.
 */
export interface FrontierPoint {
  readonly cost: number;
  readonly value: number;
}

/** How a frontier is read between its points. */
export type FrontierKind = 'hull' | 'monotone';

/** The frontier's value at a cost, and whether the cost was inside the swept range. */
export interface FrontierReading {
  readonly value: number;
  /**
   * `inside`: between the cheapest and the costliest frontier point (interpolated);
   * `cheaper`: below the cheapest point, which is read instead (a frontier only gets worse with
   * less cost, so this flatters the frontier); `costlier`: above the costliest point, which is read
   * instead (this flatters whatever is compared with the frontier).
   */
  readonly position: 'inside' | 'cheaper' | 'costlier';
}

/** The Pareto-optimal points, by increasing cost (and so strictly decreasing value). */
export function monotoneFrontier(points: readonly FrontierPoint[]): FrontierPoint[] {
  const sorted = points.filter((p) => Number.isFinite(p.cost) && Number.isFinite(p.value)).sort((a, b) => a.cost - b.cost || a.value - b.value);
  const frontier: FrontierPoint[] = [];
  for (const p of sorted) if (frontier.length === 0 || p.value < frontier[frontier.length - 1]!.value) frontier.push(p);
  return frontier;
}

/** The lower convex hull of the Pareto-optimal points, by increasing cost (Andrew's monotone chain). */
export function lowerConvexHull(points: readonly FrontierPoint[]): FrontierPoint[] {
  const hull: FrontierPoint[] = [];
  for (const p of monotoneFrontier(points)) {
    // Drop the last hull point while it lies on or above the segment from the one before it to p.
    while (hull.length >= 2) {
      const a = hull[hull.length - 2]!;
      const b = hull[hull.length - 1]!;
      const cross = (b.cost - a.cost) * (p.value - a.value) - (b.value - a.value) * (p.cost - a.cost);
      if (cross > 0) break;
      hull.pop();
    }
    hull.push(p);
  }
  return hull;
}

/** The frontier of `points` of the given kind. */
export function frontierOf(points: readonly FrontierPoint[], kind: FrontierKind): FrontierPoint[] {
  return kind === 'hull' ? lowerConvexHull(points) : monotoneFrontier(points);
}

/** Reads a frontier (by increasing cost, as returned above) at `cost` by linear interpolation. */
export function readFrontier(frontier: readonly FrontierPoint[], cost: number): FrontierReading {
  if (frontier.length === 0) return { value: Number.NaN, position: 'inside' };
  const first = frontier[0]!;
  const last = frontier[frontier.length - 1]!;
  if (cost < first.cost) return { value: first.value, position: 'cheaper' };
  if (cost > last.cost) return { value: last.value, position: 'costlier' };
  for (let i = 1; i < frontier.length; i++) {
    const a = frontier[i - 1]!;
    const b = frontier[i]!;
    if (cost <= b.cost) {
      const share = b.cost === a.cost ? 0 : (cost - a.cost) / (b.cost - a.cost);
      return { value: a.value + share * (b.value - a.value), position: 'inside' };
    }
  }
  return { value: last.value, position: 'inside' };
}
