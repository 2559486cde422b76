/**
 * Discovery documents of the external-metrics API: what kubectl, the kube-apiserver aggregator and
 * other clients read to learn which group, version and resources this server offers. They are
 * static (the metric names never depend on data), so they are built and serialised once.
 *
 * `/apis` answers in two forms: the legacy `APIGroupList`, and the aggregated
 * `APIGroupDiscoveryList` (apidiscovery.k8s.io v2 or v2beta1) when the Accept header asks for it.
 * The aggregator falls back to legacy discovery on anything but an aggregated content type, so both
 * are correct; aggregated saves kubectl a round trip.
 */
import { externalMetricNames } from './served-metrics.js';
import {
  type AggregatedDiscoveryVersion,
  aggregatedDiscoveryVersions,
  type ApiGroup,
  type ApiGroupDiscoveryList,
  type ApiGroupList,
  type ApiResourceList,
  externalMetricsGroup,
  externalMetricsGroupVersion,
  externalMetricsVersion,
  type VersionInfo,
} from './k8s-types.js';

const groupVersion = { groupVersion: externalMetricsGroupVersion, version: externalMetricsVersion } as const;

/** `/apis/external.metrics.k8s.io`. */
export const apiGroup: ApiGroup = Object.freeze({
  kind: 'APIGroup',
  apiVersion: 'v1',
  name: externalMetricsGroup,
  versions: [groupVersion],
  preferredVersion: groupVersion,
});

/** `/apis` (legacy). */
export const apiGroupList: ApiGroupList = Object.freeze({
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: [{ name: externalMetricsGroup, versions: [groupVersion], preferredVersion: groupVersion }],
});

/** `/apis/external.metrics.k8s.io/v1beta1`: one namespaced resource per metric, as custom-metrics-apiserver lists them. */
export const apiResourceList: ApiResourceList = Object.freeze({
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: externalMetricsGroupVersion,
  resources: externalMetricNames.map((name) => ({ name, singularName: '', namespaced: true, kind: 'ExternalMetricValueList', verbs: ['get'] })),
});

/** `/apis` (aggregated) in the asked version. */
export function aggregatedDiscovery(version: AggregatedDiscoveryVersion): ApiGroupDiscoveryList {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: [
      {
        metadata: { name: externalMetricsGroup },
        versions: [
          {
            version: externalMetricsVersion,
            freshness: 'Current',
            resources: externalMetricNames.map((name) => ({
              resource: name,
              responseKind: { group: externalMetricsGroup, version: externalMetricsVersion, kind: 'ExternalMetricValueList' },
              scope: 'Namespaced',
              singularResource: name,
              verbs: ['get'],
            })),
          },
        ],
      },
    ],
  };
}

/** The Content-Type of aggregated discovery in `version`. */
export function aggregatedContentType(version: AggregatedDiscoveryVersion): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}

/**
 * The aggregated discovery version the Accept header asks for first, or undefined when it asks for
 * plain JSON (or anything else) first. Media ranges are read in order; parameters may be in any
 * order and spaced; `q` values are honoured only by that order, as the apiserver's negotiation does
 * for these clients (they list what they prefer first).
 */
export function negotiateAggregated(accept: string | undefined): AggregatedDiscoveryVersion | undefined {
  if (accept === undefined) return undefined;
  for (const range of accept.split(',')) {
    const [type, ...parameters] = range.split(';').map((part) => part.trim());
    if (type !== 'application/json') {
      // A client that takes any JSON or anything at all is served legacy discovery, which every client reads.
      if (type === '*/*' || type === 'application/*') return undefined;
      continue;
    }
    const params = new Map(parameters.map((p) => p.split('=').map((s) => s.trim()) as [string, string | undefined]));
    if (params.get('as') === undefined && params.get('g') === undefined) return undefined;
    const version = params.get('v');
    if (params.get('g') === 'apidiscovery.k8s.io' && params.get('as') === 'APIGroupDiscoveryList' && (aggregatedDiscoveryVersions as readonly (string | undefined)[]).includes(version)) {
      return version as AggregatedDiscoveryVersion;
    }
  }
  return undefined;
}

