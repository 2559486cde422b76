import { describe, expect, test } from 'vitest';
import { createActuator, type KubeEnvironment } from '../../../src/actuate/index.js';
import { KubernetesApiError, toApiError } from '../../../src/actuate/kubernetes.js';
import { ManualClock } from '../../support/manual-clock.js';
import { ManualTimers } from '../../support/manual-timers.js';
import { configFromYaml } from '../../support/service.js';
import { captureLogger } from './capture-logger.js';
import { CountingMetrics, decision, snapshotWith } from './fixtures.js';

/** A process with no cluster anywhere. */
const nowhere: KubeEnvironment = { env: {}, homeDir: '/nonexistent', rootDir: '/nonexistent', exists: () => false, readFile: () => '' };

function build(dryRun: boolean) {
  const clock = new ManualClock();
  const log = captureLogger();
  const metrics = new CountingMetrics();
  const config = configFromYaml(`actuation: { enabled: true, dryRun: ${dryRun}, targets: { worker_processes: { name: worker, namespace: shop } } }`);
  const actuator = createActuator({ config: () => config, clock, logger: log.logger, metrics, environment: nowhere, timers: new ManualTimers(clock) });
  return { actuator, log, metrics };
}

describe('createActuator without a cluster', () => {
  test('a dry run still logs and counts, as the only replica', async () => {
    const t = build(true);
    await t.actuator.start();
    await t.actuator.apply(snapshotWith([decision('worker_processes', 3, 8)]));
    expect(t.metrics.all()).toEqual({ 'worker_processes/dry_run': 1 });
    expect(t.actuator.status()).toMatchObject({ mode: 'dry_run', leader: true });
    expect(t.log.messages(40)).toEqual(['no Kubernetes API for the dry run: acting as the only replica, without leader election']);
    await t.actuator.stop();
    expect(t.actuator.status().leader).toBe(false);
  });

  test('a live run stays off, with one error line naming why', async () => {
    const t = build(false);
    await t.actuator.start();
    await t.actuator.apply(snapshotWith([decision('worker_processes', 3, 8)]));
    expect(t.metrics.all()).toEqual({});
    expect(t.actuator.status().mode).toBe('off');
    const errors = t.log.lines.filter((l) => l.level >= 50);
    expect(errors.map((l) => l.msg)).toEqual(['actuation is enabled but no Kubernetes API is reachable; actuation stays off']);
    expect(String(errors[0]?.['reason'])).toContain('no KUBECONFIG');
  });

  test('the constructor does nothing: no log, no connection, before start()', () => {
    const t = build(true);
    expect(t.log.lines).toEqual([]);
    expect(t.actuator.status()).toMatchObject({ mode: 'off', connection: 'not started' });
  });
});

describe('toApiError', () => {
  const cases: readonly { name: string; error: unknown; message: string; status: number | undefined; reason: string | undefined }[] = [
    {
      name: 'a Status body keeps its reason and message',
      error: Object.assign(new Error('HTTP-Code: 403 ...headers...'), { code: 403, body: JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'cannot patch deployments/scale' }) }),
      message: 'PATCH x: HTTP 403 Forbidden: cannot patch deployments/scale',
      status: 403,
      reason: 'Forbidden',
    },
    {
      name: 'a non-JSON body is quoted, shortened',
      error: { code: 502, body: `<html>${'x'.repeat(500)}</html>` },
      message: `PATCH x: HTTP 502 <html>${'x'.repeat(194)}`,
      status: 502,
      reason: undefined,
    },
    {
      name: 'no answer at all keeps the cause message',
      error: new Error('connect ECONNREFUSED 127.0.0.1:1'),
      message: 'PATCH x: connect ECONNREFUSED 127.0.0.1:1',
      status: undefined,
      reason: undefined,
    },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const error = toApiError('PATCH x', tc.error);
      expect(error).toBeInstanceOf(KubernetesApiError);
      expect({ message: error.message, status: error.status, reason: error.reason }).toEqual({ message: tc.message, status: tc.status, reason: tc.reason });
      expect(error.cause).toBe(tc.error);
    });
  }
});
