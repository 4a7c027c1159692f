import { z } from 'zod';
import { duration } from '../config/duration.js';

const setType = z.enum(['node', 'sys_container', 'pod', 'pod_container', 'ns', 'cluster']);

/**
 * The keys every sink has, owned by the engine's sink runner rather than by each sink, so that every sink
 * behaves the same under failure.
 */
export const sinkRunnerOptionsSchema = z.strictObject({
  select: z
    .strictObject({
      types: z.array(setType).optional().describe('Set types to deliver; all if absent.'),
      metrics: z.array(z.string()).optional().describe('Metric names to deliver; all if absent.'),
      namespaces: z.array(z.string()).optional().describe('Namespaces to deliver; all if absent.'),
    })
    .optional(),
  buffer: z
    .strictObject({
      max_batches: z.number().int().positive().default(1000),
      max_bytes: z.number().int().positive().optional(),
      when_full: z.enum(['block', 'drop_oldest', 'drop_newest']).default('block'),
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
