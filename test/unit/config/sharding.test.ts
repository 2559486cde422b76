import { describe, expect, test } from 'vitest';
import { loadConfigFromText } from '../../../src/config/index.js';

const workloads = 'workloads:\n  - { name: worker, namespace: shop, queues: [{ name: orders }] }\n';

function refusal(text: string, env: Readonly<Record<string, string>> = {}): string {
  const result = loadConfigFromText({ text, file: 'config.yaml', env });
  if (result.ok) throw new Error('expected the config to be refused');
  return result.error.message;
}

function loaded(text: string, env: Readonly<Record<string, string>> = {}) {
  const result = loadConfigFromText({ text, file: 'config.yaml', env });
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

describe('sharding configuration', () => {
  test('one replica by default, no index needed', () => {
    expect(loaded('').sharding).toMatchObject({ replicas: 1, readBack: { labels: {} } });
  });

  test('several replicas need an index below the count, from the file or SCALING_SHARD_INDEX (a number or a StatefulSet pod name)', () => {
    const text = `source: { type: prometheus }\n${workloads}sharding: { replicas: 3 }\n`;
    expect(refusal(text)).toMatch(/sharding\.index.*is required with 3 replicas/s);
    expect(refusal(`${text.replace('replicas: 3', 'replicas: 3, index: 3')}`)).toMatch(/sharding\.index.*must be below sharding\.replicas \(3\), got 3/s);
    expect(loaded(text, { SCALING_SHARD_INDEX: 'foresight-2' }).sharding.index).toBe(2);
    expect(loaded(text, { SCALING_SHARD_INDEX: '1' }).sharding.index).toBe(1);
    expect(refusal(text, { SCALING_SHARD_INDEX: 'foresight-7d9f-x2k4q' })).toMatch(/SCALING_SHARD_INDEX.*StatefulSet pod name/s);
    expect(refusal(text, { SCALING_SHARD_INDEX: 'foresight-5' })).toMatch(/must be below sharding\.replicas \(3\), got 5/);
  });

  test('several replicas need workloads, and a Prometheus to read each other back from', () => {
    expect(refusal('source: { type: prometheus }\nsharding: { replicas: 2, index: 0 }\n')).toMatch(/sharding\.replicas.*needs workloads/s);
    expect(refusal(`${workloads}sharding: { replicas: 2, index: 0 }\n`)).toMatch(/sharding\.readBack\.url.*required when the source is not Prometheus/s);
    expect(loaded(`${workloads}sharding: { replicas: 2, index: 1, readBack: { url: "http://thanos:9090" } }\n`).sharding.readBack.url).toBe('http://thanos:9090');
  });

  test('read-back matchers must be label names', () => {
    expect(refusal(`source: { type: prometheus }\n${workloads}sharding: { replicas: 2, index: 0, readBack: { labels: { "bad-name": x } } }\n`)).toMatch(
      /sharding\.readBack\.labels\["bad-name"\]: Invalid key/,
    );
  });
});
