// A plugin with a bug: it throws on the batches of one cycle and counts batches in its subscription's state.
import { z } from 'zod';
import { defineProcessor, mapBatches, statefulOperator } from '../../src/index.js';

export const throwing = defineProcessor({
  type: 'throws_on_cycle',
  description: 'Throws on every batch of one cycle; otherwise stamps each batch with how many it has seen.',
  config: z.strictObject({ cycle: z.number().int() }),
  create: (config) =>
    statefulOperator(
      () => ({ seen: 0 }),
      (state) =>
        mapBatches((batch) => {
          if (batch.cycle === config.cycle) throw new Error(`cannot handle cycle ${batch.cycle}`);
          state.seen++;
          return { ...batch, sets: batch.sets.slice(0, state.seen) };
        }),
    ),
});
