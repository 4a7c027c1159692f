import { z } from 'zod';
import { discoverySchema } from '../../src/kube/discovery-config.js';
import {
  checkKubeletAccess,
  kubeletAccessShape,
  kubeletEndpointShape,
  kubeletScrapeShape,
  maxResponseBytes,
} from '../../src/kube/kubelet-access-config.js';

const summarySourceKeys = z.strictObject({
  discovery: discoverySchema.describe('Where the node list comes from.'),
  ...kubeletEndpointShape,
  path: z.string().startsWith('/').default('/stats/summary').describe('The Summary API path.'),
  ...kubeletScrapeShape,
  // A 110-pod node's Summary is about 0.5 MB: 16 MiB is 30 times that, and stops a runaway one (a 40 MB
  // Summary of 100,000 pods added 0.26 GB of memory while decoded) before it is parsed.
  max_response_bytes: maxResponseBytes(16 * 1024 * 1024),
  // via, tls, auth: how kubelets are reached and authenticated (src/kube/kubelet-access.ts applies them).
  ...kubeletAccessShape,
});

export const summarySourceConfig = summarySourceKeys.superRefine((config, ctx) =>
  checkKubeletAccess(config, 'https', ctx),
);

export type SummarySourceConfig = z.output<typeof summarySourceConfig>;
