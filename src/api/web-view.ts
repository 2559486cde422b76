import express, { type Request, type Response } from 'express';
import type { Config } from '../config/index.js';
import { type Clock, formatDuration } from '../core/index.js';
import type { HistoryEntry, Snapshot, SnapshotStore } from '../engine/index.js';
import { failureStatus } from '../publish/index.js';
import { freshnessView } from './views.js';
import { allowOnly, HttpError, notReady, parseHours, single } from './request-params.js';
import { webScript } from './web/script.js';
import { webStyles } from './web/styles.js';
import { renderWebPage } from './web/page.js';

/** What the web view reads: the snapshot store and the configuration, like every other answer. */
export interface WebViewDeps {
  readonly store: SnapshotStore;
  readonly clock: Clock;
  readonly config: () => Config;
  readonly build: { readonly version: string };
}

/** Most points one series carries in a `/scaling/series` answer; longer histories are thinned. */
export const maxSeriesPoints = 720;

/** Default window of `/scaling/series`, in hours (capped by the configured history retention). */
const defaultHours = 6;

/**
 * The browser's rules for the web view: nothing but this origin's own script, styles and JSON, no
 * framing. Charts are SVG built through the DOM, so no inline script or style is needed.
 */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** One observed point of a queue's depth. */
export interface DepthPoint {
  readonly timestampMs: number;
  /** Null when the cycle had no depth reading (the line breaks there). */
  readonly value: number | null;
}

/** One past forecast of a queue's depth: made at `originMs`, for `targetMs`. */
export interface ForecastPoint {
  readonly originMs: number;
  readonly targetMs: number;
  readonly value: number;
  readonly p10: number;
  readonly p90: number;
}

/** The series the web view draws for one queue. */
export interface QueueSeriesView {
  readonly queue: string;
  readonly resource: string;
  readonly threshold: number;
  readonly current: Readonly<Record<string, number>>;
  /** Observed depth per cycle, oldest first. */
  readonly actual: readonly DepthPoint[];
  /** Past forecasts per horizon (configured order), plotted at their target time. */
  readonly forecasts: readonly { readonly horizon: string; readonly horizonSeconds: number; readonly points: readonly ForecastPoint[] }[];
  /** The forecasts of the latest cycle, with the model that made them. */
  readonly latest: readonly (ForecastPoint & { readonly horizon: string; readonly horizonSeconds: number; readonly model: string; readonly fallbackReason?: string })[];
  /** Anomaly verdicts about this queue in the window, at the time of their cycle. */
  readonly anomalies: readonly { readonly timestampMs: number; readonly metric: string; readonly severity: string; readonly score: number; readonly value: number; readonly expected?: number }[];
  /** True when the pessimistic (p90) forecast of any horizon is above the threshold. */
  readonly overThresholdWithinHorizon: boolean;
  /** True when the point forecast of any horizon is above the threshold. */
  readonly predictedOverload: boolean;
}

/** Every `stride`-th element (and always the last), so that a long history keeps its shape in few points. */
function thin<T>(items: readonly T[], maxPoints: number): readonly T[] {
  if (items.length <= maxPoints) return items;
  const stride = Math.ceil(items.length / maxPoints);
  const out = items.filter((_, index) => index % stride === 0);
  if ((items.length - 1) % stride !== 0) out.push(items[items.length - 1]!);
  return out;
}

/**
 * Builds the series of each queue of `snapshot` from the history entries (oldest first).
 *
 * History entries record their completion time, not the forecast origin (the last grid point read,
 * up to one forecast step plus the cycle's duration earlier). Origins are taken as the completion
 * time, so a past forecast is drawn at most that much after its real target time.
 */
