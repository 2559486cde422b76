/**
 * The composition root's mapping of training events onto metrics: a failed run is counted by the
 * reason it carries, never by a label cut out of its message (messages contain colons).
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { lifecycleEvents } from '../../../src/app/training-events.js';
import type { ServiceMetrics } from '../../../src/publish/index.js';

function recordingMetrics() {
  const failed: [string, string][] = [];
  const trained: string[] = [];
  const learned: ServiceMetrics['learned'] = {
    trained: (seriesKey) => trained.push(seriesKey),
    loaded: () => undefined,
    failed: (model, reason) => failed.push([model, reason]),
    forget: () => undefined,
  };
  return { metrics: { learned }, failed, trained };
}

describe('lifecycleEvents', () => {
  it('counts a failed training by its reason, whatever its message says', () => {
    const { metrics, failed, trained } = recordingMetrics();
    const events = lifecycleEvents(metrics, pino({ level: 'silent' }));
    events.trainingFinished?.('global', { deployed: false, durationSeconds: 3, mode: 'scratch', failure: { reason: 'corrupt', message: 'the new model does not load: weights.bin: truncated' } });
    events.trainingFinished?.('global', { deployed: false, durationSeconds: 1, mode: 'fine_tune', failure: { reason: 'insufficient_history', message: 'needs 2 seasons: got 1' } });
    expect(failed).toEqual([
      ['lstm', 'corrupt'],
      ['lstm', 'insufficient_history'],
    ]);
    expect(trained).toEqual([]);
  });

  it('counts a deployed global model as trained for every series it forecasts, and a stored model that is unusable as failed', () => {
    const { metrics, failed, trained } = recordingMetrics();
    const events = lifecycleEvents(metrics, pino({ level: 'silent' }));
    events.trainingFinished?.('global', { deployed: true, durationSeconds: 3, mode: 'scratch', createdAtMs: 1_700_000_000_000, seriesKeys: ['queue/a/depth', 'queue/b/depth'] });
    events.trainingFinished?.('global', { deployed: false, durationSeconds: 2, mode: 'fine_tune', seriesKeys: ['queue/a/depth'] });
    events.modelUnusable?.('global', { reason: 'incompatible', message: 'model format "x" is not lstm-v1' });
    expect(trained).toEqual(['queue/a/depth', 'queue/b/depth']);
    expect(failed).toEqual([['lstm', 'incompatible']]);
  });
});
