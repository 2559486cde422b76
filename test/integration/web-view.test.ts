/**
 * The web view in a real browser: headless Chromium (Debian package) through playwright-core loads
 * `/` from Foresight running on the replay source, and the charts must show data for every queue.
 * Screenshots go to test-artifacts/ (web-view.png: replay data only; web-view-decisions.png: with
 * a decision and anomalies published into the store, as the decision and anomaly engines will).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/app/index.js';
import type { AnomalyState, ResourceDecision } from '../../src/engine/index.js';
import { assertBinary, requireBinaries } from '../support/binaries.js';
import { ManualClock } from '../support/manual-clock.js';
import { ManualTimers } from '../support/manual-timers.js';
import { buildService, configFromYaml } from '../support/service.js';

const artifacts = join(import.meta.dirname, '..', '..', 'test-artifacts');
const queues = ['batch_processing', 'ml_inference', 'validation', 'failed_claims', 'priority_claims'];
const cycles = 40;

/** What the page shows for one queue, read from the DOM. */
interface RenderedQueue {
  readonly queue: string;
  readonly actualPoints: number;
  readonly forecastPoints: number;
  readonly actualSegments: number;
  readonly bandPath: boolean;
  readonly latestMarkers: number;
  readonly anomalyMarkers: number;
  readonly thresholdLabel: string;
}

/**
 * The little of the DOM that readQueues touches. The tests compile without the DOM library (src/
 * must not see browser globals), so the browser-side callbacks are typed by hand.
 */
interface ChartNode {
  getAttribute(name: string): string | null;
  querySelector(selector: string): ChartNode | null;
  querySelectorAll(selector: string): { readonly length: number };
  readonly textContent: string | null;
}

function readQueues(page: Page): Promise<RenderedQueue[]> {
  return page.$$eval('svg.chart', (charts: ChartNode[]) =>
    charts.map((chart) => ({
      queue: chart.getAttribute('data-queue') ?? '',
      actualPoints: Number(chart.getAttribute('data-actual-points')),
      forecastPoints: Number(chart.getAttribute('data-forecast-points')),
      // Each point after the first is one "L" segment of the path.
      actualSegments: (chart.querySelector('path.actual')?.getAttribute('d') ?? '').split(/[ML]/).filter((part: string) => part !== '').length,
      bandPath: (chart.querySelector('path.band')?.getAttribute('d') ?? '').endsWith('Z'),
      latestMarkers: chart.querySelectorAll('g.latest circle').length,
      anomalyMarkers: chart.querySelectorAll('circle.anomaly').length,
      thresholdLabel: chart.querySelector('.threshold-label')?.textContent ?? '',
    })),
  );
}

