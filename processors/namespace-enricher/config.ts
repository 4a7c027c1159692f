import { z } from 'zod';
import { storedLabelEntry } from '../../src/component/label-copier.js';

/** The `namespace_enricher` processor's keys. */
export const namespaceEnricherConfig = z.strictObject({
  store_labels: z
    .array(storedLabelEntry)
    .default([])
    .meta({
      description:
        'Namespace labels copied to labels of their own on pod, container and namespace sets: `name`, or ' +
        '`new_name=name` to rename. A label the set already has is kept.',
    }),
});

export type NamespaceEnricherConfig = z.output<typeof namespaceEnricherConfig>;
