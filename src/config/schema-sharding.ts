import { z } from 'zod';
import { duration } from './schema-primitives.js';

// Several replicas, each forecasting its own share of the workloads (docs/sharding.md).

const labelName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a Prometheus label name');

export const shardingSection = z
  .strictObject({
    replicas: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe('How many replicas share the workloads; above 1 each replica forecasts and decides only the workloads a stable hash gives it, and reads the others back from Prometheus.'),
    index: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('This replica\'s shard, 0 to replicas − 1; default SCALING_SHARD_INDEX (a number, or a StatefulSet pod name such as "foresight-2" for its ordinal).'),
    readBack: z
      .strictObject({
        url: z
          .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL such as "http://thanos-query:9090"' })
          .optional()
          .describe("Prometheus-compatible API holding every replica's published series (Prometheus, Thanos Query, Mimir); default source.prometheus.url, with its authentication."),
        labels: z
          .record(labelName, z.string())
          .default({})
          .describe(
            'Label matchers added to every read-back query (e.g. { job: foresight }), so that another installation publishing the same names in the same store is not read; values are escaped.',
          ),
        maxAge: duration.optional().describe('A read-back value whose sample is older than this is not served; default snapshot.maxAge.'),
      })
      .prefault({})
      .describe("How a replica reads the other replicas' published values back."),
  })
  .prefault({})
  .describe('Sharding the workloads across replicas (a StatefulSet; docs/sharding.md). Default one replica that forecasts everything.');

/** The issues of the sharding section against the rest of the configuration. */
export function shardingIssues(config: {
  readonly sharding: z.output<typeof shardingSection>;
  readonly workloads: readonly unknown[];
  readonly source: { readonly type: string };
}): { path: (string | number)[]; message: string; params?: { related: string[] } }[] {
  const { replicas, index, readBack } = config.sharding;
  if (replicas === 1)
    return index !== undefined && index > 0
      ? [{ path: ['sharding', 'index'], message: `must be 0 with one replica (sharding.replicas), got ${index}`, params: { related: ['sharding.replicas'] } }]
      : [];
  const issues: { path: (string | number)[]; message: string; params?: { related: string[] } }[] = [];
  if (index === undefined) {
    issues.push({
      path: ['sharding', 'index'],
      message: `is required with ${replicas} replicas: set it, or SCALING_SHARD_INDEX (the chart sets it to the StatefulSet pod name, whose ordinal is the index)`,
      params: { related: ['sharding.replicas'] },
    });
  } else if (index >= replicas) {
    issues.push({ path: ['sharding', 'index'], message: `must be below sharding.replicas (${replicas}), got ${index}`, params: { related: ['sharding.replicas'] } });
  }
  if (config.workloads.length === 0) {
    issues.push({
      path: ['sharding', 'replicas'],
      message: 'above 1 needs workloads: the shards are made of workloads (the seed queues are one cluster-wide set)',
      params: { related: ['workloads'] },
    });
  }
  if (config.source.type !== 'prometheus' && readBack.url === undefined) {
    issues.push({
      path: ['sharding', 'readBack', 'url'],
      message: "is required when the source is not Prometheus: the replicas read each other's values back from a Prometheus-compatible store",
      params: { related: ['source.type', 'sharding.replicas'] },
    });
  }
  return issues;
}
