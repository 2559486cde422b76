// Module config: the configuration file and environment variables, validated and frozen.
// Owns: the schema (schema.ts composing schema-*.ts), loading, environment overrides, hot reload,
// secret redaction and the generated key reference.
// May import: core (values); types only from the domain modules.
export * from './schema.js';
export { ConfigError, describeConfigError, formatConfigIssue, isConfigError, type ConfigIssue, type ConfigIssueCode } from './config-error.js';
export { loadConfig, loadConfigFromText, type Environment, type LoadConfigOptions, type LoadConfigTextOptions } from './load.js';
export { applyEnvironment, environmentVariables, type AppliedOverride, type EnvironmentResult, type EnvironmentVariable } from './env.js';
export { ConfigWatcher, type ConfigListener, type ConfigWatcherOptions } from './watch.js';
export { configKeyReference, renderConfigKeysMarkdown, renderEnvironmentMarkdown, type ConfigKeyReference } from './reference.js';
export { isSecretConfigPath, redactConfig, redacted, secretConfigPaths } from './redact.js';
export { defaultWorkloadQueries, workloadKinds, workloadPlaceholders, type RuleSetConfig, type WorkloadConfig, type WorkloadKind } from './schema-workloads.js';
