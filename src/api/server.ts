import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { type Clock, formatDuration, messageOf } from '../core/index.js';
import type { Snapshot, SnapshotStore } from '../engine/index.js';
import { failureStatus, type KedaMetrics, type MetricsExposition } from '../publish/index.js';
import { bearerGuard, type ClientCertificateTrust, clientCertificateGuard, CycleRateLimit } from './access.js';
import { buildKedaRouter } from './keda-routes.js';
import { allowOnly, HttpError, notReady, parseHours } from './request-params.js';
import { accuracyViews, freshnessView, inputViews, learnedModelViews, queueViews } from './views.js';
import { webViewRouter } from './web-view.js';

/** What the HTTP API serves from. It never queries a source or a model itself. */
export interface ApiDeps {
  readonly store: SnapshotStore;
  /** What /metrics serves (publish's ServiceMetrics.exposition). */
  readonly exposition: MetricsExposition;
  readonly clock: Clock;
  readonly config: () => Config;
  /** Runs a reconcile cycle now (after any running one, or joins the one waiting) and returns its snapshot. */
  readonly evaluate: () => Promise<Snapshot>;
  /** Whether the current scaling rules compiled, or why they were refused (the previous ones keep deciding). */
  readonly scalingRules?: () => ScalingRulesState;
  /** True when a cycle waits to start, so that `evaluate()` joins it (and costs no rate-limit token). */
  readonly cycleWaiting?: () => boolean;
  readonly build: { readonly version: string };
  readonly logger: Logger;
  readonly kedaMetrics?: KedaMetrics;
  /** The client CAs and names of server.tls when the port asks for client certificates (the HTTP listener's), else undefined. */
  readonly clientCertificates?: () => ClientCertificateTrust | undefined;
}

/** The outcome of the latest compilation of the scaling rules file. */
export type ScalingRulesState = { readonly loaded: true } | { readonly loaded: false; readonly refusedAtMs: number; readonly lastError: string };

function scalingRulesView(state: ScalingRulesState, file: string) {
  return state.loaded ? { file, loaded: true, refusedAt: null, lastError: null } : { file, loaded: false, refusedAt: new Date(state.refusedAtMs).toISOString(), lastError: state.lastError };
}

/**
 * Builds the HTTP API (no `listen()`): `/scaling/*` for operators, `/metrics`, `/healthz`,
 * `/readyz`. Every answer is computed from the latest snapshot; every error is a Kubernetes
 * `Status` body with a 4xx code (5xx only when the service itself cannot answer).
 */