/** The version document; `major.minor` is the Kubernetes API level this server's discovery follows. */
export function versionInfo(build: { readonly version: string; readonly revision: string }): VersionInfo {
  return {
    major: '1',
    minor: '32',
    // kubectl's dispatcher picks a client from major/minor; gitVersion still says what answers.
    gitVersion: `v1.32.0-foresight.${build.version.replace(/[^0-9A-Za-z.-]/g, '-')}`,
    gitCommit: build.revision,
    gitTreeState: 'clean',
    buildDate: '1970-01-01T00:00:00Z',
    goVersion: '',
    compiler: 'node',
    platform: `${process.platform}/${process.arch}`,
  };
}

const listSchemaRef = '#/definitions/io.k8s.metrics.pkg.apis.external_metrics.v1beta1.ExternalMetricValueList';

const definitions = {
  'io.k8s.metrics.pkg.apis.external_metrics.v1beta1.ExternalMetricValue': {
    description: 'A metric value for external metric: one value, and the labels that identify it.',
    type: 'object',
    required: ['metricName', 'timestamp', 'value'],
    properties: {
      metricName: { type: 'string', description: 'The name of the metric.' },
      metricLabels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Labels that identify the value.' },
      timestamp: { type: 'string', format: 'date-time', description: 'When the value was computed (the snapshot time).' },
      window: { type: 'integer', format: 'int64', description: 'Seconds: the value describes [timestamp - window, timestamp].' },
      value: { type: 'string', description: 'The value, as a Kubernetes quantity.' },
    },
  },
  'io.k8s.metrics.pkg.apis.external_metrics.v1beta1.ExternalMetricValueList': {
    description: 'A list of values for a given metric for a set of labels.',
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      items: { type: 'array', items: { $ref: '#/definitions/io.k8s.metrics.pkg.apis.external_metrics.v1beta1.ExternalMetricValue' } },
    },
    'x-kubernetes-group-version-kind': [{ group: externalMetricsGroup, version: externalMetricsVersion, kind: 'ExternalMetricValueList' }],
  },
} as const;

/** `/openapi/v2`: a small Swagger 2.0 document of the one read path. */
export function openApiV2(build: { readonly version: string }): unknown {
  const paths = Object.fromEntries(
    externalMetricNames.map((name) => [
      `/apis/${externalMetricsGroupVersion}/namespaces/{namespace}/${name}`,
      {
        get: {
          description: `list values of ${name}`,
          operationId: `listExternalMetrics_${name}`,
          produces: ['application/json'],
          parameters: [
            { name: 'namespace', in: 'path', required: true, type: 'string' },
            { name: 'labelSelector', in: 'query', type: 'string', uniqueItems: true },
          ],
          responses: { '200': { description: 'OK', schema: { $ref: listSchemaRef } }, '401': { description: 'Unauthorized' } },
        },
      },
    ]),
  );
  return { swagger: '2.0', info: { title: 'Foresight external metrics', version: build.version }, paths, definitions };
}

/** `/openapi/v3`: the index of group/version documents, as kube-apiserver serves it. */
export function openApiV3Index(): unknown {
  return { paths: { [`apis/${externalMetricsGroupVersion}`]: { serverRelativeURL: `/openapi/v3/apis/${externalMetricsGroupVersion}` } } };
}

/** `/openapi/v3/apis/external.metrics.k8s.io/v1beta1`: an OpenAPI 3.0 document of the group/version. */
export function openApiV3GroupVersion(build: { readonly version: string }): unknown {
  const v2 = openApiV2(build) as { paths: Record<string, { get: Record<string, unknown> }> };
  const schemas = Object.fromEntries(Object.entries(definitions).map(([name, schema]) => [name, JSON.parse(JSON.stringify(schema).replaceAll('#/definitions/', '#/components/schemas/')) as unknown]));
  const paths = Object.fromEntries(
    Object.entries(v2.paths).map(([path, item]) => [
      path,
      {
        get: {
          description: item.get['description'],
          operationId: item.get['operationId'],
          parameters: [
            { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'labelSelector', in: 'query', schema: { type: 'string' } },
          ],
          responses: {
            '200': { description: 'OK', content: { 'application/json': { schema: { $ref: listSchemaRef.replace('#/definitions/', '#/components/schemas/') } } } },
            '401': { description: 'Unauthorized' },
          },
        },
      },
    ]),
  );
  return { openapi: '3.0.0', info: { title: 'Foresight external metrics', version: build.version }, paths, components: { schemas } };
}
