import { z } from 'zod';
import { formatDuration } from '../core/index.js';
import { duration, kubernetesName, kubernetesNamespace } from './schema-primitives.js';

// The actuation section: which objects are patched, and the leader election that lets one replica patch.

/** A Deployment or StatefulSet whose scale subresource actuation patches. */
const workloadTarget = z.strictObject({
  kind: z.enum(['Deployment', 'StatefulSet']).default('Deployment').describe('Kind of the workload.'),
  name: kubernetesName.describe('Name of the workload.'),
  namespace: kubernetesNamespace.describe('Namespace of the workload.'),
});

/** The whole configuration file. Every key is optional; unknown keys are errors. */

export const actuationSection = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Write recommendations to the mapped Kubernetes objects (off by default; see docs/actuation.md).'),
    dryRun: z.boolean().default(true).describe('Only log and count the patches that would be made; set false to make them.'),
    minPatchInterval: duration.default(60).describe('Least time between two patches of the same resource.'),
    targets: z
      .strictObject({
        worker_processes: workloadTarget.optional().describe('The workload whose replicas follow worker_processes.'),
        api_instances: workloadTarget.optional().describe('The workload whose replicas follow api_instances.'),
        batch_processors: workloadTarget.optional().describe('The workload whose replicas follow batch_processors.'),
        ml_workers: workloadTarget.optional().describe('The workload whose replicas follow ml_workers.'),
        db_connections: z
          .strictObject({
            name: kubernetesName.describe('Name of the ConfigMap that holds the pool size.'),
            namespace: kubernetesNamespace.describe('Namespace of the ConfigMap.'),
            key: z
              .string()
              .regex(/^[-._a-zA-Z0-9]{1,253}$/, 'expected a ConfigMap key (letters, digits, "-", "_", ".")')
              .describe('The data key whose value is the pool size.'),
          })
          .optional()
          .describe('The ConfigMap whose data key holds the database connection pool size.'),
      })
      .prefault({})
      .describe('The object each resource is written to; resources without one are left alone.'),
    leaderElection: z
      .strictObject({
        leaseName: kubernetesName.default('foresight-actuator').describe('Name of the coordination.k8s.io/v1 Lease that elects the one replica that patches.'),
        leaseNamespace: kubernetesNamespace.optional().describe("Namespace of the Lease; default: the pod's own namespace, else the kubeconfig context's, else default."),
        identity: z.string().min(1).max(128).optional().describe("This replica's name in the Lease; default: POD_NAME or the hostname, plus a random suffix."),
        leaseDuration: duration.default(15).describe('How long others wait after the last renewal they saw before taking the lease over (client-go default).'),
        renewDeadline: duration.default(10).describe('The leader stops patching when it could not renew for this long (client-go default).'),
        retryPeriod: duration.default(2).describe('Time between two attempts to acquire or renew the lease (client-go default).'),
      })
      .prefault({})
      .superRefine((l, ctx) => {
        // client-go's own checks: without them two replicas could both believe they lead.
        if (l.renewDeadline >= l.leaseDuration) {
          ctx.addIssue({
            code: 'custom',
            path: ['renewDeadline'],
            message: `must be shorter than leaseDuration (${formatDuration(l.leaseDuration)}), got ${formatDuration(l.renewDeadline)}`,
            params: { related: ['actuation.leaderElection.leaseDuration'] },
          });
        }
        if (l.renewDeadline <= 1.2 * l.retryPeriod) {
          ctx.addIssue({
            code: 'custom',
            path: ['retryPeriod'],
            message: `must be shorter than renewDeadline (${formatDuration(l.renewDeadline)}) / 1.2, got ${formatDuration(l.retryPeriod)}`,
            params: { related: ['actuation.leaderElection.renewDeadline'] },
          });
        }
      })
      .describe('Leader election, so that only one replica ever patches.'),
  })
  .prefault({})
  .describe('Optional actuation: patch the scale subresource of mapped Deployments and StatefulSets, and the pool size ConfigMap.');
