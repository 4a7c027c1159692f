import { z } from 'zod';

export const AGGREGATE_LEVELS = ['pod', 'namespace', 'node', 'cluster'] as const;
export type AggregateLevel = (typeof AGGREGATE_LEVELS)[number];

/** The `aggregate` processor's keys. */
export const aggregateConfig = z.strictObject({
  levels: z
    .array(z.enum(AGGREGATE_LEVELS))
    .min(1)
    .refine((levels) => new Set(levels).size === levels.length, 'list each level once')
    .default([...AGGREGATE_LEVELS])
    .meta({
      description:
        'Which aggregates to build: pod (pod sets from their containers), node (pod requests and limits into the ' +
        'node set), namespace and cluster (one cluster batch per cycle).',
    }),
});

export type AggregateConfig = z.output<typeof aggregateConfig>;