export function buildApi(deps: ApiDeps): express.Express {
  const { store, clock } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Who may ask is settled before a body is read: the client certificate, then the bearer token.
  // With both configured, a request needs both (each guards what it is configured for).
  app.use(clientCertificateGuard(deps.clientCertificates ?? (() => undefined)));
  app.use(bearerGuard(deps.config));
  // Bodies are small JSON documents at most; a malformed one is a 400, never ignored.
  app.use(express.json({ limit: '64kb' }));
  const evaluateLimit = new CycleRateLimit(clock, () => deps.config().server.evaluatePerMinute);

  const requireSnapshot = (): Snapshot => {
    const snapshot = store.latest();
    if (snapshot === undefined) throw notReady();
    return snapshot;
  };
  const freshness = (snapshot: Snapshot | undefined) => freshnessView(snapshot, store.status(), clock.nowMs(), deps.config());

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/livez', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Ready means "can serve": this server answers only once every listener is up (start() opens the
  // HTTP port last), so answering at all is the test. Readiness never waits for the first reconcile
  // cycle nor for Prometheus: an unready pod has no Service endpoints, the aggregator then marks the
  // v1beta1.external.metrics.k8s.io APIService unavailable, and that breaks API discovery and
  // namespace deletion for the whole cluster (kubernetes/kubernetes#75788). Until the first snapshot,
  // metric values answer 503 and the HPA holds its scale; the body says how far the cycles are.
  //
  // A sharded replica (sharding.replicas > 1) is the exception: it is ready once its own shard has a
  // forecast. Its shard is served by nobody else, so a StatefulSet rolling update must wait for it
  // before it restarts the next replica; the other replicas stay ready and keep the APIService up.
  app.get('/readyz', (_req, res) => {
    const snapshot = store.latest();
    const shard = snapshot?.shard;
    const body = {
      status: 'ok',
      firstCycleCompleted: snapshot !== undefined,
      snapshot: freshness(snapshot),
      ...(shard === undefined
        ? {}
        : {
            shard: {
              index: shard.index,
              replicas: shard.replicas,
              ownWorkloads: shard.ownWorkloads,
              readBackSeries: shard.readBack.series,
              readBackAgeSeconds: shard.readBack.oldestSampleMs === undefined ? null : Math.max(0, (clock.nowMs() - shard.readBack.oldestSampleMs) / 1000),
              ...(shard.readBack.error === undefined ? {} : { readBackError: shard.readBack.error }),
            },
          }),
    };
    if (snapshot === undefined && deps.config().sharding.replicas > 1) {
      res.status(503).json({ ...body, status: 'not_ready', reason: "the first cycle of this replica's shard has not completed: its workloads have no forecast anywhere yet" });
      return;
    }
    res.json(body);
  });

  app.get('/metrics', async (_req, res) => {
    const parts = await deps.exposition.body();
    // Written as they are, not res.send: send would copy the megabytes into one buffer and hash
    // them for an ETag on every scrape, and no scraper sends If-None-Match.
    res.set('Content-Type', deps.exposition.contentType);
    res.set('Content-Length', String(parts.reduce((bytes, part) => bytes + part.length, 0)));
    for (const part of parts) res.write(part);
    res.end();
  });

  app.get('/scaling/status', (req, res) => {
    allowOnly(req, []);
    const snapshot = requireSnapshot();
    const config = deps.config();
    res.json({
      version: deps.build.version,
      scaling: {
        enabled: config.scaling.enabled,
        mlPredictionEnabled: config.scaling.mlPredictionEnabled,
        anomalyDetectionEnabled: config.scaling.anomalyDetectionEnabled,
        monitoringIntervalSeconds: config.scaling.monitoringInterval,
        rules: scalingRulesView(deps.scalingRules?.() ?? { loaded: true }, config.decisions.rulesFile),
      },
      source: config.source.type,
      snapshot: freshness(snapshot),
      queues: queueViews(snapshot),
      ...inputViews(snapshot),
      decisions: snapshot.decisions,
      anomalies: snapshot.anomalies,
      learnedModels: learnedModelViews(snapshot),
      // The resource optimizer's recommendations; only `trusted` ones feed `learned_replicas` in the rules.
      optimizer: snapshot.optimizer ?? [],
      problems: snapshot.problems,
    });
  });

  app.get('/scaling/queues/metrics', (req, res) => {
    allowOnly(req, []);
    const snapshot = requireSnapshot();
    res.json({ snapshot: freshness(snapshot), queues: queueViews(snapshot) });
  });

  app.get('/scaling/history', (req, res) => {
    allowOnly(req, ['hours']);
    const hours = parseHours(req.query['hours'], deps.config().snapshot.historyRetention / 3600, 24);
    const sinceMs = clock.nowMs() - hours * 3600 * 1000;
    // Each entry keeps the cycle's decisions with their reasons, and the anomalies it flagged.
    const entries = store.history(sinceMs).map((e) => ({
      cycle: e.cycle,
      completedAt: new Date(e.completedAtMs).toISOString(),
      queues: e.queues,
      decisions: e.decisions,
      anomalies: e.anomalies,
    }));
    res.json({ hours, count: entries.length, entries });
  });

  app.get('/scaling/ml/accuracy', (req, res) => {
    allowOnly(req, []);
    const snapshot = requireSnapshot();
    res.json({
      definition: {
        mase: 'mean absolute scaled error of rolling-origin forecasts on the last 30% of the history window; the scale is the in-sample seasonal-naive MAE, so below 1 beats seasonal naive',
        wape: 'sum |actual - forecast| / sum |actual|, as a ratio',
        accuracyPercent:
          '100 × max(0, 1 − Σ|actual − forecast| / Σ max(|actual|, s)), s the in-sample seasonal-naive MAE (the MASE scale): 100 × (1 − WAPE) on a busy series, never below 0 on a mostly empty one',
        coverage: 'share of actual values inside the forecast p10–p90 band (0.8 is ideal)',
      },
      snapshot: freshness(snapshot),
      series: accuracyViews(snapshot),
      learnedModels: learnedModelViews(snapshot),
      // What was published, scored against what happened (trailing 24 h): the design's accuracy.
      matured: snapshot.maturedAccuracy.map((m) => ({
        series: m.seriesKey,
        horizon: formatDuration(m.horizonSeconds),
        accuracyPercent: Number.isFinite(m.accuracyPercent) ? m.accuracyPercent : null,
        wape: Number.isFinite(m.wape) ? m.wape : null,
        mase: Number.isFinite(m.mase) ? m.mase : null,
        coverage: Number.isFinite(m.coverage) ? m.coverage : null,
        points: m.points,
        pending: m.pending,
      })),
    });
  });

  app.post('/scaling/evaluate', async (req, res) => {
    allowOnly(req, []);
    // Joining the waiting cycle is free; starting one takes a token.
    const retryAfterSeconds = deps.cycleWaiting?.() === true ? undefined : evaluateLimit.take();
    if (retryAfterSeconds !== undefined) {
      res.set('Retry-After', String(retryAfterSeconds));
      throw new HttpError(
        429,
        'FORESIGHT_ERR_RATE_LIMITED',
        `too many evaluations: at most ${deps.config().server.evaluatePerMinute} cycles per minute (server.evaluatePerMinute); retry in ${retryAfterSeconds} s`,
      );
    }
    let snapshot: Snapshot;
    try {
      snapshot = await deps.evaluate();
    } catch (error) {
      throw new HttpError(503, 'FORESIGHT_ERR_CYCLE_FAILED', `reconcile cycle failed: ${messageOf(error)}`);
    }
    res.json({
      snapshot: freshness(snapshot),
      durationSeconds: snapshot.durationSeconds,
      queues: queueViews(snapshot),
      decisions: snapshot.decisions,
      anomalies: snapshot.anomalies,
      problems: snapshot.problems,
    });
  });

  // The web view at / and the JSON it reads (/scaling/series, /scaling/recommendations).
  app.use(webViewRouter({ store, clock, config: deps.config, build: deps.build }));

  app.use(buildKedaRouter({ store, clock, config: deps.config, ...(deps.kedaMetrics === undefined ? {} : { metrics: deps.kedaMetrics }) }));

  app.use((req, res) => {
    res.status(404).json(failureStatus(404, `the server could not find the requested resource: ${req.method} ${req.path}`));
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof HttpError) {
      res.status(error.statusCode).json(failureStatus(error.statusCode, error.message));
      return;
    }
    // Body-parser and friends mark client errors with a status; anything else is our bug.
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json(failureStatus(status, error instanceof Error ? error.message : 'bad request'));
      return;
    }
    deps.logger.error({ err: error }, 'unexpected error while answering a request');
    res.status(500).json(failureStatus(500, 'internal error'));
  });
  return app;
}
