import { join, resolve } from 'node:path';
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

const whenFull = z
  .enum(['block', 'drop_oldest', 'drop_newest'])
  .default('block')
  .describe('What a full buffer does: see the README table (block, drop_oldest, drop_newest).');

/** `buffer` of `type: memory` (the default): today's bounded queue in the heap. */
const memoryBufferSchema = z.strictObject({
  type: z.literal('memory').optional().describe('memory (default) or disk.'),
  max_batches: z.number().int().positive().default(1000).describe('Most batches queued.'),
  max_bytes: z
    .number()
    .int()
    .positive()
    .default(DEFAULT_BUFFER_MAX_BYTES)
    .describe('Most bytes queued, estimated (64 MiB by default).'),
  when_full: whenFull,
});

/** The default `buffer.max_size` of a disk buffer: 256 MiB, about 8,900 node batches of 30 pods (30 KB records). */
export const DEFAULT_DISK_BUFFER_MAX_SIZE = 256 * 1024 * 1024;
/** The smallest `buffer.max_size`: below this a disk buffer would hold hardly a node batch. */
export const MIN_DISK_BUFFER_MAX_SIZE = 1024 * 1024;

/**
 * The default `buffer.memory_window`: 32 MiB of records whose batches a disk buffer also keeps in memory until its
 * sink reads them. It holds a whole cycle's burst at 1,000 nodes of 30 pods (about 30 KB of record a node), so a
 * sink that keeps up never reads back from the disk; full (a sink that stopped), it holds about three times its
 * size in heap, as much as a full memory buffer at its default `max_bytes`.
 */
export const DEFAULT_DISK_BUFFER_MEMORY_WINDOW = 32 * 1024 * 1024;

/** `buffer` of `type: disk`: segment files that survive a crash or a restart (src/engine/disk-buffer/). */
const diskBufferSchema = z.strictObject({
  type: z.literal('disk'),
  path: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Directory of this buffer, relative to the working directory; <data_dir>/buffer/<sink> if absent.',
    ),
  max_size: z
    .number()
    .int()
    .min(MIN_DISK_BUFFER_MAX_SIZE)
    .default(DEFAULT_DISK_BUFFER_MAX_SIZE)
    .describe('Most bytes of buffer files on disk (256 MiB by default).'),
  when_full: whenFull,
  sync: z
    .enum(['every_batch', 'interval'])
    .default('every_batch')
    .describe(
      'every_batch: each batch is flushed to the disk (fsync) before it counts as stored; interval: every sync_interval.',
    ),
  sync_interval: duration({ min: 10 })
    .prefault('1s')
    .describe('How often `sync: interval` flushes to the disk.'),
  memory_window: z
    .number()
    .int()
    .min(0)
    .default(DEFAULT_DISK_BUFFER_MEMORY_WINDOW)
    .describe(
      'Bytes of records whose batches are also kept in memory until the sink reads them (32 MiB by default); beyond it, batches are read back from the files. 0 reads every batch back.',
    ),
});

export type MemoryBufferOptions = z.output<typeof memoryBufferSchema>;
export type DiskBufferOptions = z.output<typeof diskBufferSchema>;

/**
 * The directory of a sink's disk buffer: its `buffer.path`, else `<data_dir>/buffer/<sink>`, resolved against
 * the working directory (as `data_dir` is). Validation uses it to refuse two sinks sharing one.
 *
 * @example
 * diskBufferPath('lake', { path: undefined, … }, './heapstream-data'); // /cwd/heapstream-data/buffer/lake
 */
export function diskBufferPath(
  sink: string,
  buffer: Pick<DiskBufferOptions, 'path'>,
  dataDir: string,
): string {
  return resolve(buffer.path ?? join(dataDir, 'buffer', sink));
}

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
    .discriminatedUnion('type', [memoryBufferSchema, diskBufferSchema])
    .prefault({})
    .describe('Where batches wait for the sink: in memory (the default) or on disk, surviving restarts.'),
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
