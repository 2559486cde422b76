import type { Logger } from 'pino';
import type { ServiceMetrics } from '../publish/index.js';
import type { LifecycleEvents } from '../training/index.js';

/** Logs the lifecycle's events and turns them into the learned-model metrics. */
export function lifecycleEvents(metrics: Pick<ServiceMetrics, 'learned'>, log: Logger): LifecycleEvents {
  return {
    modelUnusable: (seriesKey, failure) => {
      log.warn({ seriesKey, reason: failure.reason, message: failure.message }, 'stored model unusable; it will be retrained');
      metrics.learned.failed('lstm', failure.reason);
    },
    modelLoaded: (seriesKey, _meta, trainedAtMs) => {
      log.info({ seriesKey, trainedAtMs }, 'stored model loaded');
      metrics.learned.loaded(seriesKey, 'lstm', trainedAtMs);
    },
    trainingStarted: (seriesKey, reason, mode) => log.info({ seriesKey, reason, mode }, 'training started in a low-priority child process'),
    trainingProgress: (seriesKey, progress) => log.debug({ seriesKey, progress }, 'training progress'),
    trainingFinished: (seriesKey, report) => {
      if (report.failure !== undefined) {
        log.warn({ seriesKey, reason: report.failure.reason, message: report.failure.message, durationSeconds: report.durationSeconds }, 'training failed; the baselines keep serving');
        metrics.learned.failed('lstm', report.failure.reason);
        return;
      }
      log.info({ seriesKey, mode: report.mode, deployed: report.deployed, shadow: report.shadow, durationSeconds: report.durationSeconds }, 'training finished');
      // One global model: every series it forecasts was (re)trained by this run.
      if (report.deployed && report.createdAtMs !== undefined) for (const key of report.seriesKeys ?? []) metrics.learned.trained(key, 'lstm', report.createdAtMs, report.durationSeconds);
    },
  };
}
