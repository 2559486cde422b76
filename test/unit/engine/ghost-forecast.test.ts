import { describe, expect, it } from 'vitest';
import { allInputs, inputKey, type InputRef } from '../../../src/core/index.js';
import { forecastTargets, type Recorder, Reconciler, SnapshotStore } from '../../../src/engine/index.js';
import { defaultReplayDir, loadReplayDir, ReplaySource } from '../../../src/source/index.js';
import { ManualClock } from '../../support/manual-clock.js';
import { configFromYaml } from '../../support/service.js';

const noRecorder: Recorder = { cycleFinished() {}, sourceProblem() {}, modelFitted() {}, decided() {}, anomaliesScored() {} };

/**
 * Issue 11: `npm start` on a Monday at 05:07 UTC published predicted_queue_depth{queue="ml_inference"}
 * = 682 while the queue was empty, and every day of the demo trace holds 0–3 jobs between 05:00 and
 * 05:30. Holt-Winters' initial season had a saw-tooth whose jump fell on the slot of "now" (the
 * service's buffer starts whole days before it); see docs/forecasting.md "The ghost forecast".
 * This replays the demo at that moment on a manual clock, through the whole reconcile cycle.
 */
describe('the ghost forecast (demo replayed on Monday 2026-06-08 at 05:07 UTC)', () => {
  const nowMs = Date.parse('2026-06-08T05:07:00Z');
  const depth: InputRef = { kind: 'queue', queue: 'ml_inference', metric: 'depth' };

  // The default (`auto`) fits seven candidates twice on five week-long series: minutes on two busy cores.
  it.each(['holt_winters', 'default'])(
    'publishes an ml_inference depth forecast the history supports (model %s)',
    async (model) => {
      const config = configFromYaml(`queues: [{ name: ml_inference, threshold: 500, resource: ml_workers }]\n${model === 'default' ? '' : `forecast: { model: ${model} }`}`);
      const clock = new ManualClock(nowMs);
      const inputs = [...allInputs(config.queues.map((q) => q.name)), ...forecastTargets(config)];
      const source = new ReplaySource({ traces: loadReplayDir(defaultReplayDir(), inputs).traces, clock });
      const reconciler = new Reconciler({ source, clock, store: new SnapshotStore({ historyRetentionSeconds: 3600 }), recorder: noRecorder, config: () => config });
      const snapshot = await reconciler.runCycle();

      // What the history supports: every value the trace held at this time of day (± half an hour
      // around the forecast's target) on any day of the window the models fitted on.
      const forecast = snapshot.forecasts.find((f) => f.seriesKey === inputKey(depth) && f.horizonSeconds === 900);
      expect(forecast).toBeDefined();
      const history = await source.readHistory([depth], { startMs: nowMs - config.forecast.history * 1000, endMs: nowMs, stepSeconds: 60 });
      const series = history.history[0]!.series;
      const targetMinute = (nowMs + 900_000) % 86_400_000;
      const sameTimeOfDay: number[] = [];
      series.values.forEach((value, i) => {
        const minute = (series.startMs + i * 60_000) % 86_400_000;
        if (Number.isFinite(value) && Math.abs(minute - targetMinute) <= 30 * 60_000) sameTimeOfDay.push(value);
      });
      expect(sameTimeOfDay.length).toBeGreaterThan(6 * 60);
      const supported = Math.max(...sameTimeOfDay);
      expect(supported).toBeLessThan(20); // the demo's quiet early morning, as the issue describes it
      expect(forecast!.value).toBeGreaterThanOrEqual(0);
      expect(forecast!.value).toBeLessThanOrEqual(supported);
      expect(forecast!.p10).toBeGreaterThanOrEqual(0);
      expect(forecast!.p90).toBeLessThanOrEqual(2 * supported);
    },
    300_000,
  );
});
