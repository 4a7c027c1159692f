// A TypeScript plugin as a user would write one, importing the public API (here by path, as `heapstream`).
import { z } from 'zod';
import { defineProcessor, filterSets } from '../../src/index.js';

/** Keeps only the pod and container sets of one namespace (node-level sets go on). */
export default defineProcessor({
  type: 'keep_namespace',
  description: 'Keeps the pod and container sets of one namespace.',
  config: z.strictObject({
    namespace: z.string().min(1),
    keep_node_sets: z.boolean().default(true),
  }),
  create: (config) =>
    filterSets((set) =>
      set.labels.namespace_name === undefined
        ? config.keep_node_sets
        : set.labels.namespace_name === config.namespace,
    ),
});