describe.skipIf(!requireBinaries('chromium'))('web view in headless Chromium', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
  let service: Service;
  let browser: Browser;
  let page: Page;
  const browserErrors: string[] = [];

  beforeAll(async () => {
    // Replay source (the bundled demo workload); the manual clock and timers let the test run the
    // cycles itself, a minute apart, instead of waiting for them.
    service = buildService(
      configFromYaml(`
server: { host: 127.0.0.1, port: 0 }
source: { type: replay }
forecast: { history: 3d }
# Off, so that the only anomaly on the page is the one this test publishes.
scaling: { monitoringInterval: 5s, anomalyDetectionEnabled: false }
snapshot: { maxAge: 1h }
`),
      { clock, timers: new ManualTimers(clock) },
    );
    await service.start();
    for (let i = 0; i < cycles; i++) {
      await service.reconciler.runCycle();
      clock.advance(60);
    }
    await service.reconciler.runCycle();
    browser = await chromium.launch({
      executablePath: assertBinary('chromium'),
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (error) => browserErrors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') browserErrors.push(`console error: ${message.text()}`);
    });
    page.on('requestfailed', (req) => browserErrors.push(`request failed: ${req.url()}`));
    mkdirSync(artifacts, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  it('draws observed depth, the forecast band and the latest forecast for every queue', async () => {
    const response = await page.goto(`${service.url}/`);
    expect(response?.status()).toBe(200);
    // Waits by selector: string predicates would need eval in the page, which its CSP forbids.
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 0 });
    const rendered = await readQueues(page);
    expect(rendered.map((q) => q.queue)).toEqual(queues);
    // start() runs one cycle of its own besides the test's.
    const published = service.store.history(0).length;
    expect(published).toBeGreaterThanOrEqual(cycles + 1);
    for (const q of rendered) {
      // One point per cycle; the forecast points are the same cycles' forecasts.
      expect(q.actualPoints, q.queue).toBe(published);
      expect(q.actualSegments, q.queue).toBe(published);
      expect(q.forecastPoints, q.queue).toBe(published);
      expect(q.bandPath, q.queue).toBe(true);
      expect(q.latestMarkers, q.queue).toBe(1);
      expect(q.thresholdLabel, q.queue).toMatch(/^threshold \d/);
    }
    // The accuracy table lists every forecast series; the decisions table has one row per resource,
    // as the engine decided them, with its reasons.
    const accuracyRows = await page.$$eval('#accuracy tbody tr', (rows) => rows.map((r) => r.querySelector('td')?.textContent));
    expect(accuracyRows).toEqual(expect.arrayContaining(queues.map((q) => `queue/${q}/depth`)));
    const decided = service.store.latest()!.decisions;
    expect(decided.map((d) => d.resource)).toEqual(['worker_processes', 'api_instances', 'batch_processors', 'ml_workers', 'db_connections']);
    const decisionRows = await page.$$eval('#decisions tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(decisionRows.map((r) => [r[0], r[2]])).toEqual(decided.map((d) => [d.resource, String(d.recommendedReplicas)]));
    expect(decisionRows.every((r) => (r[5] ?? '').length > 0)).toBe(true);
    await expect(page.textContent('#freshness')).resolves.toMatch(/^fresh cycle \d+ · snapshot \d+ s old · refreshing every 5 s$/);
    await page.screenshot({ path: join(artifacts, 'web-view.png'), fullPage: true });
    expect(browserErrors).toEqual([]);
  });

  it('refreshes by itself and shows decisions with reasons and anomalies on their queue', async () => {
    const latest = service.store.latest()!;
    const validation = latest.queues.find((q) => q.queue === 'validation')!;
    const decision: ResourceDecision = {
      resource: 'worker_processes',
      currentReplicas: 4,
      recommendedReplicas: 7,
      direction: 'up',
      reasons: ['predicted_queue_over_threshold', 'cooldown_clear'],
      confidence: 0.86,
      rule: 'worker_queue_depth_high',
    };
    const anomaly: AnomalyState = {
      metric: 'queue_depth',
      queue: 'validation',
      seriesKey: 'queue/validation/depth',
      detector: 'robust_seasonal',
      score: 0.97,
      isAnomaly: true,
      severity: 'critical',
      confidence: 0.99,
      value: validation.current['depth'] ?? 0,
      expected: 3,
    };
    clock.advance(60);
    // What the decision and anomaly engines will publish; the page must pick it up on its own.
    service.store.publish({ ...latest, cycle: latest.cycle + 1, completedAtMs: clock.nowMs(), decisions: [decision], anomalies: [anomaly] });
    const before = Number(await page.getAttribute('body', 'data-refreshes'));
    await page.waitForSelector(`body:not([data-refreshes="${before}"])`, { state: 'attached', timeout: 120_000 });
    const rows = await page.$$eval('#decisions tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows).toEqual([['worker_processes', '4', '7', '↑ up', '86 %', 'predicted_queue_over_thresholdcooldown_clear', 'worker_queue_depth_high']]);
    const rendered = await readQueues(page);
    expect(rendered.find((q) => q.queue === 'validation')?.anomalyMarkers).toBe(1);
    expect(rendered.filter((q) => q.queue !== 'validation').every((q) => q.anomalyMarkers === 0)).toBe(true);
    await expect(page.textContent('#anomalies')).resolves.toContain('robust_seasonal');
    await page.screenshot({ path: join(artifacts, 'web-view-decisions.png'), fullPage: true });
    expect(browserErrors).toEqual([]);
  });
});
