import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Config } from '../config/index.js';
import { err, ok, type Result, messageOf } from '../core/index.js';
import type { WorkloadPolicies } from './workload-decisions.js';
import { ruleSetOf } from './workload-queues.js';
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
    // A calibrated quantile widens its reserve when forecasts are poor, so it needs no gate; the
    // gate stays for the model's own p90 (bench:scaling: gated, the tweet traces lose their forecasts).
    minForecastConfidence: c.decisions.forecastQuantile === 'model' ? c.scaling.predictionConfidenceThreshold : 0,
    forecastHorizonSeconds: c.forecast.horizons[0]!,
  };
}

/**
 * Reads and compiles the scaling rules file of a configuration into a decision policy. A relative
 * `decisions.rulesFile` is resolved against the first of `baseDirs` where it exists (the working
 * directory first, then the package root, so that the shipped default is found from anywhere).
 * Every problem is reported with the file, the rule and the position.
 */
export function loadDecisionPolicy(config: Config, baseDirs: readonly string[], configured = config.decisions.rulesFile, settings = policySettingsOf(config)): Result<DecisionPolicy, string> {
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
  const policy = buildDecisionPolicy(rules.value, settings);
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

/**
 * The decision policy of every configured workload: its rule set's file (decisions.rulesFile when it
 * has none), with the workload's minReplicas/maxReplicas as the range of the rule set's profile.
 * Rebuilt on reload; when any rule set no longer compiles, `onError` hears it and the previous
 * policies keep deciding.
 */
export function createWorkloadPolicyProvider(config: () => Config, baseDirs: readonly string[], onError: (message: string) => void, onLoaded?: () => void): () => WorkloadPolicies | undefined {
  let builtFor: Config | undefined;
  let policies: WorkloadPolicies | undefined;
  return () => {
    const current = config();
    if (current === builtFor) return policies;
    builtFor = current;
    const built = new Map<string, DecisionPolicy>();
    const problems: string[] = [];
    for (const w of current.workloads) {
      const ruleSet = ruleSetOf(current, w);
      const profile = ruleSet?.profile ?? 'worker_processes';
      const settings = { ...policySettingsOf(current), ranges: { [profile]: { min: w.minReplicas, max: w.maxReplicas } } };
      const loaded = loadDecisionPolicy(current, baseDirs, ruleSet?.file ?? current.decisions.rulesFile, settings);
      if (loaded.ok) built.set(`${w.namespace}/${w.name}`, loaded.value);
      else problems.push(`workload ${w.namespace}/${w.name}: ${loaded.error}`);
    }
    if (problems.length > 0) onError(problems.join('\n'));
    else {
      policies = (w) => built.get(`${w.namespace}/${w.name}`);
      onLoaded?.();
    }
    return policies;
  };
}
