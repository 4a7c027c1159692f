import { z } from 'zod';
import { labelCopierKeys } from '../../src/component/label-copier.js';

/** The `pod_enricher` processor's keys. */
export const podEnricherConfig = z.strictObject({
  ...labelCopierKeys,
  stub_sets: z
    .boolean()
    .default(true)
    .meta({
      description:
        'Create a pod set for containers whose pod has none, and container sets (requests and limits only) for spec ' +
        'containers missing from the batch, as Heapster did; the pod aggregate then sums every container.',
    }),
  workload_labels: z.boolean().default(true).meta({
    description: 'Add workload_kind and workload_name from the pod’s owning workload.',
  }),
});

export type PodEnricherConfig = z.output<typeof podEnricherConfig>;
