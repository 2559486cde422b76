import { describe, expect, test } from 'vitest';
import { configDeprecations, loadConfigFromText } from '../../../src/config/index.js';

function load(text: string | undefined) {
  const result = loadConfigFromText({ text, env: {} });
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

describe('deprecated configuration keys', () => {
  test('ml.maxConcurrentTrainings still loads, and setting it yields one deprecation naming the key', () => {
    const config = load('ml:\n  maxConcurrentTrainings: 4\n');
    expect(config.ml.maxConcurrentTrainings).toBe(4);
    const deprecations = configDeprecations(config);
    expect(deprecations).toHaveLength(1);
    expect(deprecations[0]!.path).toBe('ml.maxConcurrentTrainings');
    expect(deprecations[0]!.message).toMatch(/no effect/);
  });

  test('a configuration that does not set it has no deprecation', () => {
    expect(configDeprecations(load(undefined))).toEqual([]);
    expect(configDeprecations(load('ml:\n  lstm:\n    epochs: 3\n'))).toEqual([]);
  });

  test('an invalid value is still refused, with the key named', () => {
    const result = loadConfigFromText({ text: 'ml:\n  maxConcurrentTrainings: 0\n', env: {} });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/ml\.maxConcurrentTrainings/);
  });
});
