import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPolicyProvider, loadDecisionPolicy } from '../../../src/engine/index.js';
import { configFromYaml } from '../../support/service.js';
import { policySettingsOf } from '../../../src/engine/policy-loader.js';
import { defaultForecastQuantile } from '../../../src/simulate/index.js';

const repoRoot = new URL('../../..', import.meta.url).pathname;

describe('the default decision path', () => {
  it('sizes for the benchmark\'s calibrated quantile, with no confidence gate; "model" restores the model\'s p90 and the gate', () => {
    const defaults = configFromYaml('');
    // foresight simulate and bench:scaling run the same quantile as the service's default.
    expect(defaults.decisions.forecastQuantile).toBe(defaultForecastQuantile);
    expect(policySettingsOf(defaults).minForecastConfidence).toBe(0);
    const model = configFromYaml('decisions: { forecastQuantile: model }\nscaling: { predictionConfidenceThreshold: 0.8 }');
    expect(model.decisions.forecastQuantile).toBe('model');
    expect(policySettingsOf(model).minForecastConfidence).toBe(0.8);
    expect(() => configFromYaml('decisions: { forecastQuantile: 1.2 }')).toThrow(/forecastQuantile/);
  });
});

describe('loadDecisionPolicy', () => {
  it('finds the shipped rules from the package root and applies the configured ranges', () => {
    const config = configFromYaml('scaling: { resources: { worker_processes: { min: 3, max: 12 } } }');
    const loaded = loadDecisionPolicy(config, [join(tmpdir(), 'nowhere'), repoRoot]);
    expect(loaded.ok && loaded.value.ranges.worker_processes).toEqual({ min: 3, max: 12 });
    expect(loaded.ok && loaded.value.cooldowns).toEqual({ scaleUpSeconds: 180, scaleDownSeconds: 600, emergencySeconds: 60 });
  });

  it('names the file, the rule and the position of a bad condition, and a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'foresight-rules-'));
    writeFileSync(
      join(dir, 'bad.yaml'),
      'scaling_rules:\n  worker_processes:\n    scale_up:\n      - name: broken\n        condition: "queue_depth >> 3"\n        scaling_factor: 2\n        cooldown_minutes: 1\n        priority: 1\n',
    );
    const bad = loadDecisionPolicy(configFromYaml('decisions: { rulesFile: bad.yaml }'), [dir]);
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error).toContain('bad.yaml');
      expect(bad.error).toContain('broken');
    }
    const missing = loadDecisionPolicy(configFromYaml('decisions: { rulesFile: absent.yaml }'), [dir]);
    expect(!missing.ok && missing.error).toMatch(/absent\.yaml: cannot read the scaling rules file/);
  });

  it('keeps the previous policy when a reloaded configuration points at broken rules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'foresight-rules-'));
    writeFileSync(join(dir, 'bad.yaml'), 'scaling_rules: [');
    let config = configFromYaml('');
    const errors: string[] = [];
    const policy = createPolicyProvider(
      () => config,
      [repoRoot, dir],
      (message) => errors.push(message),
    );
    const first = policy();
    expect(first).toBeDefined();
    config = configFromYaml('decisions: { rulesFile: bad.yaml }');
    expect(policy()).toBe(first);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('bad.yaml');
  });
});
