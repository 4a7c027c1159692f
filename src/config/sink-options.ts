import { z } from 'zod';
import { duration } from '../component/duration.js';
import { setTypeSchema } from '../component/set-type-schema.js';

/**
 * The default `buffer.max_bytes`, per sink, sized for the shipped Deployment (1,000 nodes of 30 pods, 1 GiB
 * limit, about 550 MiB peak): one cycle there is about 90 MiB as `estimateBytes` counts it (95 KB a node), and
 * queued sets take about 1.3 times their estimate in the heap. A full queue is then about 85 MiB of heap; under
 * `block` it also takes the cycle in progress, whose sets every sink shares (about 115 MiB). Three sinks behind
 * at once stay within the 450 MiB left, where an unbounded queue of 1,000 large batches would not. A healthy
 * sink empties its queue long before the next cycle, so the limit only bites when a sink falls behind.
 */
export const DEFAULT_BUFFER_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The keys every sink has, owned by the engine's sink runner rather than by each sink, so that every sink
 * behaves the same under failure.
 */
export const sinkRunnerOptionsSchema = z.strictObject({
  select: z
    .strictObject({
      types: z.array(setTypeSchema).optional().describe('Set types to deliver; all if absent.'),
      metrics: z.array(z.string()).optional().describe('Metric names to deliver; all if absent.'),
      namespaces: z.array(z.string()).optional().describe('Namespaces to deliver; all if absent.'),
    })
    .optional(),
  buffer: z
    .strictObject({
      max_batches: z.number().int().positive().default(1000).describe('Most batches queued.'),
      max_bytes: z
        .number()
        .int()
        .positive()
        .default(DEFAULT_BUFFER_MAX_BYTES)
        .describe('Most bytes queued, estimated (64 MiB by default).'),
      when_full: z
        .enum(['block', 'drop_oldest', 'drop_newest'])
        .default('block')
        .describe('What a full queue does: skip the next cycle, or drop a batch.'),
    })
    .prefault({}),
  retry: z
    .strictObject({
      initial_backoff: duration().prefault('1s'),
      max_backoff: duration().prefault('30s'),
      /** 0 retries forever. */
      max_attempts: z.number().int().nonnegative().default(0),
    })
    .prefault({}),
  max_in_flight: z.number().int().positive().default(1),
  write_timeout: duration().prefault('30s'),
  shutdown_timeout: duration().prefault('30s'),
});

export type SinkRunnerOptions = z.output<typeof sinkRunnerOptionsSchema>;
