import { describe, expect, it } from 'vitest';
import { guardAnomalies } from '../../../../src/decide/stages/anomaly-guard.js';
import { draft, policy } from './helpers.js';

describe('anomaly guard', () => {
  it.each([
    ['scale-down during a critical anomaly is held', 2, 1, true, 4],
    ['scale-up during a critical anomaly goes ahead', 6, 1, true, 6],
    ['scale-down without anomalies goes ahead', 2, 0, true, 2],
    ['the guard can be switched off', 2, 3, false, 2],
  ] as const)('%s', (_what, replicas, critical, enabled, expected) => {
    const out = guardAnomalies(draft({ replicas }), critical, policy({ holdScaleDownOnCriticalAnomaly: enabled }));
    expect(out.replicas).toBe(expected);
    expect(out.reasons.includes('anomaly_hold')).toBe(expected !== replicas);
  });
});
