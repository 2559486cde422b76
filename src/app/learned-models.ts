import type { LearnedArtifacts, LearnedModels, ModelHostPort } from '../engine/index.js';
import type { PointForecast, TfBackendPreference, TrainedLstm } from '../forecast/index.js';
import { describeTrainingFailure, medianAccuracy, type ModelLifecycle } from '../training/index.js';

/**
 * Adapts training's ModelLifecycle onto the engine's LearnedModels port. Learned models run in the
 * model host, never on the serving event loop: their weights travel there once per model (the host
 * keeps the restored model for each cycle's forecast, and says `missing` after a restart, when they
 * are sent again), and for the comparison with the baseline (restored, run over thousands of
 * origins, freed).
 */
export function learnedModelsOf(lifecycle: ModelLifecycle, host: ModelHostPort, backend: () => TfBackendPreference): LearnedModels {
  const ids = new WeakMap<TrainedLstm, string>();
  let nextId = 1;
  const idOf = (model: TrainedLstm): string => {
    let id = ids.get(model);
    if (id === undefined) {
      id = String(nextId++);
      ids.set(model, id);
    }
    return id;
  };
  /** Ids of the models the host holds, as far as this side knows. */
  const held = new Set<string>();
  const artifactsOf = async (model: TrainedLstm): Promise<LearnedArtifacts> => ({ artifacts: await model.exportArtifacts(), meta: model.meta });
  return {
    load: (seriesKey) => lifecycle.load(seriesKey),
    tick: (series, spec, nowMs, accuracyPercent) => {
      lifecycle.tick(series, spec, nowMs, medianAccuracy(accuracyPercent));
    },
    serving: (seriesKey) => {
      const model = lifecycle.serving(seriesKey);
      if (model === undefined) return undefined;
      return {
        model,
        trainedThroughMs: model.meta.trainingWindow.endMs,
        forecastsFrom: async (series, fromIndex, covariates) =>
          host.learnedForecasts({
            learned: { artifacts: await model.exportArtifacts(), meta: model.meta },
            series,
            ...(covariates === undefined ? {} : { covariates }),
            fromIndex,
            backend: backend(),
          }),
      };
    },
    latest: async (items) => {
      const asked = items.flatMap(({ seriesKey, series, covariates }) => {
        const model = lifecycle.serving(seriesKey);
        return model === undefined ? [] : [{ seriesKey, series, covariates, model, id: idOf(model) }];
      });
      // Every serving series is listed each time (the host frees the models of series not listed);
      // weights only for the models the host does not hold yet.
      const ask = async () =>
        host.learnedPoints({
          backend: backend(),
          items: await Promise.all(
            asked.map(async ({ seriesKey, series, covariates, model, id }) => ({
              key: seriesKey,
              id,
              series,
              ...(covariates === undefined ? {} : { covariates }),
              ...(held.has(id) ? {} : { learned: await artifactsOf(model) }),
            })),
          ),
        });
      let points = await ask();
      if (points.some((p) => 'missing' in p)) {
        // The host was restarted and lost them: send their weights again.
        asked.forEach(({ id }, index) => {
          if ('missing' in points[index]!) held.delete(id);
        });
        points = await ask();
      }
      const out = new Map<string, PointForecast>();
      asked.forEach(({ seriesKey, id }, index) => {
        const point = points[index]!;
        if ('value' in point) {
          held.add(id);
          out.set(seriesKey, point);
        }
      });
      return items.map(({ seriesKey }) => out.get(seriesKey));
    },
    status: () =>
      lifecycle.status().map((s) => {
        const report = s.lastReport;
        const reason =
          (s.queued && s.meta === undefined ? 'waiting for the training in progress' : undefined) ??
          s.unavailableReason ??
          (report?.failure === undefined ? undefined : describeTrainingFailure(report.failure)) ??
          (report !== undefined && !report.deployed ? 'the last trained model did not beat the serving one on held-out data (current_better_or_equal)' : undefined);
        return {
          seriesKey: s.seriesKey,
          model: 'lstm',
          ...(s.meta !== undefined && s.trainedAtMs !== undefined ? { trainedAtMs: s.trainedAtMs } : {}),
          state: s.training ? 'training' : s.meta !== undefined ? 'serving' : 'unavailable',
          ...(reason === undefined ? {} : { reason }),
        } as const;
      }),
  };
}
