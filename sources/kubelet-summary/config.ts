import { z } from 'zod';
import { discoverySchema } from '../../src/kube/discovery-config.js';
import { kubeletAccessShape, kubeletScrapeShape } from '../../src/kube/kubelet-access-config.js';

export const summarySourceConfig = z.strictObject({
  discovery: discoverySchema.describe('Where the node list comes from.'),
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
  path: z.string().startsWith('/').default('/stats/summary').describe('The Summary API path.'),
  ...kubeletScrapeShape,
  // via, tls, auth: how kubelets are reached and authenticated (src/kube/kubelet-access.ts applies them).
  ...kubeletAccessShape,
});

export type SummarySourceConfig = z.output<typeof summarySourceConfig>;
