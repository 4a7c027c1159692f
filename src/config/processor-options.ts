import { z } from 'zod';

/**
 * The keys the engine adds to every processor entry, built-in or plugin, beside the processor's own: what happens
 * to a batch the processor fails on. Applied where the pipeline assembles its processors.
 */
export const processorOptionsSchema = z.strictObject({
  on_error: z
    .enum(['pass', 'drop'])
    .default('pass')
    .describe(
      'What happens to a batch the processor fails on (it throws, or its stream errors): passed on unprocessed, ' +
        'or dropped. Either way it is counted in heapstream_processor_errors_total, logged, and the processor ' +
        'starts afresh (its state is lost); cycle marks always go on.',
    ),
});

export type ProcessorOptions = z.output<typeof processorOptionsSchema>;
