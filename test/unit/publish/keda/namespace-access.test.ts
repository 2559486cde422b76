import { describe, expect, test } from 'vitest';
import type { ExposureRule } from '../../../../src/publish/external-metrics/index.js';
import { createQueueExposure } from '../../../../src/publish/keda/index.js';

const rule = (namespaces: string[], queues: string[]): ExposureRule => ({ namespaces, queues, resources: [], systemMetrics: false });

describe('createQueueExposure (externalMetrics.exposure for ScaledObject namespaces)', () => {
  test('without rules every namespace reads every queue', () => {
    const check = createQueueExposure(() => []);
    expect(check('shop', 'orders')).toBeUndefined();
    expect(check('', 'anything')).toBeUndefined();
  });

  test('with rules a namespace reads what its rules allow, and nothing when no rule names it', () => {
    const rules = [rule(['shop'], ['orders', 'orders-*']), rule(['claims-*'], ['claims.*'])];
    const check = createQueueExposure(() => rules);
    expect(check('shop', 'orders')).toBeUndefined();
    expect(check('shop', 'orders-eu')).toBeUndefined();
    expect(check('claims-eu', 'claims.high')).toBeUndefined();
    expect(check('shop', 'claims.high')).toEqual({
      kind: 'permission_denied',
      message: 'namespace "shop" may not read queue "claims.high": no rule of externalMetrics.exposure allows it',
    });
    expect(check('billing', 'orders')?.message).toBe('namespace "billing" may not read queue "orders": no rule of externalMetrics.exposure allows it');
  });

  test('follows a configuration reload: new rules apply from the next call', () => {
    let rules: readonly ExposureRule[] = [rule(['shop'], ['orders'])];
    const check = createQueueExposure(() => rules);
    expect(check('billing', 'orders')?.kind).toBe('permission_denied');
    rules = [rule(['shop', 'billing'], ['orders'])];
    expect(check('billing', 'orders')).toBeUndefined();
    rules = [];
    expect(check('anyone', 'anything')).toBeUndefined();
  });
});
