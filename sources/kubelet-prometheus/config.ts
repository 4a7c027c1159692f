import { z } from 'zod';
import { duration } from '../../src/config/duration.js';
import { discoverySchema } from '../../src/kube/discovery-config.js';
import { kubeletAccessShape } from '../../src/kube/kubelet-access-config.js';

export const PROMETHEUS_ENDPOINTS = { resource: '/metrics/resource', cadvisor: '/metrics/cadvisor' } as const;

export const prometheusSourceConfig = z.strictObject({
  discovery: discoverySchema.describe('Where the node list comes from.'),
  endpoint: z
    .enum(['resource', 'cadvisor'])
    .default('resource')
    .describe(
      '`resource`: /metrics/resource (cpu and working set of nodes, pods, containers; light). `cadvisor`: /metrics/cadvisor (every cAdvisor metric; heavy).',
    ),
  system_containers: z
    .enum(['summary', 'cgroup', 'none'])
    .default('summary')
    .describe(
      '(/metrics/cadvisor) `summary`: only kubelet, runtime and pods, named as the Summary API source names them. `cgroup`: every non-pod cgroup, by name (Heapster legacy). `none`: no system containers.',
    ),
  scheme: z
    .enum(['http', 'https'])
    .default('https')
    .describe('https for port 10250, http for the read-only 10255.'),
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(10250)
    .describe('Kubelet port, unless discovery names one.'),
  path: z
    .string()
    .startsWith('/')
    .optional()
    .describe("Overrides the endpoint's path (e.g. behind a proxy)."),
  timeout: duration().default(5000).describe('Deadline for one node scrape, from request to last byte.'),
  concurrency: z.number().int().min(1).default(256).describe('Scrapes in flight at once.'),
  max_response_bytes: z
    .number()
    .int()
    .min(1024)
    .default(64 * 1024 * 1024)
    .describe('A larger response fails that node with reason too_large.'),
  // via, tls, auth: how kubelets are reached and authenticated (src/kube/kubelet-access.ts applies them).
  ...kubeletAccessShape,
});

export type PrometheusSourceConfig = z.output<typeof prometheusSourceConfig>;
