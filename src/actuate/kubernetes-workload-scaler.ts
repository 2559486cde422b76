import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { fieldManager, mergePatchOptions, requestOptions, toApiError } from './kubernetes-api.js';
import type { PoolSizeTarget, WorkloadScaler, WorkloadTarget } from './workload-scaler.js';

/** The REST path of a workload's scale subresource, for messages. */
function scalePath(target: WorkloadTarget): string {
  const plural = target.kind === 'Deployment' ? 'deployments' : 'statefulsets';
  return `/apis/apps/v1/namespaces/${target.namespace}/${plural}/${target.name}/scale`;
}

/**
 * The WorkloadScaler of a real cluster, through @kubernetes/client-node. Replicas go through the
 * `scale` subresource, exactly as the HPA writes them (`PATCH .../scale` with the merge patch
 * `{"spec":{"replicas":N}}`), so that the workload's own spec, its other fields and their owners
 * are left alone. The pool size is a merge patch of one ConfigMap data key.
 */
export class KubernetesWorkloadScaler implements WorkloadScaler {
  readonly #apps: AppsV1Api;
  readonly #core: CoreV1Api;
  readonly #timeoutMs: number;

  /** `timeoutSeconds` bounds each request. */
  constructor(kubeConfig: KubeConfig, timeoutSeconds: number) {
    this.#apps = kubeConfig.makeApiClient(AppsV1Api);
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#timeoutMs = timeoutSeconds * 1000;
  }

  async readReplicas(target: WorkloadTarget): Promise<number> {
    const param = { name: target.name, namespace: target.namespace };
    try {
      const scale =
        target.kind === 'Deployment'
          ? await this.#apps.readNamespacedDeploymentScale(param, requestOptions(this.#timeoutMs))
          : await this.#apps.readNamespacedStatefulSetScale(param, requestOptions(this.#timeoutMs));
      return scale.spec?.replicas ?? 0;
    } catch (error) {
      throw toApiError(`GET ${scalePath(target)}`, error);
    }
  }

  async setReplicas(target: WorkloadTarget, replicas: number): Promise<void> {
    const param = { name: target.name, namespace: target.namespace, body: { spec: { replicas } }, fieldManager };
    try {
      if (target.kind === 'Deployment') await this.#apps.patchNamespacedDeploymentScale(param, mergePatchOptions(this.#timeoutMs));
      else await this.#apps.patchNamespacedStatefulSetScale(param, mergePatchOptions(this.#timeoutMs));
    } catch (error) {
      throw toApiError(`PATCH ${scalePath(target)}`, error);
    }
  }

  async setPoolSize(target: PoolSizeTarget, size: number): Promise<void> {
    // ConfigMap data values are strings; a number here would be refused by the API server.
    const body = { data: { [target.key]: String(size) } };
    try {
      await this.#core.patchNamespacedConfigMap({ name: target.name, namespace: target.namespace, body, fieldManager }, mergePatchOptions(this.#timeoutMs));
    } catch (error) {
      throw toApiError(`PATCH /api/v1/namespaces/${target.namespace}/configmaps/${target.name}`, error);
    }
  }
}
