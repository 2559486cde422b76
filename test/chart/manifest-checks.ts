/**
 * Checks on rendered manifests: schema validation with kubernetes-models (the OpenAPI schemas of
 * Kubernetes and prometheus-operator), plus the checks those schemas do not make: unknown fields in
 * the parts the chart writes, and references between objects.
 */
import { APIService } from 'kubernetes-models/apiregistration.k8s.io/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { z } from 'zod';
import type { Manifest } from './helm-lite.js';
import { messageOf } from '../../src/core/index.js';

/** Throws with the schema's message when the object is invalid. */
type Validate = (manifest: unknown) => void;

// cert-manager publishes no kubernetes-models package; these zod schemas hold the fields the chart writes.
const certManagerMeta = z.strictObject({ name: z.string().min(1), namespace: z.string().min(1), labels: z.record(z.string(), z.string()) });
// Issuer: a self-signed one, or a CA Issuer backed by a CA Certificate's Secret (cert-manager.io/v1).
const issuerSchema = z.strictObject({
  apiVersion: z.literal('cert-manager.io/v1'),
  kind: z.literal('Issuer'),
  metadata: certManagerMeta,
  spec: z.union([z.strictObject({ selfSigned: z.strictObject({}) }), z.strictObject({ ca: z.strictObject({ secretName: z.string().min(1) }) })]),
});
const goDuration = z.string().regex(/^(\d+(ms|s|m|h))+$/);
// cert-manager's KeyUsage values (the ones a serving certificate may name).
const keyUsage = z.enum([
  'signing',
  'digital signature',
  'content commitment',
  'key encipherment',
  'key agreement',
  'data encipherment',
  'cert sign',
  'crl sign',
  'encipher only',
  'decipher only',
  'any',
  'server auth',
  'client auth',
]);
const certificateSchema = z.strictObject({
  apiVersion: z.literal('cert-manager.io/v1'),
  kind: z.literal('Certificate'),
  metadata: certManagerMeta,
  spec: z.strictObject({
    isCA: z.boolean().optional(),
    secretName: z.string().min(1),
    duration: goDuration,
    renewBefore: goDuration.optional(),
    privateKey: z
      .strictObject({
        rotationPolicy: z.enum(['Never', 'Always']).optional(),
        algorithm: z.enum(['RSA', 'ECDSA', 'Ed25519']).optional(),
        size: z.number().int().optional(),
        encoding: z.enum(['PKCS1', 'PKCS8']).optional(),
      })
      .optional(),
    usages: z.array(keyUsage).optional(),
    commonName: z.string().min(1).max(64),
    dnsNames: z.array(z.string().min(1)).min(1).optional(),
    issuerRef: z.strictObject({ name: z.string().min(1), kind: z.enum(['Issuer', 'ClusterIssuer']), group: z.literal('cert-manager.io').optional() }),
  }),
});

const zodValidate =
  (schema: z.ZodType): Validate =>
  (manifest) => {
    const result = schema.safeParse(manifest);
    if (!result.success) throw new Error(z.prettifyError(result.error));
  };

/** The validator of every kind the chart and the examples may produce, by "apiVersion/kind". */
export const validators: Readonly<Record<string, Validate>> = {
  'apps/v1/Deployment': (m) => new Deployment(m as ConstructorParameters<typeof Deployment>[0]).validate(),
  'apps/v1/StatefulSet': (m) => new StatefulSet(m as ConstructorParameters<typeof StatefulSet>[0]).validate(),
  'v1/Service': (m) => new Service(m as ConstructorParameters<typeof Service>[0]).validate(),
  'v1/ServiceAccount': (m) => new ServiceAccount(m as ConstructorParameters<typeof ServiceAccount>[0]).validate(),
  'v1/ConfigMap': (m) => new ConfigMap(m as ConstructorParameters<typeof ConfigMap>[0]).validate(),
  'v1/Secret': (m) => new Secret(m as ConstructorParameters<typeof Secret>[0]).validate(),
  'rbac.authorization.k8s.io/v1/ClusterRole': (m) => new ClusterRole(m as ConstructorParameters<typeof ClusterRole>[0]).validate(),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': (m) => new ClusterRoleBinding(m as ConstructorParameters<typeof ClusterRoleBinding>[0]).validate(),
  'rbac.authorization.k8s.io/v1/Role': (m) => new Role(m as ConstructorParameters<typeof Role>[0]).validate(),
  'rbac.authorization.k8s.io/v1/RoleBinding': (m) => new RoleBinding(m as ConstructorParameters<typeof RoleBinding>[0]).validate(),
  'apiregistration.k8s.io/v1/APIService': (m) => new APIService(m as ConstructorParameters<typeof APIService>[0]).validate(),
  'networking.k8s.io/v1/NetworkPolicy': (m) => new NetworkPolicy(m as ConstructorParameters<typeof NetworkPolicy>[0]).validate(),
  'policy/v1/PodDisruptionBudget': (m) => new PodDisruptionBudget(m as ConstructorParameters<typeof PodDisruptionBudget>[0]).validate(),
  'autoscaling/v2/HorizontalPodAutoscaler': (m) => new HorizontalPodAutoscaler(m as ConstructorParameters<typeof HorizontalPodAutoscaler>[0]).validate(),
  'monitoring.coreos.com/v1/ServiceMonitor': (m) => new ServiceMonitor(m as ConstructorParameters<typeof ServiceMonitor>[0]).validate(),
  'monitoring.coreos.com/v1/PrometheusRule': (m) => new PrometheusRule(m as ConstructorParameters<typeof PrometheusRule>[0]).validate(),
  'cert-manager.io/v1/Issuer': zodValidate(issuerSchema),
  'cert-manager.io/v1/Certificate': zodValidate(certificateSchema),
};

