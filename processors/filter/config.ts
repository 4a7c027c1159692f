import { z } from 'zod';
import { SET_TYPES } from '../../src/model/catalogue.js';

/** The catalogue's set types, and `namespace` as a readable alias of `ns`. */
const FILTER_TYPES = [...SET_TYPES, 'namespace'] as const;

const criteria = z.strictObject({
  types: z
    .array(z.enum(FILTER_TYPES))
    .optional()
    .meta({ description: 'Set types: node, sys_container, pod, pod_container, ns (or namespace), cluster.' }),
  namespaces: z
    .array(z.string().min(1))
    .optional()
    .meta({ description: 'Values of the namespace_name label; sets without one never match.' }),
  labels: z
    .array(z.string().regex(/^[^=]+=.*$/, 'use "key=value"'))
    .optional()
    .meta({ description: 'Labels as key=value; a set matches when it has one of them.' }),
  metrics: z
    .array(z.string().min(1))
    .optional()
    .meta({ description: 'Metric names, exact (memory/usage) or by prefix with a trailing * (cpu/*).' }),
});

/** The `filter` processor's keys. */
export const filterConfig = z
  .strictObject({
    include: criteria.optional().meta({
      description:
        'Keep only sets matching every list given (any entry of each), and only the metrics listed.',
    }),
    exclude: criteria.optional().meta({
      description: 'Drop sets matching any entry of any list, and the metrics listed.',
    }),
  })
  .refine((c) => c.include !== undefined || c.exclude !== undefined, 'give include, exclude or both');

export type FilterConfig = z.output<typeof filterConfig>;
export type FilterCriteria = z.output<typeof criteria>;
