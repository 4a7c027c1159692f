import { z } from 'zod';
import { duration } from '../component/duration.js';
import { DEFAULT_ADDRESS_TYPES } from './node-address.js';

/**
 * `discovery:` — where the node list comes from. Exactly one of `static`, `simulated` or `kubernetes`.
 * Shared by every kubelet source.
 */
export const staticNodeSchema = z.strictObject({
  name: z.string().min(1).describe('Node name, as Kubernetes knows it.'),
  address: z.string().min(1).describe('IP address or host name of the kubelet.'),
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe("The kubelet's port; the source's `port` if absent."),
  hostname: z.string().optional(),
  host_id: z.string().optional(),
});

export const simulatedDiscoverySchema = z.strictObject({
  nodes: z.number().int().min(1).max(10_000).default(3).describe('How many fake kubelets to start.'),
  pods_per_node: z
    .number()
    .int()
    .min(1)
    .max(500)
    .optional()
    .describe("Pods per node; the template's count if absent."),
  port: z
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(0)
    .describe('Port shared by every fake kubelet; 0 picks a free one.'),
  first_address: z
    .string()
    .default('127.0.1.1')
    .describe('Loopback address of the first node; the rest follow.'),
  seed: z.number().int().default(1),
});

/** How a component reaches the API server: the keys `discovery.kubernetes` and the metrics API's `kubernetes` share. */
export const clusterAccessKeys = {
  kubeconfig: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Kubeconfig file; if absent: KUBECONFIG, then ~/.kube/config, then the in-cluster service account.',
    ),
  context: z.string().min(1).optional().describe("Kubeconfig context; the file's current-context if absent."),
  in_cluster: z
    .boolean()
    .optional()
    .describe('Use the pod service account (KUBERNETES_SERVICE_HOST) even if a kubeconfig exists.'),
};

export const kubernetesDiscoverySchema = z.strictObject({
  ...clusterAccessKeys,
  label_selector: z
    .string()
    .min(1)
    .optional()
    .describe('Only nodes matching this label selector, e.g. `node-role.kubernetes.io/worker`.'),
  address_types: z
    .array(z.enum(['InternalIP', 'Hostname', 'ExternalIP', 'InternalDNS', 'ExternalDNS']))
    .min(1)
    .default([...DEFAULT_ADDRESS_TYPES])
    .describe('Node address types in order of preference; the first one a node has is scraped.'),
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe(
      "Kubelet port for every node; else the node's status.daemonEndpoints port, else the source's port.",
    ),
  skip_not_ready: z
    .boolean()
    .default(true)
    .describe('Do not scrape nodes whose Ready condition is not True (they are logged and counted).'),
  metadata: z
    .boolean()
    .default(true)
    .describe('Watch pods and namespaces too, so enrichers get labels, requests, limits and owners.'),
  owners: z
    .enum(['name', 'watch'])
    .default('name')
    .describe(
      'ReplicaSet → Deployment by name convention (`name`), or by watching ReplicaSets (`watch`, needs RBAC).',
    ),
  retry_backoff: duration()
    .default(500)
    .describe('First wait before re-listing after a failed list or watch.'),
  retry_backoff_max: duration().default(30_000).describe('Longest wait between re-list attempts.'),
});

export const discoverySchema = z
  .strictObject({
    static: z.array(staticNodeSchema).min(1).optional().describe('A fixed list of nodes.'),
    simulated: simulatedDiscoverySchema
      .optional()
      .describe('Start a simulated cluster in-process (fake kubelets on loopback) and scrape it.'),
    kubernetes: kubernetesDiscoverySchema
      .optional()
      .describe('List and watch the nodes of a Kubernetes cluster (in-cluster or through a kubeconfig).'),
  })
  .refine((d) => Object.values(d).filter((v) => v !== undefined).length === 1, {
    message: 'set exactly one of: static, simulated, kubernetes',
  });

export type DiscoveryConfig = z.output<typeof discoverySchema>;
