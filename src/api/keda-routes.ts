import express from 'express';
import type { Config } from '../config/index.js';
import type { Clock } from '../core/index.js';
import type { SnapshotStore } from '../engine/index.js';
import { answerMetricsApi, failureStatus, type KedaMetrics, type KedaProblem, noKedaMetrics } from '../publish/index.js';

/** What the KEDA metrics-api route serves from. */
export interface KedaRouterDeps {
  readonly store: SnapshotStore;
  readonly clock: Clock;
  readonly config: () => Config;
  readonly metrics?: KedaMetrics;
}

/** The HTTP code for each kind of problem. */
const httpCodes: Readonly<Record<KedaProblem['kind'], number>> = { invalid_argument: 400, not_found: 404, unavailable: 503 };

/** The path of the endpoint, relative to where the router is mounted (the app root). */
export const kedaMetricsPath = '/keda/metrics';

/**
 * Builds the router of the KEDA `metrics-api` trigger endpoint:
 * `GET /keda/metrics?queue=orders&horizon=15m&quantile=0.9` answers
 * `{"queue":"orders","horizon":"15m","quantile":"0.9","value":1234.5,...}` from the latest snapshot
 * (point the trigger's `valueLocation` at `value`). Bad or unknown parameters are a 400 `Status`,
 * an unknown queue or horizon 404, no snapshot or a snapshot older than `snapshot.maxAge` 503
 * (KEDA then keeps the current scale or applies its fallback). `keda.metricsApi.enabled` is read on
 * every request, so a configuration reload turns the endpoint on or off.
 */
export function buildKedaRouter(deps: KedaRouterDeps): express.Router {
  const metrics = deps.metrics ?? noKedaMetrics;
  const router = express.Router();
  router.get(kedaMetricsPath, (req, res) => {
    const config = deps.config();
    res.set('Cache-Control', 'no-store');
    if (!config.keda.metricsApi.enabled) {
      res.status(404).json(failureStatus(404, 'the KEDA metrics-api endpoint is turned off (keda.metricsApi.enabled)'));
      return;
    }
    const answer = answerMetricsApi(
      req.query as Readonly<Record<string, unknown>>,
      deps.store.latest(),
      { horizonSeconds: config.forecast.horizons[0] ?? 900, quantile: '0.5' },
      { nowMs: deps.clock.nowMs(), maxAgeSeconds: config.snapshot.maxAge },
    );
    metrics.request('metrics_api', 'metrics', answer.ok ? 'ok' : answer.error.kind);
    if (answer.ok) {
      res.json(answer.value);
      return;
    }
    const code = httpCodes[answer.error.kind];
    // A new snapshot arrives once per cycle: that is when asking again can help.
    if (code === 503) res.set('Retry-After', String(Math.ceil(config.scaling.monitoringInterval)));
    res.status(code).json(failureStatus(code, answer.error.message));
  });
  router.all(kedaMetricsPath, (req, res) => {
    res.set('Allow', 'GET, HEAD');
    res.status(405).json(failureStatus(405, `${req.method} is not allowed on ${kedaMetricsPath}; use GET`));
  });
  return router;
}
