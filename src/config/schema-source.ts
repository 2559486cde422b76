import { z } from 'zod';
import { compileTemplate, messageOf, resources } from '../core/index.js';
import { defaultQueues, performanceQueryDefaults, queueQueryDefaults, replicaQueryDefaults, systemQueryDefaults } from './schema-defaults.js';
import { duration, queueName } from './schema-primitives.js';

// Sections of the inputs: where series come from, the queues, and the PromQL of every input.

/** A PromQL template; an empty string turns the input off. */
const promql = z.string();
const queueQueryText =
  'PromQL; "{{queue}}" is replaced by the queue name, escaped for a string literal. Without "{{queue}}", one query returns a series per queue, told apart by queries.queueLabel. "" turns it off.';
const seriesQueryText = 'PromQL returning one series. "" turns it off.';

/** Builds a strict object of PromQL templates whose every key defaults to the given query. */
function queryMap<K extends string>(defaults: Record<K, string>, description: string) {
  const shape = Object.fromEntries(Object.entries(defaults).map(([key, query]) => [key, promql.default(query as string).describe(description)]));
  const schema = z.strictObject(shape as Record<K, z.ZodDefault<z.ZodString>>);
  return schema.prefault({} as z.input<typeof schema>);
}

const queueSchema = z.strictObject({
  name: queueName.describe('The queue name, as in the "queue" label of the queue metrics.'),
  threshold: z.number().positive().describe('Queue depth above which the queue counts as overloaded (published as queue_depth_threshold).'),
  resource: z.enum(resources).default('worker_processes').describe('The resource whose replicas drain this queue.'),
});

export const sourceSection = z
  .strictObject({
    type: z.enum(['replay', 'prometheus']).default('replay').describe('Where inputs come from: the bundled replay traces, or Prometheus.'),
    prometheus: z
      .strictObject({
        url: z
          // Only http(s): "prometheus:9090" is a valid URL with the scheme "prometheus:", and a classic slip.
          .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL such as "http://prometheus:9090"' })
          .default('http://127.0.0.1:9090')
          .describe('Base URL of the Prometheus-compatible API (Prometheus, Thanos, Mimir, Cortex).'),
        bearerToken: z.string().optional().describe('Bearer token sent as "Authorization: Bearer ...".'),
        bearerTokenFile: z.string().optional().describe('File to read the bearer token from (re-read on every query, so rotation works).'),
        basicAuth: z
          .strictObject({
            username: z.string().describe('User name.'),
            password: z.string().optional().describe('Password (prefer passwordFile, which keeps it out of the config).'),
            passwordFile: z.string().optional().describe('File to read the password from (re-read on every query).'),
          })
          .optional()
          .describe('HTTP basic authentication.'),
        headers: z.record(z.string(), z.string()).default({}).describe('Extra request headers, e.g. X-Scope-OrgID for Mimir/Cortex tenants.'),
        tls: z
          .strictObject({
            caFile: z
              .string()
              .min(1)
              .optional()
              .describe('PEM file of the CA(s) that sign the server certificate of an https:// url, added to the system CAs (re-read on every read, so a renewed CA works without a restart).'),
          })
          .optional()
          .describe('TLS towards an https:// Prometheus.'),
        timeout: duration.default(10).describe('Timeout of one query.'),
        maxResponseBytes: z
          .number()
          .int()
          .min(1024)
          .default(16 * 1024 * 1024)
          .describe(
            'Largest answer accepted from Prometheus, in bytes (after decompression); a bigger one is cut off while it streams in and counted as query_failed, so a runaway query cannot exhaust memory. 16 MiB holds about 50 series of 10,000 points.',
          ),
        maxPointsPerQuery: z
          .number()
          .int()
          .positive()
          .max(11000)
          .default(10000)
          .describe('Range queries are split so that no series returns more points than this (Prometheus refuses more than 11,000).'),
        gzip: z
          .boolean()
          .default(false)
          .describe(
            'Ask Prometheus for gzip-compressed answers: about 5 times fewer bytes, for more CPU on both ends (measured: 40–70% more in Foresight for the history reads, and Prometheus 2–3 times slower to answer them). Worth it across a slow or metered link; off, answers come uncompressed (Accept-Encoding: identity).',
          ),
        batchMaxQueries: z
          .number()
          .int()
          .positive()
          .max(1000)
          .default(100)
          .describe(
            'At most this many distinct queries are sent in one request (joined with label_replace … or …, split back by a label), for latest values and short history reads; a batch Prometheus refuses is sent again query by query. 1 sends every query alone.',
          ),
      })
      .prefault({})
      .superRefine((p, ctx) => {
        if (p.bearerToken !== undefined && p.bearerTokenFile !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['bearerTokenFile'], message: 'set at most one of bearerToken and bearerTokenFile' });
        }
        if ((p.bearerToken !== undefined || p.bearerTokenFile !== undefined) && p.basicAuth !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['basicAuth'], message: 'set at most one of basicAuth and a bearer token' });
        }
        if (p.basicAuth?.password !== undefined && p.basicAuth.passwordFile !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['basicAuth', 'passwordFile'], message: 'set at most one of password and passwordFile' });
        }
      })
      .describe('How to reach Prometheus (used when source.type is prometheus).'),
    replay: z
      .strictObject({
        dir: z.string().optional().describe('Folder of CSV traces (timestamp,value) named after input keys; default: the bundled demo workload.'),
        speed: z.number().positive().default(1).describe('Replay speed: 1 plays the trace in real time.'),
      })
      .prefault({})
      .describe('The recorded traces played when source.type is replay.'),
  })
  .prefault({})
  .describe('Where the input series come from.');

export const queuesSection = z
  .array(queueSchema)
  .min(1)
  .default(defaultQueues.map((q) => ({ ...q })))
  .describe('The queues to watch; a list replaces the five default queues as a whole.');

export const queriesSection = z
  .strictObject({
    queueLabel: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a Prometheus label name')
      .default('queue')
      .describe('Label that names the queue in results of templates without "{{queue}}" (one query serves all queues).'),
    queue: queryMap(queueQueryDefaults, queueQueryText).describe('Per-queue inputs (RabbitMQ exporter names by default).'),
    system: queryMap(systemQueryDefaults, seriesQueryText).describe('Node-level inputs (node_exporter by default).'),
    performance: queryMap(performanceQueryDefaults, seriesQueryText).describe('Service-level inputs.'),
    replicas: queryMap(replicaQueryDefaults, seriesQueryText).describe('Current replicas (or pool size) of each resource, from kube-state-metrics by default.'),
  })
  .prefault({})
  .describe('PromQL templates for every input; set one to "" to turn that input off.');

type QueriesConfig = z.output<typeof queriesSection>;

/**
 * The templates of `queries` that the Prometheus source would refuse: a placeholder outside a quoted
 * string, an unknown one, `{{queue}}` outside a queue template. Checked when the configuration loads,
 * so that a bad template is refused (on reload the previous configuration keeps running) instead of
 * failing every cycle.
 */
export function queryIssues(queries: QueriesConfig): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const { queueLabel: _, ...groups } = queries;
  for (const [group, byName] of Object.entries(groups)) {
    for (const [name, template] of Object.entries<string>(byName)) {
      const path = ['queries', group, name];
      try {
        if (compileTemplate(template).usesQueue && group !== 'queue') issues.push({ path, message: 'only queue templates may use {{queue}}' });
      } catch (error) {
        issues.push({ path, message: messageOf(error) });
      }
    }
  }
  return issues;
}