export function buildQueueSeries(snapshot: Snapshot, entries: readonly HistoryEntry[], maxPoints: number = maxSeriesPoints): QueueSeriesView[] {
  const kept = thin(entries, maxPoints);
  return snapshot.queues.map((q) => {
    const actual: DepthPoint[] = [];
    const byHorizon = new Map<number, ForecastPoint[]>();
    for (const entry of kept) {
      const state = entry.queues.find((s) => s.queue === q.queue);
      if (state === undefined) continue;
      actual.push({ timestampMs: entry.completedAtMs, value: state.depth });
      for (const p of state.predicted) {
        const points = byHorizon.get(p.horizonSeconds) ?? [];
        points.push({ originMs: p.originMs, targetMs: p.originMs + p.horizonSeconds * 1000, value: p.value, p10: p.p10, p90: p.p90 });
        byHorizon.set(p.horizonSeconds, points);
      }
    }
    // Anomalies are never thinned: each one is a marker the reader must see.
    const anomalies = entries.flatMap((entry) =>
      entry.anomalies
        .filter((a) => a.queue === q.queue)
        .map((a) => ({
          timestampMs: entry.completedAtMs,
          metric: a.metric,
          severity: a.severity,
          score: a.score,
          value: a.value,
          ...(a.expected === undefined ? {} : { expected: a.expected }),
        })),
    );
    const horizons = q.depthForecasts.map((f) => f.horizonSeconds);
    for (const horizonSeconds of byHorizon.keys()) if (!horizons.includes(horizonSeconds)) horizons.push(horizonSeconds);
    return {
      queue: q.queue,
      resource: q.resource,
      threshold: q.threshold,
      current: q.current,
      actual,
      forecasts: horizons.map((horizonSeconds) => ({ horizon: formatDuration(horizonSeconds), horizonSeconds, points: byHorizon.get(horizonSeconds) ?? [] })),
      latest: q.depthForecasts.map((f) => ({
        horizon: formatDuration(f.horizonSeconds),
        horizonSeconds: f.horizonSeconds,
        originMs: f.originMs,
        targetMs: f.originMs + f.horizonSeconds * 1000,
        value: f.value,
        p10: f.p10,
        p90: f.p90,
        model: f.model,
        ...(f.fallbackReason === undefined ? {} : { fallbackReason: f.fallbackReason }),
      })),
      anomalies,
      overThresholdWithinHorizon: q.depthForecasts.some((f) => f.p90 > q.threshold),
      predictedOverload: q.depthForecasts.some((f) => f.value > q.threshold),
    };
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The web view: `GET /` (the page), `/web/app.js` and `/web/app.css` (its only assets, served from
 * string constants so that the build needs no copy step and the page needs no CDN), and the two JSON
 * endpoints the page reads besides `/scaling/ml/accuracy`:
 *
 * - `GET /scaling/series[?queue=NAME][&hours=H]`: per queue, observed depth and past forecasts from
 *   the snapshot history (default 6 h, at most `snapshot.historyRetention`), the latest forecasts,
 *   and the anomalies about the queue;
 * - `GET /scaling/recommendations`: the latest decision per resource with its reasons and
 *   confidence, and the current anomaly verdicts.
 *
 * Errors are Kubernetes `Status` bodies: 400 for bad parameters, 404 for an unknown queue, 503
 * before the first cycle.
 */
export function webViewRouter(deps: WebViewDeps): express.Router {
  const router = express.Router();
  const handle =
    (answer: (req: Request, res: Response) => void) =>
    (req: Request, res: Response): void => {
      try {
        answer(req, res);
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        res.status(error.statusCode).json(failureStatus(error.statusCode, error.message));
      }
    };
  const requireSnapshot = (): Snapshot => {
    const snapshot = deps.store.latest();
    if (snapshot === undefined) throw notReady();
    return snapshot;
  };
  const freshness = (snapshot: Snapshot) => freshnessView(snapshot, deps.store.status(), deps.clock.nowMs(), deps.config());

  router.get(
    '/',
    handle((req, res) => {
      allowOnly(req, []);
      const config = deps.config();
      res.set({
        'Content-Security-Policy': contentSecurityPolicy,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-store',
      });
      res.type('html').send(
        renderWebPage({
          version: escapeHtml(deps.build.version),
          refreshSeconds: config.scaling.monitoringInterval,
          maxHours: config.snapshot.historyRetention / 3600,
          defaultHours: Math.min(defaultHours, config.snapshot.historyRetention / 3600),
        }),
      );
    }),
  );
  const asset = (type: string, body: string) => (_req: Request, res: Response) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' });
    res.type(type).send(body);
  };
  router.get('/web/app.js', asset('application/javascript; charset=utf-8', webScript));
  router.get('/web/app.css', asset('text/css; charset=utf-8', webStyles));

  router.get(
    '/scaling/series',
    handle((req, res) => {
      allowOnly(req, ['queue', 'hours']);
      const queue = single(req, 'queue');
      const hours = parseHours(single(req, 'hours'), deps.config().snapshot.historyRetention / 3600, defaultHours);
      const snapshot = requireSnapshot();
      if (queue !== undefined && !snapshot.queues.some((q) => q.queue === queue)) {
        throw new HttpError(404, 'FORESIGHT_ERR_NOT_FOUND', `the server could not find the queue "${queue}"; known queues: ${snapshot.queues.map((q) => q.queue).join(', ')}`);
      }
      const nowMs = deps.clock.nowMs();
      const entries = deps.store.history(nowMs - hours * 3600 * 1000);
      const queues = buildQueueSeries(snapshot, entries).filter((q) => queue === undefined || q.queue === queue);
      res.json({ snapshot: freshness(snapshot), nowMs, hours, maxPoints: maxSeriesPoints, queues });
    }),
  );

  router.get(
    '/scaling/recommendations',
    handle((req, res) => {
      allowOnly(req, []);
      const snapshot = requireSnapshot();
      const config = deps.config();
      res.json({
        snapshot: freshness(snapshot),
        scalingEnabled: config.scaling.enabled,
        anomalyDetectionEnabled: config.scaling.anomalyDetectionEnabled,
        // The snapshot's own records, nothing recomputed: what the engine decided is what is shown.
        decisions: snapshot.decisions,
        anomalies: snapshot.anomalies.filter((a) => a.isAnomaly),
      });
    }),
  );
  return router;
}
