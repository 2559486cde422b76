/**
 * The /metrics exposition passes `promtool check metrics` (the Debian package's promtool), after a
 * real cycle over the bundled demo workload so that every snapshot-derived family has series.
 */
import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { metricCatalog } from '../../src/publish/index.js';
import { requireBinaries } from '../support/binaries.js';
import { buildService, configFromYaml } from '../support/service.js';

describe.skipIf(!requireBinaries('promtool'))('promtool check metrics', () => {
  it('finds no problem in our exposition, and every catalog family is exposed', async () => {
    const service = buildService(configFromYaml('server: { port: 0 }'));
    await service.reconciler.runCycle();
    service.metrics.configReloaded(true, Date.now());
    const res = await request(service.api).get('/metrics').expect(200);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: res.text, encoding: 'utf8' });
    expect({ status: lint.status, stdout: lint.stdout, stderr: lint.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
    for (const { name } of Object.values(metricCatalog)) expect(res.text).toContain(`# TYPE ${name} `);
    // Each family once and each series once (a repeat would make Prometheus refuse the scrape's duplicates).
    const types = res.text.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(types.length).toBe(new Set(types.map((l) => l.split(' ')[2])).size);
    const series = res.text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.slice(0, l.lastIndexOf(' ')));
    expect(series.length).toBe(new Set(series).size);
    // The demo workload fills the design's inputs for all five queues.
    for (const queue of ['batch_processing', 'ml_inference', 'validation', 'failed_claims', 'priority_claims']) {
      expect(res.text).toMatch(new RegExp(`^predicted_queue_depth\\{queue="${queue}",horizon="15m",quantile="0\\.9"\\} `, 'm'));
      expect(res.text).toMatch(new RegExp(`^queue_depth_current\\{queue="${queue}"\\} `, 'm'));
    }
    expect(res.text).toMatch(/^cpu_utilization_percent \d/m);
    expect(res.text).toMatch(/^load_average\{window="15m"\} /m);
    // The runtime's default series (prom-client's collectDefaultMetrics), linted with the rest.
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_open_fds',
      'process_start_time_seconds',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds_count',
    ]) {
      expect(res.text).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? \\d`, 'm'));
    }
  });
});
