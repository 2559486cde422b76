/**
 * The shipped alerts end to end with real processes: Foresight runs on the replay source with a
 * trace whose queue will exceed its threshold, a real Prometheus (Debian package) loads our alert
 * and recording rules and scrapes Foresight, and a real Alertmanager delivers to a webhook in this
 * test. The predicted-overload alert must arrive with its labels and annotations, and nothing else
 * may fire.
 *
 * The one change to the shipped rules: every `for:` is shortened to 2 s, so the test takes seconds
 * instead of the rules' minutes. The `for:` semantics themselves are covered by the promtool unit
 * tests in test/alerts/.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { Service } from '../../src/app/index.js';
import { startAlertmanager, startWebhookReceiver, type AlertmanagerHandle, type WebhookReceiver } from '../support/alertmanager.js';
import { requireBinaries } from '../support/binaries.js';
import { getFreePort } from '../support/ports.js';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.js';
import { buildService, configFromYaml } from '../support/service.js';
import { systemClock } from '../../src/core/index.js';

const root = join(import.meta.dirname, '..', '..');
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const ordersThreshold = 150;

/** A daily cycle: orders swings between 200 and 400 messages, always above its threshold of 150. */
const ordersDepth = (t: number) => 300 + 100 * Math.sin((2 * Math.PI * (t % DAY_MS)) / DAY_MS);
/** Refunds stays near 20, far below its threshold of 1000. */
const refundsDepth = (t: number) => 20 + 5 * Math.sin((2 * Math.PI * (t % DAY_MS)) / DAY_MS);

/** A replay trace from 4 days ago to an hour from now, so that the replay plays it unshifted. */
function trace(valueAt: (t: number) => number): string {
  const endMs = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS + 60 * MINUTE_MS;
  const rows = ['timestamp,value'];
  for (let t = endMs - 4 * DAY_MS; t <= endMs; t += MINUTE_MS) rows.push(`${t / 1000},${valueAt(t).toFixed(3)}`);
  return `${rows.join('\n')}\n`;
}

