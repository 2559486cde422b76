import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Config } from '../config/index.js';
import { err, ok, type Result, messageOf } from '../core/index.js';
import { buildDecisionPolicy, type DecisionPolicy, formatRulesIssue, parseScalingRules, type PolicySettings } from '../decide/index.js';

/** The decision settings a configuration implies (everything but the rules themselves). */
export function policySettingsOf(config: Config): PolicySettings {
  const c = config;
  return {
    ranges: c.scaling.resources,
    cooldowns: { scaleUpSeconds: c.scaling.cooldowns.scaleUp, scaleDownSeconds: c.scaling.cooldowns.scaleDown, emergencySeconds: c.scaling.cooldowns.emergency },
    tolerance: c.decisions.tolerance,
    stabilization: { scaleUpSeconds: c.decisions.stabilization.scaleUp ?? 0, scaleDownSeconds: c.decisions.stabilization.scaleDown },
    oscillation: { windowSeconds: c.decisions.oscillationWindow, alternatingEvents: 4 },
    reactiveFloor: c.decisions.reactiveFloor,
    useUpperQuantile: c.decisions.useUpperQuantile,
    useForecasts: c.scaling.mlPredictionEnabled,
    minForecastConfidence: c.scaling.predictionConfidenceThreshold,
    forecastHorizonSeconds: c.forecast.horizons[0]!,
  };
}

/**
 * Reads and compiles the scaling rules file of a configuration into a decision policy. A relative
 * `decisions.rulesFile` is resolved against the first of `baseDirs` where it exists (the working
 * directory first, then the package root, so that the shipped default is found from anywhere).
 * Every problem is reported with the file, the rule and the position.
 */
export function loadDecisionPolicy(config: Config, baseDirs: readonly string[]): Result<DecisionPolicy, string> {
  const configured = config.decisions.rulesFile;
  const candidates = isAbsolute(configured) ? [configured] : baseDirs.map((dir) => resolve(dir, configured));
  const file = candidates.find((candidate) => existsSync(candidate)) ?? candidates[0]!;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return err(`${file}: cannot read the scaling rules file: ${messageOf(error)}`);
  }
  const rules = parseScalingRules(text, file);
  if (!rules.ok) return err(rules.error.map(formatRulesIssue).join('\n'));
  const policy = buildDecisionPolicy(rules.value, policySettingsOf(config));
  if (!policy.ok) return err(policy.error.map((message) => `${file}: ${message}`).join('\n'));
  return ok(policy.value);
}

/**
 * The decision policy of the current configuration, rebuilt when the configuration object changes
 * (a reload). A rules file that no longer compiles is reported through `onError` and the previous
 * policy keeps deciding, exactly as an invalid configuration file is refused.
 */
export function createPolicyProvider(config: () => Config, baseDirs: readonly string[], onError: (message: string) => void, onLoaded?: () => void): () => DecisionPolicy | undefined {
  let builtFor: Config | undefined;
  let policy: DecisionPolicy | undefined;
  return () => {
    const current = config();
    if (current !== builtFor) {
      builtFor = current;
      const loaded = loadDecisionPolicy(current, baseDirs);
      if (loaded.ok) {
        policy = loaded.value;
        onLoaded?.();
      } else onError(loaded.error);
    }
    return policy;
  };
}
