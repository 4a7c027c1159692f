// A source and a sink in one plugin module, both named exports: every definition a module exports is registered.
import { appendFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { from, mergeMap } from 'rxjs';
import { z } from 'zod';
import { defineSink, defineSource, type PipelineEvent } from '../../src/index.js';
import { cycleEnd, summaryBatch } from '../../src/testing/index.js';

/** Replays one saved `/stats/summary` payload as one node's batch per tick, then the cycle's mark. */
export const replaySource = defineSource({
  type: 'replay_summary',
  description: 'Replays a saved /stats/summary payload every cycle.',
  config: z.strictObject({ payload: z.string().min(1), node: z.string().default('node-1') }),
  create: (config, ctx) =>
    ctx.ticks.pipe(
      mergeMap((tick) =>
        from<PipelineEvent[]>([
          summaryBatch(resolve(ctx.baseDir, config.payload), {
            node: config.node,
            cycle: tick.cycle,
            timestamp: tick.time,
          }),
          cycleEnd(tick.cycle, 1, { timestamp: tick.time }),
        ]),
      ),
    ),
});

/** Appends one JSON line per batch delivered: its cycle, node and how many sets of each namespace. */
export const summaryLinesSink = defineSink({
  type: 'summary_lines',
  description: 'Writes a one-line summary of each batch to a file.',
  config: z.strictObject({ path: z.string().min(1) }),
  create: (config) => ({
    write: async (batch) => {
      const namespaces: Record<string, number> = {};
      for (const set of batch.sets) {
        const ns = set.labels.namespace_name ?? '-';
        namespaces[ns] = (namespaces[ns] ?? 0) + 1;
      }
      const line = { cycle: batch.cycle, scope: batch.scope, sets: batch.sets.length, namespaces };
      await appendFile(config.path, `${JSON.stringify(line)}\n`);
    },
    close: () => Promise.resolve(),
  }),
});

/** Not a definition: helpers and constants beside definitions are left alone. */
export const version = '1.0';
