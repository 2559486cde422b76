import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPolicyProvider, loadDecisionPolicy } from '../../../src/engine/index.js';
import { configFromYaml } from '../../support/service.js';

const repoRoot = new URL('../../..', import.meta.url).pathname;

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
