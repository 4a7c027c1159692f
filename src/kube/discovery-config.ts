import { z } from 'zod';

/**
 * `discovery:` — where the node list comes from. Exactly one of `static`, `simulated` or (later) `kubernetes`.
 * Shared by every kubelet source.
 */
export const staticNodeSchema = z.strictObject({
  name: z.string().min(1).describe('Node name, as Kubernetes knows it.'),
  address: z.string().min(1).describe('IP address or host name of the kubelet.'),
  port: z.number().int().min(1).max(65535).optional().describe("The kubelet's port; the source's `port` if absent."),
  hostname: z.string().optional(),
  host_id: z.string().optional(),
});

export const simulatedDiscoverySchema = z.strictObject({
  nodes: z.number().int().min(1).max(10_000).default(3).describe('How many fake kubelets to start.'),
  pods_per_node: z.number().int().min(1).max(500).optional().describe("Pods per node; the template's count if absent."),
  port: z.number().int().min(0).max(65535).default(0).describe('Port shared by every fake kubelet; 0 picks a free one.'),
  first_address: z.string().default('127.0.1.1').describe('Loopback address of the first node; the rest follow.'),
  seed: z.number().int().default(1),
});

export const discoverySchema = z
  .strictObject({
    static: z.array(staticNodeSchema).min(1).optional().describe('A fixed list of nodes.'),
    simulated: simulatedDiscoverySchema
      .optional()
      .describe('Start a simulated cluster in-process (fake kubelets on loopback) and scrape it.'),
  })
  .refine((d) => Object.values(d).filter((v) => v !== undefined).length === 1, {
    message: 'set exactly one of: static, simulated',
  });

export type DiscoveryConfig = z.output<typeof discoverySchema>;
