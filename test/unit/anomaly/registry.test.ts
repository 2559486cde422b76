import { describe, expect, it } from 'vitest';
import { createDetector, defaultDetectorName, detectorNames, isDetectorName } from '../../../src/anomaly/index.js';
import type { DetectorName } from '../../../src/anomaly/index.js';
import { configSchema } from '../../../src/config/index.js';
import type { Config } from '../../../src/config/index.js';

describe('the registry', () => {
  it('lists every detector once, with the adaptive one as the default', () => {
    expect([...detectorNames]).toEqual(['zscore', 'mad', 'seasonal', 'adaptive']);
    expect(defaultDetectorName).toBe('adaptive');
    expect(isDetectorName('adaptive')).toBe(true);
    expect(isDetectorName('prophet')).toBe(false);
    expect(createDetector('prophet')).toBeUndefined();
    for (const name of detectorNames) expect(createDetector(name).name).toBe(name);
  });
});

describe('the configuration', () => {
  it('accepts exactly the registered detector names (type level and at run time)', () => {
    type Configured = Config['anomaly']['detector'];
    const same: [Configured] extends [DetectorName] ? ([DetectorName] extends [Configured] ? true : false) : false = true;
    expect(same).toBe(true);
    const parsed = configSchema.parse({});
    expect(parsed.anomaly).toEqual({
      detector: 'adaptive',
      thresholds: { cpu: 2.5, memory: 2, queue_depth: 3, response_time: 2.5, error_rate: 4 },
      baselineWindow: 86400,
    });
    for (const name of detectorNames) expect(configSchema.parse({ anomaly: { detector: name } }).anomaly.detector).toBe(name);
    expect(configSchema.safeParse({ anomaly: { detector: 'prophet' } }).success).toBe(false);
    expect(configSchema.safeParse({ anomaly: { thresholds: { cpu: 0 } } }).success).toBe(false);
  });
});
