// The complete example of docs/plugins.md, kept here so that it is compiled and tested.
import { pipe, tap } from 'rxjs';
import { z } from 'zod';
import {
  defineProcessor,
  mapBatches,
  owned,
  perNodeState,
  reportBatchErrors,
  statefulOperator,
} from '../../src/index.js'; // in your project: from 'heapstream'

const config = z.strictObject({
  min_growth_bytes: z.number().int().nonnegative().default(0),
  evict_after_cycles: z.number().int().positive().default(3),
});

/** Adds `memory/working_set_growth` to pod sets: bytes gained since the pod's previous sample on that node. */
export default defineProcessor({
  type: 'working_set_growth',
  description: 'Adds memory/working_set_growth to pod sets (bytes since the previous cycle).',
  config,
  create: (cfg, ctx) =>
    statefulOperator(
      // Per subscription, per node: pod key → last working set. A node gone for 3 cycles is forgotten.
      () =>
        perNodeState({
          create: () => ({ last: new Map<string, number>() }),
          evictAfterCycles: cfg.evict_after_cycles,
        }),
      (nodes) =>
        pipe(
          // Cycle marks are when absent nodes are forgotten.
          tap((event) => {
            if (event.kind === 'cycle_end') nodes.endCycle(event.cycle);
          }),
          mapBatches((batch) => {
            if (batch.scope !== 'node') return batch; // cluster batches: nothing to do
            const state = nodes.get(batch.node, batch.cycle);
            // Rebuilt from each batch, so pods that left the node are forgotten with it.
            const seen = new Map<string, number>();
            for (const set of batch.sets) {
              const now = set.type === 'pod' ? set.values.get('memory/working_set') : undefined;
              if (now === undefined) continue;
              seen.set(set.key, now);
              const before = state.last.get(set.key);
              if (before === undefined || now - before < cfg.min_growth_bytes) continue;
              // The batch is this processor's until it returns it: the value is added in place, no copy.
              owned(set).values.set('memory/working_set_growth', now - before);
            }
            state.last = seen;
            return batch;
          }, reportBatchErrors(ctx)),
        ),
    ),
});
