import { z } from 'zod';

/** The cost_allocation plugin's keys, written beside `type` in its processor entry. */
export const costAllocationConfig = z.strictObject({
  team_label: z
    .string()
    .min(1)
    .default('team')
    .meta({
      description:
        'The pod label naming the team. Read from a label of that name on the pod set (pod_enricher `store_labels`), ' +
        'else from the joined `labels` label that pod_enricher writes.',
    }),
  label_separator: z
    .string()
    .min(1)
    .default(',')
    .meta({ description: 'Separator of the joined `labels` label: pod_enricher’s `label_separator`.' }),
  unallocated: z
    .string()
    .min(1)
    .default('unallocated')
    .meta({ description: 'The team of pods without the team label.' }),
  cpu_core_hour: z.number().nonnegative().meta({ description: 'Price of one CPU core for one hour.' }),
  memory_gib_hour: z
    .number()
    .nonnegative()
    .meta({ description: 'Price of one GiB of working set for one hour.' }),
  currency: z
    .string()
    .min(1)
    .default('USD')
    .meta({ description: 'Written as the `currency` label of each team set.' }),
});

export type CostAllocationConfig = z.output<typeof costAllocationConfig>;
