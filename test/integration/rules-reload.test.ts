/**
 * Issue 10 item 6: a refused scaling-rules reload shows in a metric and in /scaling/status, not only
 * in the log. The real service listening on 127.0.0.1, real rules files; the source is a replay
 * fake (the rules are what is under test), cycles and clock driven by hand.
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Service } from '../../src/app/index.js';
import type { Config } from '../../src/config/index.js';
import { FakeSource } from '../support/fake-source.js';
import { ManualClock } from '../support/manual-clock.js';
import { ManualTimers } from '../support/manual-timers.js';
import { buildService, configFromYaml } from '../support/service.js';

let dir: string;
let service: Service;
let config: Config;
const clock = new ManualClock(Date.UTC(2026, 10, 2, 12, 0, 20));
const yaml = (rulesFile: string) => `
server: { host: 127.0.0.1, port: 0 }
queues: [{ name: orders, threshold: 100, resource: worker_processes }]
decisions: { rulesFile: ${rulesFile} }
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'foresight-rules-'));
  await copyFile(join(process.cwd(), 'rules', 'scaling.rules.yaml'), join(dir, 'good.yaml'));
  await writeFile(join(dir, 'bad.yaml'), 'rules:\n  - name: broken\n    when: "queue_depth >"\n');
  config = configFromYaml(yaml(join(dir, 'good.yaml')));
  const source = new FakeSource().set({ kind: 'queue', queue: 'orders', metric: 'depth' }, [{ timestampMs: clock.nowMs() - 60_000, value: 10 }]);
  service = buildService(config, { clock, source, timers: new ManualTimers(clock), config: () => config });
  await service.start();
});
afterAll(async () => {
  await service?.stop();
  await rm(dir, { recursive: true, force: true });
});

const rulesView = async () => ((await (await fetch(`${service.url}/scaling/status`)).json()) as { scaling: { rules: Record<string, unknown> } }).scaling.rules;
const gauge = async () => (await (await fetch(`${service.url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('foresight_scaling_rules_last_reload_successful '));

test('a refused rules reload shows in foresight_scaling_rules_last_reload_successful and /scaling/status; a fixed one clears both', async () => {
  await service.reconciler.runCycle();
  expect(await rulesView()).toEqual({ file: join(dir, 'good.yaml'), loaded: true, refusedAt: null, lastError: null });
  expect(await gauge()).toEqual(['foresight_scaling_rules_last_reload_successful 1']);

  config = configFromYaml(yaml(join(dir, 'bad.yaml')));
  clock.advance(30);
  await service.reconciler.runCycle(); // the previous rules keep deciding: the cycle succeeds
  expect(await rulesView()).toEqual({
    file: join(dir, 'bad.yaml'),
    loaded: false,
    refusedAt: new Date(clock.nowMs()).toISOString(),
    lastError: expect.stringContaining(join(dir, 'bad.yaml')),
  });
  expect(await gauge()).toEqual(['foresight_scaling_rules_last_reload_successful 0']);

  config = configFromYaml(yaml(join(dir, 'good.yaml')));
  clock.advance(30);
  await service.reconciler.runCycle();
  expect(await rulesView()).toMatchObject({ loaded: true, lastError: null });
  expect(await gauge()).toEqual(['foresight_scaling_rules_last_reload_successful 1']);
});
