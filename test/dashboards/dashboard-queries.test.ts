/**
 * Every query of the shipped dashboard, run against a real Prometheus that loads the shipped rules
 * and scrapes Foresight: each panel must return data, except the ones listed in `pending` with the
 * reason they cannot have data yet, and those in `timeOfDayDependent`, which must only answer.
 *
 * Two Foresight instances feed it, each the way users run it:
 * - job "foresight": the replay source (the bundled demo workload), which fills every input,
 *   forecast and backtest series, with the external-metrics API on (local mode: a generated
 *   certificate), so that the TLS panels have a certificate to show;
 * - job "foresight-source": the Prometheus source, reading job "foresight"'s queue depths back from
 *   this Prometheus, so the source-query panels have real queries to show (and, with only seconds of
 *   history, its forecasts come from the naive fallback, which the fallback panel shows).
 * The `job` variable is substituted with both, as a multi-select would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Service } from '../../src/app/index.js';
import { requireBinaries } from '../support/binaries.js';
import { getFreePort } from '../support/ports.js';
import { startPrometheus, type PrometheusHandle } from '../support/prometheus.js';
import { buildService, configFromYaml } from '../support/service.js';
import { dataPanels, intervalVariables, loadDashboard, root } from './dashboard-spec.js';
import { substituteVariables } from './promql-lint.js';
import { systemClock } from '../../src/core/index.js';

/**
 * Panels (by title and refId) that cannot return data against today's engine, with the reason.
 * The test also fails when one of them does return data, so that this list never goes stale:
 * remove an entry as soon as the engine part it waits for lands.
 */
const pending: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'Anomalies detected': { A: 'anomalies: the demo workload has no anomaly during the test, so resource_anomalies_detected_total has no series' },
  'Anomalies by metric': { A: 'anomalies: resource_anomalies_detected_total has no series without an anomaly' },
  'Prediction accuracy of matured forecasts': { A: 'matured-forecast accuracy: a forecast is scored once its horizon (15 m) has passed; the test runs for seconds' },
  'External-metrics API latency p99': { A: 'external-metrics API: no requests in this test, so the latency histogram has no series' },
};

/**
 * Panels whose data depends on the wall-clock time the test runs at (the demo workload is replayed at
 * the current time of day): they must answer without error, with or without data. Found when a run
 * at 09:43 UTC saw a recommendation change where earlier runs had seen none.
 */
const timeOfDayDependent: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'Scaling actions': { A: 'scaling_actions_total has a series only once a recommendation changes, which the demo does at some times of day and not at others' },
  'Scaling actions by resource': { A: 'the same counter as "Scaling actions"' },
};

const queues = ['batch_processing', 'ml_inference', 'validation', 'failed_claims', 'priority_claims'];
const jobs = 'foresight|foresight-source';

