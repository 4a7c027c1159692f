import { z } from 'zod';
import { DEFAULT_MAX_SERIES } from '../../src/model/decode-report.js';
import { discoverySchema } from '../../src/kube/discovery-config.js';
import {
  checkKubeletAccess,
  kubeletAccessShape,
  kubeletEndpointShape,
  kubeletScrapeShape,
  maxResponseBytes,
} from '../../src/kube/kubelet-access-config.js';

export const PROMETHEUS_ENDPOINTS = { resource: '/metrics/resource', cadvisor: '/metrics/cadvisor' } as const;

const prometheusSourceKeys = z.strictObject({
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
  ...kubeletEndpointShape,
  path: z
    .string()
    .startsWith('/')
    .optional()
    .describe("Overrides the endpoint's path (e.g. behind a proxy)."),
  ...kubeletScrapeShape,
  // A 110-pod node's /metrics/cadvisor is 5–10 MB (~30,000 samples of ~300 bytes); 32 MiB fits max_series.
  max_response_bytes: maxResponseBytes(32 * 1024 * 1024),
  max_series: z
    .number()
    .int()
    .min(1)
    .default(DEFAULT_MAX_SERIES)
    .describe(
      'A node whose answer holds more samples fails with reason too_large; parsing stops at the limit.',
    ),
  // via, tls, auth: how kubelets are reached and authenticated (src/kube/kubelet-access.ts applies them).
  ...kubeletAccessShape,
});

export const prometheusSourceConfig = prometheusSourceKeys.superRefine((config, ctx) =>
  checkKubeletAccess(config, 'https', ctx),
);

export type PrometheusSourceConfig = z.output<typeof prometheusSourceConfig>;
