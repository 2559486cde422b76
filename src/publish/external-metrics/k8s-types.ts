/**
 * The Kubernetes wire types the external-metrics API answers with, as JSON shapes. Field names and
 * meanings are those of k8s.io/metrics `external_metrics/v1beta1` and apimachinery `meta/v1`
 * (discovery) and `apidiscovery/v2` (aggregated discovery).
 */

/** The API group served. */
export const externalMetricsGroup = 'external.metrics.k8s.io';
/** The only version of the group (the HPA's client is fixed to it). */
export const externalMetricsVersion = 'v1beta1';
/** `group/version`. */
export const externalMetricsGroupVersion = `${externalMetricsGroup}/${externalMetricsVersion}`;

/** One value of an external metric. */
export interface ExternalMetricValue {
  readonly metricName: string;
  readonly metricLabels: Readonly<Record<string, string>>;
  /** When the value was computed: RFC 3339, UTC, whole seconds. */
  readonly timestamp: string;
  /** Seconds: the value describes `[timestamp − window, timestamp]`. */
  readonly window?: number;
  /** A canonical Kubernetes quantity ("1500m"). */
  readonly value: string;
}

/** The answer to `GET .../namespaces/{ns}/{metric}`. */
export interface ExternalMetricValueList {
  readonly kind: 'ExternalMetricValueList';
  readonly apiVersion: typeof externalMetricsGroupVersion;
  readonly metadata: Readonly<Record<string, never>>;
  readonly items: readonly ExternalMetricValue[];
}

/** One resource in an `APIResourceList`. */
export interface ApiResource {
  readonly name: string;
  readonly singularName: string;
  readonly namespaced: boolean;
  readonly kind: string;
  readonly verbs: readonly string[];
}

/** Legacy discovery of one group/version. */
export interface ApiResourceList {
  readonly kind: 'APIResourceList';
  readonly apiVersion: 'v1';
  readonly groupVersion: string;
  readonly resources: readonly ApiResource[];
}

/** A version of a group, in legacy discovery. */
export interface GroupVersionForDiscovery {
  readonly groupVersion: string;
  readonly version: string;
}

/** Legacy discovery of one group (the body of `/apis/{group}`, and an item of `APIGroupList`). */
export interface ApiGroup {
  readonly kind?: 'APIGroup';
  readonly apiVersion?: 'v1';
  readonly name: string;
  readonly versions: readonly GroupVersionForDiscovery[];
  readonly preferredVersion: GroupVersionForDiscovery;
}

/** Legacy discovery of every group (`/apis`). */
export interface ApiGroupList {
  readonly kind: 'APIGroupList';
  readonly apiVersion: 'v1';
  readonly groups: readonly ApiGroup[];
}

/** Versions of aggregated discovery a client may ask for, newest first. */
export const aggregatedDiscoveryVersions = ['v2', 'v2beta1'] as const;
/** A version of aggregated discovery. */
export type AggregatedDiscoveryVersion = (typeof aggregatedDiscoveryVersions)[number];

/** One resource in aggregated discovery. */
export interface ApiResourceDiscovery {
  readonly resource: string;
  readonly responseKind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly scope: 'Namespaced' | 'Cluster';
  readonly singularResource: string;
  readonly verbs: readonly string[];
}

/** Aggregated discovery of every group (`/apis` with an `as=APIGroupDiscoveryList` Accept). */
export interface ApiGroupDiscoveryList {
  readonly kind: 'APIGroupDiscoveryList';
  readonly apiVersion: `apidiscovery.k8s.io/${AggregatedDiscoveryVersion}`;
  readonly metadata: Readonly<Record<string, never>>;
  readonly items: readonly {
    readonly metadata: { readonly name: string };
    readonly versions: readonly {
      readonly version: string;
      readonly freshness: 'Current' | 'Stale';
      readonly resources: readonly ApiResourceDiscovery[];
    }[];
  }[];
}

/** `/version`, as apimachinery's `version.Info`. */
export interface VersionInfo {
  readonly major: string;
  readonly minor: string;
  readonly gitVersion: string;
  readonly gitCommit: string;
  readonly gitTreeState: string;
  readonly buildDate: string;
  readonly goVersion: string;
  readonly compiler: string;
  readonly platform: string;
}
