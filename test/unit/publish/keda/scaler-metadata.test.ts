import { describe, expect, test } from 'vitest';
import { defaultMetricName, parseScalerMetadata } from '../../../../src/publish/keda/index.js';

const defaults = { horizonSeconds: 900, quantile: '0.5' } as const;

describe('parseScalerMetadata', () => {
  test('reads every key and ignores the keys KEDA adds itself', () => {
    const result = parseScalerMetadata(
      {
        scalerAddress: 'foresight.monitoring:9000',
        enableTLS: 'false',
        unsafeSsl: 'false',
        tlsCertFile: '/certs/client.pem',
        queue: 'orders',
        horizon: '30m',
        quantile: '0.9',
        targetValue: '250',
        activationThreshold: '40.5',
        activationQuantile: '0.5',
        metricName: 'orders-backlog',
      },
      defaults,
    );
    expect(result).toEqual({
      ok: true,
      value: {
        selection: { queue: 'orders', horizonSeconds: 1800, quantile: '0.9' },
        targetValue: 250,
        activationThreshold: 40.5,
        activationQuantile: '0.5',
        metricName: 'orders-backlog',
      },
    });
  });

  test('defaults: horizon and quantile from the caller, activation at p90 above 0, a derived metric name', () => {
    const result = parseScalerMetadata({ queue: 'ml_inference' }, defaults);
    expect(result).toEqual({
      ok: true,
      value: {
        selection: { queue: 'ml_inference', horizonSeconds: 900, quantile: '0.5' },
        targetValue: undefined,
        activationThreshold: 0,
        activationQuantile: '0.9',
        metricName: 'foresight-ml-inference-15m-p50',
      },
    });
  });

  test('reads <key>FromEnv as <key>, since KEDA keeps the key name when it resolves the value', () => {
    const result = parseScalerMetadata({ queueFromEnv: 'orders', targetValueFromEnv: '10' }, defaults);
    expect(result.ok && result.value).toMatchObject({ selection: { queue: 'orders' }, targetValue: 10 });
  });

  const refused: readonly { name: string; metadata: Record<string, string>; message: string }[] = [
    {
      name: 'a misspelt key',
      metadata: { queue: 'q', horizn: '1h' },
      message: 'unknown trigger metadata key "horizn"; Foresight reads queue, horizon, quantile, targetValue, activationThreshold, activationQuantile, metricName (each also as <key>FromEnv)',
    },
    {
      name: 'a TLS authentication parameter in the metadata, where KEDA ignores it',
      metadata: { queue: 'q', caCert: '-----BEGIN CERTIFICATE-----' },
      message: 'metadata.caCert is ignored by KEDA in trigger metadata: give caCert, tlsClientCert, tlsClientKey through a TriggerAuthentication (authenticationRef), see docs/keda.md',
    },
    { name: 'a key given twice', metadata: { queue: 'q', queueFromEnv: 'r' }, message: 'metadata.queue is given twice (as queue and queueFromEnv)' },
    { name: 'no queue', metadata: { targetValue: '5' }, message: 'metadata.queue is required: the name of a configured queue' },
    { name: 'a bad horizon', metadata: { queue: 'q', horizon: '15 minutes' }, message: 'metadata.horizon must be a duration such as "15m" or "1h", got "15 minutes"' },
    { name: 'a target of zero', metadata: { queue: 'q', targetValue: '0' }, message: 'metadata.targetValue must be greater than 0, got "0"' },
    { name: 'a target that is not a number', metadata: { queue: 'q', targetValue: '10k' }, message: 'metadata.targetValue must be a number, got "10k"' },
    { name: 'a negative threshold', metadata: { queue: 'q', activationThreshold: '-1' }, message: 'metadata.activationThreshold must be a number, got "-1"' },
    { name: 'an infinite threshold', metadata: { queue: 'q', activationThreshold: '1e999' }, message: 'metadata.activationThreshold must be a number, got "1e999"' },
    { name: 'an unpublished activation quantile', metadata: { queue: 'q', activationQuantile: '0.99' }, message: 'metadata.activationQuantile must be one of 0.1, 0.5, 0.9, got "0.99"' },
    { name: 'a metric name with capitals', metadata: { queue: 'q', metricName: 'Orders' }, message: 'metadata.metricName must be lower-case letters' },
  ];
  for (const tc of refused) {
    test(`refuses ${tc.name}`, () => {
      const result = parseScalerMetadata(tc.metadata, defaults);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.kind).toBe('invalid_argument');
        expect(result.error.message).toContain(tc.message);
      }
    });
  }
});

describe('defaultMetricName', () => {
  const cases = [
    [{ queue: 'orders', horizonSeconds: 900, quantile: '0.9' }, 'foresight-orders-15m-p90'],
    [{ queue: 'Batch_Processing.v2', horizonSeconds: 5400, quantile: '0.1' }, 'foresight-batch-processing-v2-1h30m-p10'],
  ] as const;
  for (const [selection, name] of cases) test(name, () => expect(defaultMetricName(selection)).toBe(name));
});
