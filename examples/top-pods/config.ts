import { z } from 'zod';

/** The top_pods plugin's keys, written beside `type` in its processor entry. */
export const topPodsConfig = z.strictObject({
  top: z.number().int().positive().default(5).meta({ description: 'How many pods to keep per namespace.' }),
  metric: z
    .string()
    .min(1)
    .default('cpu/usage_rate')
    .meta({ description: 'The metric pods are ranked by, highest first; pods without it rank last.' }),
  keep_containers: z.boolean().default(true).meta({
    description: 'Keep the container sets of the pods kept (and drop those of the others); false drops all.',
  }),
});

export type TopPodsConfig = z.output<typeof topPodsConfig>;