/** Validates one object against its schema; the error names the object. */
export function validateManifest(manifest: Manifest | { readonly apiVersion: string; readonly kind: string; readonly metadata: { readonly name: string } }): void {
  const { source: _source, ...object } = manifest as Manifest;
  const validate = validators[`${object.apiVersion}/${object.kind}`];
  if (validate === undefined) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  try {
    validate(object);
  } catch (error) {
    throw new Error(`${object.kind} ${object.metadata.name}: ${messageOf(error)}`);
  }
}

// The fields Kubernetes defines (1.30) for the parts the chart writes literally. kubernetes-models
// accepts unknown fields, and the API server would only warn or drop them, so a typo such as
// "readinesProbe" would ship unnoticed without this.
const known: Readonly<Record<string, readonly string[]>> = {
  object: [
    'apiVersion',
    'kind',
    'metadata',
    'spec',
    'data',
    'stringData',
    'binaryData',
    'type',
    'immutable',
    'rules',
    'roleRef',
    'subjects',
    'automountServiceAccountToken',
    'imagePullSecrets',
    'secrets',
    'source',
  ],
  metadata: ['name', 'namespace', 'labels', 'annotations'],
  deploymentSpec: ['replicas', 'selector', 'template', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds'],
  statefulSetSpec: [
    'replicas',
    'selector',
    'template',
    'serviceName',
    'podManagementPolicy',
    'updateStrategy',
    'revisionHistoryLimit',
    'minReadySeconds',
    'volumeClaimTemplates',
    'persistentVolumeClaimRetentionPolicy',
    'ordinals',
  ],
  podSpec: [
    'volumes',
    'initContainers',
    'containers',
    'ephemeralContainers',
    'restartPolicy',
    'terminationGracePeriodSeconds',
    'activeDeadlineSeconds',
    'dnsPolicy',
    'nodeSelector',
    'serviceAccountName',
    'serviceAccount',
    'automountServiceAccountToken',
    'nodeName',
    'hostNetwork',
    'hostPID',
    'hostIPC',
    'shareProcessNamespace',
    'securityContext',
    'imagePullSecrets',
    'hostname',
    'subdomain',
    'affinity',
    'schedulerName',
    'tolerations',
    'hostAliases',
    'priorityClassName',
    'priority',
    'dnsConfig',
    'readinessGates',
    'runtimeClassName',
    'enableServiceLinks',
    'preemptionPolicy',
    'overhead',
    'topologySpreadConstraints',
    'setHostnameAsFQDN',
    'os',
    'hostUsers',
    'schedulingGates',
    'resourceClaims',
  ],
  container: [
    'name',
    'image',
    'command',
    'args',
    'workingDir',
    'ports',
    'envFrom',
    'env',
    'resources',
    'resizePolicy',
    'restartPolicy',
    'volumeMounts',
    'volumeDevices',
    'livenessProbe',
    'readinessProbe',
    'startupProbe',
    'lifecycle',
    'terminationMessagePath',
    'terminationMessagePolicy',
    'imagePullPolicy',
    'securityContext',
    'stdin',
    'stdinOnce',
    'tty',
  ],
  probe: ['exec', 'httpGet', 'tcpSocket', 'grpc', 'initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds'],
  containerSecurityContext: [
    'capabilities',
    'privileged',
    'seLinuxOptions',
    'windowsOptions',
    'runAsUser',
    'runAsGroup',
    'runAsNonRoot',
    'readOnlyRootFilesystem',
    'allowPrivilegeEscalation',
    'procMount',
    'seccompProfile',
    'appArmorProfile',
  ],
  podSecurityContext: [
    'seLinuxOptions',
    'windowsOptions',
    'runAsUser',
    'runAsGroup',
    'runAsNonRoot',
    'supplementalGroups',
    'supplementalGroupsPolicy',
    'fsGroup',
    'sysctls',
    'fsGroupChangePolicy',
    'seccompProfile',
    'appArmorProfile',
    'seLinuxChangePolicy',
  ],
  serviceSpec: [
    'ports',
    'selector',
    'clusterIP',
    'clusterIPs',
    'type',
    'externalIPs',
    'sessionAffinity',
    'loadBalancerIP',
    'loadBalancerSourceRanges',
    'externalName',
    'externalTrafficPolicy',
    'healthCheckNodePort',
    'publishNotReadyAddresses',
    'sessionAffinityConfig',
    'ipFamilies',
    'ipFamilyPolicy',
    'allocateLoadBalancerNodePorts',
    'loadBalancerClass',
    'internalTrafficPolicy',
    'trafficDistribution',
  ],
  servicePort: ['name', 'protocol', 'appProtocol', 'port', 'targetPort', 'nodePort'],
  apiServiceSpec: ['service', 'group', 'version', 'insecureSkipTLSVerify', 'caBundle', 'groupPriorityMinimum', 'versionPriority'],
  pdbSpec: ['minAvailable', 'maxUnavailable', 'selector', 'unhealthyPodEvictionPolicy'],
  networkPolicySpec: ['podSelector', 'ingress', 'egress', 'policyTypes'],
  ingressRule: ['from', 'ports'],
  egressRule: ['to', 'ports'],
};

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {});
const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Unknown field names in the parts of `manifest` the chart writes, as "path: field" strings. */
export function unknownFields(manifest: Manifest): string[] {
  const out: string[] = [];
  const check = (value: unknown, set: keyof typeof known, path: string) => {
    for (const key of Object.keys(asObject(value))) if (!known[set]!.includes(key)) out.push(`${path}: ${key}`);
  };
  const { source: _source, ...object } = manifest;
  check(object, 'object', manifest.kind);
  check(object.metadata, 'metadata', 'metadata');
  const spec = asObject(object['spec']);
  if (manifest.kind === 'Deployment' || manifest.kind === 'StatefulSet') {
    check(spec, manifest.kind === 'Deployment' ? 'deploymentSpec' : 'statefulSetSpec', 'spec');
    const template = asObject(spec['template']);
    check(template['metadata'], 'metadata', 'spec.template.metadata');
    const pod = asObject(template['spec']);
    check(pod, 'podSpec', 'spec.template.spec');
    check(pod['securityContext'], 'podSecurityContext', 'spec.template.spec.securityContext');
    for (const [i, container] of asArray(pod['containers']).entries()) {
      const path = `spec.template.spec.containers[${i}]`;
      check(container, 'container', path);
      check(asObject(container)['securityContext'], 'containerSecurityContext', `${path}.securityContext`);
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) check(asObject(container)[probe], 'probe', `${path}.${probe}`);
    }
  }
  if (manifest.kind === 'Service') {
    check(spec, 'serviceSpec', 'spec');
    for (const [i, port] of asArray(spec['ports']).entries()) check(port, 'servicePort', `spec.ports[${i}]`);
  }
  if (manifest.kind === 'APIService') check(spec, 'apiServiceSpec', 'spec');
  if (manifest.kind === 'PodDisruptionBudget') check(spec, 'pdbSpec', 'spec');
  if (manifest.kind === 'NetworkPolicy') {
    check(spec, 'networkPolicySpec', 'spec');
    for (const [i, rule] of asArray(spec['ingress']).entries()) check(rule, 'ingressRule', `spec.ingress[${i}]`);
    for (const [i, rule] of asArray(spec['egress']).entries()) check(rule, 'egressRule', `spec.egress[${i}]`);
  }
  return out;
}

/** Every label map found under a selector-like key (selector, matchLabels, labelSelector), with its path. */
export function selectorLabelMaps(value: unknown, path = ''): { readonly path: string; readonly labels: Json }[] {
  const out: { path: string; labels: Json }[] = [];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      out.push(...selectorLabelMaps(item, `${path}[${i}]`));
    });
    return out;
  }
  for (const [key, child] of Object.entries(asObject(value))) {
    const childPath = path === '' ? key : `${path}.${key}`;
    if (key === 'matchLabels' || (key === 'selector' && path.endsWith('spec') && !('matchLabels' in asObject(child)))) out.push({ path: childPath, labels: asObject(child) });
    out.push(...selectorLabelMaps(child, childPath));
  }
  return out;
}