describe.skipIf(!requireBinaries('prometheus'))('dashboard queries against a real Prometheus fed by Foresight', () => {
  const dashboard = loadDashboard();
  let prometheus: PrometheusHandle;
  let replay: Service;
  let fromPrometheus: Service;
  let pkiDir: string;

  beforeAll(async () => {
    pkiDir = mkdtempSync(join(tmpdir(), 'foresight-dashboard-pki-'));
    const [replayPort, sourcePort] = [await getFreePort(), await getFreePort()];
    prometheus = await startPrometheus({
      ruleFiles: [`${root}/rules/recording.rules.yaml`, `${root}/alerts/foresight.rules.yaml`],
      scrapeIntervalSeconds: 1,
      evaluationIntervalSeconds: 1,
      scrapeTargets: [
        { job: 'foresight', targets: [`127.0.0.1:${replayPort}`] },
        { job: 'foresight-source', targets: [`127.0.0.1:${sourcePort}`] },
      ],
    });
    // Two days of history are enough for the daily season and keep the first fit short.
    replay = buildService(
      configFromYaml(`
server: { host: 127.0.0.1, port: ${replayPort} }
source: { type: replay }
forecast: { history: 2d }
scaling: { monitoringInterval: 1s }
snapshot: { maxAge: 5s }
externalMetrics: { host: 127.0.0.1, port: 0, pkiDir: ${pkiDir} }
`),
      // Not in a cluster, whatever the environment says: local mode, nothing to reach. Wall time:
      // Prometheus scrapes this service as it runs.
      { env: {}, clock: systemClock },
    );
    const off = (keys: readonly string[]) => keys.map((k) => `    ${k}: ""`).join('\n');
    fromPrometheus = buildService(
      configFromYaml(`
server: { host: 127.0.0.1, port: ${sourcePort} }
source:
  type: prometheus
  prometheus: { url: ${prometheus.url}, timeout: 5s }
forecast: { history: 2d }
scaling: { monitoringInterval: 1s }
snapshot: { maxAge: 5s }
queries:
  queue:
    depth: 'max(queue_depth_current{job="foresight",queue="{{queue}}"})'
${off(['enqueue_rate_per_second', 'dequeue_rate_per_second', 'wait_avg_seconds', 'wait_max_seconds', 'consumers', 'failed_messages'])}
  system:
${off(['cpu_percent', 'memory_percent', 'disk_io_bytes_per_second', 'network_io_bytes_per_second', 'load1', 'load5', 'load15'])}
  performance:
${off(['response_time_p95_seconds', 'error_rate_percent', 'db_connection_utilization_percent'])}
  replicas:
${off(['worker_processes', 'api_instances', 'batch_processors', 'ml_workers', 'db_connections'])}
`),
      // Reads a live Prometheus: wall time.
      { clock: systemClock },
    );
    await Promise.all([replay.start(), fromPrometheus.start()]);
  });

  afterAll(async () => {
    await Promise.all([replay?.stop(), fromPrometheus?.stop()]);
    await prometheus?.dispose();
    if (pkiDir !== undefined) rmSync(pkiDir, { recursive: true, force: true });
  });

  it('the variables find the jobs, the five queues and the horizon', async () => {
    // Waits for as many values as expected (the first scrapes of the two jobs do not come together).
    const values = async (expr: string, label: string, count: number) => (await prometheus.waitFor(expr, (r) => r.length >= count)).map((s) => s.metric[label]).sort();
    expect(await values('group by (job) (foresight_build_info)', 'job', 2)).toEqual(['foresight', 'foresight-source']);
    expect(await values(`group by (queue) (queue_depth_threshold{job=~"${jobs}"})`, 'queue', queues.length)).toEqual([...queues].sort());
    expect(await values(`group by (horizon) (predicted_queue_depth{job=~"${jobs}"})`, 'horizon', 1)).toEqual(['15m']);
  });

  it('every panel returns data, except the pending ones, which return none (and those that depend on the time of day)', async () => {
    const checks = dataPanels(dashboard).flatMap((panel) =>
      // A repeated panel is drawn once per queue: check each copy with its own queue.
      (panel.repeat === 'queue' ? queues : ['.+']).flatMap((queue) =>
        panel.targets.map((target) => ({
          name: `${panel.title.replace('$queue', queue)} / ${target.refId}`,
          pendingReason: pending[panel.title]?.[target.refId],
          dependsOnTimeOfDay: timeOfDayDependent[panel.title]?.[target.refId] !== undefined,
          expr: substituteVariables(target.expr, { ...intervalVariables, cluster: '.*', namespace: '.*', job: jobs, queue, horizon: '15m' }),
        })),
      ),
    );
    for (const [title, refs] of [...Object.entries(pending), ...Object.entries(timeOfDayDependent)]) {
      for (const refId of Object.keys(refs))
        expect(
          checks.some((c) => c.name === `${title} / ${refId}`),
          `pending entry ${title} / ${refId} matches no target`,
        ).toBe(true);
    }
    // Rates need a few scrapes and the rules a few evaluations: retry (once per scrape interval)
    // until every answer is in. The deadline only bounds a hang (docs/testing.md), far above what
    // a few scrapes take on busy cores.
    const deadline = Date.now() + 120_000;
    let problems: string[] = [];
    for (;;) {
      problems = [];
      for (const check of checks) {
        // prometheus.query rejects on a query error, so every check proves at least that its query runs.
        const result = await prometheus.query(check.expr);
        if (check.dependsOnTimeOfDay) continue;
        const hasData = result.some((sample) => Number.isFinite(sample.value));
        if (check.pendingReason === undefined && !hasData) problems.push(`${check.name} returns no finite value: ${check.expr}`);
        if (check.pendingReason !== undefined && hasData) {
          problems.push(`${check.name} now returns data; remove it from the pending list ("${check.pendingReason}")`);
        }
      }
      if (problems.length === 0 || Date.now() > deadline) break;
      await new Promise((done) => setTimeout(done, 1_000));
    }
    expect(problems).toEqual([]);
    const unchecked = checks.filter((c) => c.pendingReason !== undefined || c.dependsOnTimeOfDay).length;
    expect(checks.length - unchecked).toBeGreaterThan(40);
  });
});
