import { Writable } from 'node:stream';
import { pino } from 'pino';
import { VirtualAction, VirtualTimeScheduler, map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parsePipelineConfig } from '../config/index.js';
import type { PipelineEvent } from '../model/types.js';
import { schedulerClock } from '../testing/index.js';
import { defineSink, defineSource } from '../component/component.js';
import { createPipeline } from './pipeline.js';
import { Registry } from '../component/registry.js';

/** One empty node batch per tick. */
const tickSource = defineSource({
  type: 'ticking',
  description: 'one batch per tick',
  config: z.strictObject({}),
  create: (_config, ctx) =>
    ctx.ticks.pipe(
      map((tick): PipelineEvent => ({
        kind: 'batch',
        scope: 'node',
        node: 'n1',
        cycle: tick.cycle,
        timestamp: tick.time,
        sets: [],
      })),
    ),
});

/** A sink whose writes never finish: its queue fills and stays full. */
const stuckSink = defineSink({
  type: 'stuck',
  description: 'never delivers',
  config: z.strictObject({}),
  create: () => ({ write: () => new Promise<void>(() => undefined), close: () => Promise.resolve() }),
});

describe('pipeline', () => {
  it('warns about cycles skipped for a full `block` sink once a minute, with the count, not once a cycle', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    );
    const scheduler = new VirtualTimeScheduler(VirtualAction, 600_000);
    const registry = new Registry().register(tickSource, stuckSink);
    const config = parsePipelineConfig(
      'resolution: 1s\nsource: { type: ticking }\n' +
        'sinks:\n  lake: { type: stuck, buffer: { max_batches: 1, when_full: block } }\n',
      'p.yaml',
      registry,
      {},
    );
    const pipeline = createPipeline(config, { registry, logger, clock: schedulerClock(scheduler) });
    void pipeline.run();
    // Ten minutes: the first batch is being written, the second fills the queue, every later cycle is skipped.
    scheduler.flush();
    const skipped = pipeline.telemetry.total('heapstream_cycles_skipped_total');
    expect(skipped).toBeGreaterThan(590);
    const warnings = lines.filter((l) => String(l.msg).startsWith('cycle skipped'));
    expect(warnings.length).toBeLessThanOrEqual(11);
    expect(warnings[0]).toMatchObject({ sinks: ['lake'] });
    // Every skipped cycle is in a warning: logged at once or counted in the next one's `repeated`.
    const reported = warnings.reduce((n, w) => n + 1 + (typeof w.repeated === 'number' ? w.repeated : 0), 0);
    expect(skipped - reported).toBeLessThan(60);
    pipeline.abort();
  });
});
