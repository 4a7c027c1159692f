import { z } from 'zod';
import { defineSink } from '../component/component.js';
import type { CycleEnd, MetricBatch } from '../model/types.js';
import { deepFreeze } from './deep-freeze.js';

/** What a collecting sink received, in arrival order. */
export interface Collected {
  readonly batches: MetricBatch[];
  readonly marks: CycleEnd[];
  /** Batches and marks interleaved as they arrived: for ordering checks. */
  readonly events: (MetricBatch | CycleEnd)[];
  closed: number;
}

/**
 * A sink that keeps everything it is given, for tests: register the returned definition, name its type in the
 * pipeline, and read `collected`. What it is given is deep-frozen on arrival, as sinks only read: anything that
 * changes a batch after handing it to the sinks (a processor that kept it, another sink) fails with a TypeError.
 *
 * @example
 * const { definition, collected } = collectingSink();
 * registry.register(definition); // then `sinks: { out: { type: collect } }`
 */
export function collectingSink(type = 'collect') {
  const collected: Collected = { batches: [], marks: [], events: [], closed: 0 };
  const definition = defineSink({
    type,
    description: 'Keeps every batch in memory, for tests.',
    config: z.strictObject({}),
    create: () => ({
      write(batch) {
        deepFreeze(batch);
        collected.batches.push(batch);
        collected.events.push(batch);
        return Promise.resolve();
      },
      cycleEnd(mark) {
        deepFreeze(mark);
        collected.marks.push(mark);
        collected.events.push(mark);
        return Promise.resolve();
      },
      close() {
        collected.closed++;
        return Promise.resolve();
      },
    }),
  });
  return { definition, collected };
}
