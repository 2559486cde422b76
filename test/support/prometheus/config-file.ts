// The prometheus.yml of a test Prometheus: scrape jobs, rule files and the Alertmanager to notify.
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULTS, type StartPrometheusOptions } from './options.js';

/** host:port, scheme and path prefix of an Alertmanager URL, for `alerting.alertmanagers`. */
function alertmanagerConfig(url: string): Record<string, unknown> {
  const parsed = new URL(url);
  const config: Record<string, unknown> = {
    scheme: parsed.protocol.replace(/:$/, ''),
    static_configs: [{ targets: [parsed.host] }],
  };
  if (parsed.pathname !== '/' && parsed.pathname !== '') config['path_prefix'] = parsed.pathname;
  return config;
}

/** The prometheus.yml for these options. Rule paths are made absolute: Prometheus resolves them against the config's dir. */
export function renderConfig(options: StartPrometheusOptions): string {
  const config: Record<string, unknown> = {
    global: {
      scrape_interval: `${options.scrapeIntervalSeconds ?? DEFAULTS.scrapeIntervalSeconds}s`,
      evaluation_interval: `${options.evaluationIntervalSeconds ?? DEFAULTS.evaluationIntervalSeconds}s`,
    },
  };
  if (options.ruleFiles !== undefined && options.ruleFiles.length > 0) {
    config['rule_files'] = options.ruleFiles.map((file) => resolve(file));
  }
  if (options.alertmanagerUrl !== undefined) {
    config['alerting'] = { alertmanagers: [alertmanagerConfig(options.alertmanagerUrl)] };
  }
  if (options.scrapeTargets !== undefined && options.scrapeTargets.length > 0) {
    config['scrape_configs'] = options.scrapeTargets.map((job) => ({
      job_name: job.job,
      ...(job.scrapeIntervalSeconds === undefined ? {} : { scrape_interval: `${job.scrapeIntervalSeconds}s` }),
      ...(job.metricsPath === undefined ? {} : { metrics_path: job.metricsPath }),
      static_configs: [{ targets: [...job.targets] }],
    }));
  }
  return stringify(config);
}
