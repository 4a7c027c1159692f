import { z } from 'zod';
import { discoverySchema } from '../../src/kube/discovery-config.js';
import {
  checkKubeletAccess,
  kubeletAccessShape,
  kubeletEndpointShape,
  kubeletScrapeShape,
} from '../../src/kube/kubelet-access-config.js';

const summarySourceKeys = z.strictObject({
  discovery: discoverySchema.describe('Where the node list comes from.'),
  ...kubeletEndpointShape,
  path: z.string().startsWith('/').default('/stats/summary').describe('The Summary API path.'),
  ...kubeletScrapeShape,
  // via, tls, auth: how kubelets are reached and authenticated (src/kube/kubelet-access.ts applies them).
  ...kubeletAccessShape,
});

export const summarySourceConfig = summarySourceKeys.superRefine((config, ctx) =>
  checkKubeletAccess(config.scheme, config, ctx),
);

export type SummarySourceConfig = z.output<typeof summarySourceConfig>;
