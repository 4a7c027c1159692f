import { z } from 'zod';
import { discoverySchema } from '../../src/kube/discovery-config.js';
import {
  kubeletAccessShape,
  kubeletEndpointShape,
  kubeletScrapeShape,
} from '../../src/kube/kubelet-access-config.js';

export const summarySourceConfig = z.strictObject({
  discovery: discoverySchema.describe('Where the node list comes from.'),
  ...kubeletEndpointShape,
  path: z.string().startsWith('/').default('/stats/summary').describe('The Summary API path.'),
  ...kubeletScrapeShape,
  // via, tls, auth: how kubelets are reached and authenticated (src/kube/kubelet-access.ts applies them).
  ...kubeletAccessShape,
});

export type SummarySourceConfig = z.output<typeof summarySourceConfig>;
