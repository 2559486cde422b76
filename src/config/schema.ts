import { z } from 'zod';
import { formatDuration } from '../core/index.js';
import { actuationSection } from './schema-actuation.js';
import { anomalySection, decisionsSection, scalingSection } from './schema-decide.js';
import { type forecastModels, forecastSection, mlSection } from './schema-forecast.js';
import { externalMetricsSection, kedaSection } from './schema-publish.js';
import { logLevelSection, serverSection, snapshotSection } from './schema-service.js';
import { queriesSection, queryIssues, queuesSection, sourceSection } from './schema-source.js';
import { ruleSetsSection, workloadIssues, workloadsSection } from './schema-workloads.js';

// The configuration schema, one file per group of sections (schema-*.ts), the tables of defaults in
// schema-defaults.ts; this file composes them and holds the rules that span sections.
export { durationSchema } from './schema-primitives.js';

/** The whole configuration file. Every key is optional; unknown keys are errors. */
export const configSchema = z
  .strictObject({
    server: serverSection,
    logLevel: logLevelSection,
    source: sourceSection,
    queues: queuesSection,
    queries: queriesSection,
    workloads: workloadsSection,
    ruleSets: ruleSetsSection,
    forecast: forecastSection,
    snapshot: snapshotSection,
    scaling: scalingSection,
    actuation: actuationSection,
    externalMetrics: externalMetricsSection,
    keda: kedaSection,
    ml: mlSection,
    anomaly: anomalySection,
    decisions: decisionsSection,
  })
  .superRefine((config, ctx) => {
    // Cross-field rules. Each issue lists the keys it involves in `params.related`, so that an error
    // caused by an environment variable can name that variable even when the issue sits on another key.
    const seen = new Set<string>();
    config.queues.forEach((queue, index) => {
      if (seen.has(queue.name)) ctx.addIssue({ code: 'custom', path: ['queues', index, 'name'], message: `queue "${queue.name}" is listed twice` });
      seen.add(queue.name);
    });
    for (const issue of [...queryIssues(config.queries), ...workloadIssues(config.workloads, config.ruleSets)]) ctx.addIssue({ code: 'custom', ...issue });
    const f = config.forecast;
    if (f.history < 2 * f.season) {
      ctx.addIssue({
        code: 'custom',
        path: ['forecast', 'history'],
        message: `must cover at least two forecast.season cycles (2 × ${formatDuration(f.season)}), got ${formatDuration(f.history)}`,
        params: { related: ['forecast.season'] },
      });
    }
    const seenHorizons = new Set<number>();
    for (const [index, horizon] of f.horizons.entries()) {
      if (horizon % f.step !== 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['forecast', 'horizons', index],
          message: `must be a whole number of forecast.step (${formatDuration(f.step)}), got ${formatDuration(horizon)}`,
          params: { related: ['forecast.step'] },
        });
      }
      // Horizons become label values of published series; a repeated one would publish the same series twice.
      if (seenHorizons.has(horizon)) {
        ctx.addIssue({ code: 'custom', path: ['forecast', 'horizons', index], message: `horizon ${formatDuration(horizon)} is listed twice` });
      }
      seenHorizons.add(horizon);
    }
    if (f.season % f.step !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['forecast', 'season'],
        message: `must be a whole number of forecast.step (${formatDuration(f.step)}), got ${formatDuration(f.season)}`,
        params: { related: ['forecast.step'] },
      });
    }
    // A snapshot is replaced once per cycle; a maximum age below the cycle would report every snapshot stale.
    if (config.snapshot.maxAge <= config.scaling.monitoringInterval) {
      ctx.addIssue({
        code: 'custom',
        path: ['snapshot', 'maxAge'],
        message: `must be longer than scaling.monitoringInterval (${formatDuration(config.scaling.monitoringInterval)}), got ${formatDuration(config.snapshot.maxAge)}`,
        params: { related: ['scaling.monitoringInterval'] },
      });
    }
  });

/** The configuration file as written (before defaults). */
export type ConfigInput = z.input<typeof configSchema>;

/** The validated configuration: every default filled in, every duration in seconds. Deep-frozen once loaded. */
export type Config = z.output<typeof configSchema>;

/** The names of the forecasting models the configuration may choose. */
export type ForecastModelName = (typeof forecastModels)[number];