describe.skipIf(!requireBinaries('prometheus', 'prometheus-alertmanager'))('alerts through Prometheus and Alertmanager', () => {
  let work: string;
  let webhook: WebhookReceiver;
  let alertmanager: AlertmanagerHandle;
  let prometheus: PrometheusHandle;
  let service: Service;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'foresight-alerting-'));
    await writeFile(join(work, 'queue__orders__depth.csv'), trace(ordersDepth));
    await writeFile(join(work, 'queue__refunds__depth.csv'), trace(refundsDepth));
    // The shipped alert rules with short `for:` durations (see the header).
    const rules = z
      .looseObject({ groups: z.array(z.looseObject({ rules: z.array(z.record(z.string(), z.unknown())) })) })
      .parse(parse(await readFile(join(root, 'alerts', 'foresight.rules.yaml'), 'utf8')));
    for (const group of rules.groups) for (const rule of group.rules) if ('for' in rule) rule['for'] = '2s';
    await writeFile(join(work, 'alerts.rules.yaml'), stringify(rules));

    webhook = await startWebhookReceiver();
    alertmanager = await startAlertmanager({ webhookUrl: webhook.url });
    const port = await getFreePort();
    prometheus = await startPrometheus({
      ruleFiles: [join(work, 'alerts.rules.yaml'), join(root, 'rules', 'recording.rules.yaml')],
      alertmanagerUrl: alertmanager.url,
      scrapeIntervalSeconds: 1,
      evaluationIntervalSeconds: 1,
      scrapeTargets: [{ job: 'foresight', targets: [`127.0.0.1:${port}`] }],
    });
    service = buildService(
      configFromYaml(`
server: { host: 127.0.0.1, port: ${port} }
source: { type: replay, replay: { dir: ${JSON.stringify(work)} } }
queues:
  - { name: orders, threshold: ${ordersThreshold} }
  - { name: refunds, threshold: 1000 }
forecast: { history: 3d }
scaling: { monitoringInterval: 1s }
snapshot: { maxAge: 10s }
`),
      // Prometheus scrapes the service in wall time, and the trace is written around now.
      { clock: systemClock },
    );
    await service.start();
  });

  afterAll(async () => {
    await service?.stop();
    await prometheus?.dispose();
    await alertmanager?.dispose();
    await webhook?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('delivers ForesightPredictedQueueOverload for the overloaded queue with its labels and annotations', async () => {
    const alert = await webhook.waitForAlert((a) => a.labels['alertname'] === 'ForesightPredictedQueueOverload' && a.status === 'firing');
    expect(alert.labels).toEqual({
      alertname: 'ForesightPredictedQueueOverload',
      severity: 'warning',
      job: 'foresight',
      queue: 'orders',
      horizon: '15m',
      quantile: '0.5',
    });
    // What Foresight itself forecasts for orders: the description must quote the same value.
    const forecast = service.store.latest()!.queues.find((q) => q.queue === 'orders')!.depthForecasts[0]!;
    expect(forecast.value).toBeGreaterThan(ordersThreshold);
    const quoted = /^Foresight forecasts ([\d.]+) messages in orders 15m from now, above its threshold of 150\. Check that the recommended replicas are being applied in time\.$/.exec(
      alert.annotations['description'] ?? '',
    );
    expect(quoted, alert.annotations['description']).not.toBeNull();
    // The forecast moves a little between the evaluation and now; a daily cycle moves < 1 %.
    expect(Number(quoted![1])).toBeGreaterThan(0.97 * forecast.value);
    expect(Number(quoted![1])).toBeLessThan(1.03 * forecast.value);
    expect(alert.annotations).toEqual({
      summary: 'Queue orders is predicted to exceed its threshold within 15m.',
      description: alert.annotations['description'],
      runbook_url: 'https://github.com/foresight-autoscaler/foresight/blob/main/docs/runbooks.md#alert-foresightpredictedqueueoverload',
    });
    expect(webhook.rejected).toEqual([]);
    // Alertmanager holds it as an active alert too.
    const active = await alertmanager.alerts();
    expect(active.filter((a) => a.labels['alertname'] === 'ForesightPredictedQueueOverload').map((a) => [a.labels['queue'], a.state])).toEqual([['orders', 'active']]);
  });

  it('fires nothing else: the quiet queue and the healthy service stay silent', async () => {
    // Three more evaluations of every rule group after the first notification, so a late alert would
    // show: counted on Prometheus' own evaluation timestamps, not waited for with a sleep.
    const lastEvaluations = async () => {
      const body = z.object({ data: z.object({ groups: z.array(z.object({ name: z.string(), lastEvaluation: z.string() })) }) }).parse(await (await fetch(`${prometheus.url}/api/v1/rules`)).json());
      return new Map(body.data.groups.map((g) => [g.name, Date.parse(g.lastEvaluation)]));
    };
    const before = await lastEvaluations();
    await vi.waitFor(
      async () => {
        const now = await lastEvaluations();
        for (const [group, atMs] of before) expect(now.get(group)! - atMs, group).toBeGreaterThanOrEqual(3 * 1_000);
      },
      { timeout: 120_000, interval: 200 },
    );
    const alerts = await prometheus.query('ALERTS');
    expect(alerts.map((a) => `${a.metric['alertname']}/${a.metric['queue'] ?? ''}/${a.metric['alertstate']}`).sort()).toEqual(['ForesightPredictedQueueOverload/orders/firing']);
    const delivered = webhook.notifications.flatMap((n) => n.alerts).map((a) => `${a.labels['alertname']}/${a.labels['queue'] ?? ''}`);
    expect([...new Set(delivered)]).toEqual(['ForesightPredictedQueueOverload/orders']);
  });
});
