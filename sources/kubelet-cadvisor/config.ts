import { z } from 'zod';
import { discoverySchema } from '../../src/kube/discovery-config.js';
import {
  checkKubeletAccess,
  kubeletAccessShape,
  kubeletScheme,
  kubeletScrapeShape,
} from '../../src/kube/kubelet-access-config.js';

/** The two cAdvisor v1 endpoints this source speaks: the kubelet's, and standalone cAdvisor's. */
export const CADVISOR_APIS = ['kubelet', 'cadvisor'] as const;

const cadvisorSourceKeys = z.strictObject({
  discovery: discoverySchema.describe('Where the node list comes from.'),
  api: z
    .enum(CADVISOR_APIS)
    .default('kubelet')
    .describe(
      "`kubelet`: POST /stats/container/ on the kubelet (Heapster's legacy source). `cadvisor`: standalone cAdvisor, POST /api/v1.3/subcontainers/.",
    ),
  scheme: z
    .enum(['http', 'https'])
    .optional()
    .describe(
      'Default: http with `discovery: { simulated }`; else https for api kubelet (port 10250), http for api cadvisor.',
    ),
  port: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe('Port, unless discovery names one. Default: 10250 for api kubelet, 4194 for api cadvisor.'),
  path: z
    .string()
    .startsWith('/')
    .optional()
    .describe('Default: /stats/container/ (kubelet) or /api/v1.3/subcontainers/ (cadvisor).'),
  system_containers: z
    .enum(['cgroup', 'summary', 'none'])
    .default('cgroup')
    .describe(
      '`cgroup`: every non-pod cgroup, by name (Heapster). `summary`: only kubelet, runtime and pods, named as the Summary API source names them. `none`: no system containers.',
    ),
  samples: z
    .enum(['last', 'all'])
    .default('last')
    .describe(
      '`last`: one set per container from its newest sample, as Heapster did. `all`: one per sample in the window.',
    ),
  max_samples: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(60)
    .describe('With samples: all, the most samples asked for per container (num_stats).'),
  ...kubeletScrapeShape,
  // via, tls, auth: how kubelets are reached and authenticated (src/kube/kubelet-access.ts applies them).
  ...kubeletAccessShape,
});

export const cadvisorSourceConfig = cadvisorSourceKeys.superRefine((config, ctx) => {
  checkKubeletAccess(config, config.api === 'kubelet' ? 'https' : 'http', ctx);
  if (config.api === 'cadvisor' && config.via === 'apiserver_proxy') {
    ctx.addIssue({
      code: 'custom',
      path: ['via'],
      message:
        'apiserver_proxy reaches kubelets only; use `api: kubelet` or `via: direct` for standalone cAdvisor',
    });
  }
});

export type CadvisorSourceConfig = z.output<typeof cadvisorSourceConfig>;

/** The endpoint defaults that depend on `api`. */
export function cadvisorEndpoint(config: CadvisorSourceConfig): {
  scheme: 'http' | 'https';
  port: number;
  path: string;
} {
  const kubelet = config.api === 'kubelet';
  return {
    scheme: kubeletScheme(config, kubelet ? 'https' : 'http'),
    port: config.port ?? (kubelet ? 10250 : 4194),
    path: config.path ?? (kubelet ? '/stats/container/' : '/api/v1.3/subcontainers/'),
  };
}
