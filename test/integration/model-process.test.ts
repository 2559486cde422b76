/**
 * The service with its models in a child process (`forecast.modelProcess`, the default outside
 * tests) against the same service with its models on the event loop: same bundled demo workload,
 * same clock, so every published number must be the same; and stopping the service ends the child.
 * Refits inside the cycle (`backgroundRefits: false`), as the in-process models always do: background
 * refits serve from the cycle after they ran (test/integration/model-host.test.ts covers them).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Service } from '../../src/app/index.js';
import type { Snapshot } from '../../src/engine/index.js';
import { ManualClock } from '../support/manual-clock.js';
import { childPids } from '../support/processes.js';
import { buildService, configFromYaml } from '../support/service.js';

const yaml = (modelProcess: boolean) => `
forecast: { model: holt_winters, horizons: [15m, 30m], modelProcess: ${modelProcess}, backgroundRefits: false }
`;

/** Model-process children of this test process (found through the OS: the host does not expose them). */
const modelChildren = () => childPids('model-process-entry');

/** What a snapshot publishes, without the wall-clock durations that differ between any two runs. */
function published(s: Snapshot) {
  return { forecasts: s.forecasts, accuracy: s.accuracy, optimizer: s.optimizer, decisions: s.decisions, anomalies: s.anomalies, queues: s.queues };
}

describe('models in a child process (the service)', () => {
  const services: Service[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
  });

  it('publishes exactly what the in-process models publish, cycle after cycle, and ends the child on stop', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 0));
    const inProcess = buildService(configFromYaml(yaml(false)), { clock });
    const child = buildService(configFromYaml(yaml(true)), { clock });
    services.push(inProcess, child);
    expect(modelChildren()).toEqual([]);
    for (let cycle = 0; cycle < 3; cycle++) {
      const expected = await inProcess.reconciler.runCycle();
      const actual = await child.reconciler.runCycle();
      expect(actual.forecasts.length).toBeGreaterThan(10);
      expect(published(actual)).toEqual(published(expected));
      // Across a refit bucket too (the demo refits hourly).
      clock.advance(cycle === 0 ? 600 : 3600);
    }
    expect(modelChildren()).toHaveLength(1);
    await child.stop();
    services.splice(services.indexOf(child), 1);
    expect(modelChildren()).toEqual([]);
  });
});
