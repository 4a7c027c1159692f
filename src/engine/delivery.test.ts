import { describe, expect, it } from 'vitest';
import type { Sink } from '../component/component.js';
import { sinkRunnerOptionsSchema } from '../config/sink-options.js';
import { testContext } from '../testing/context.js';
import { cycleEnd, nodeBatch } from '../testing/fixtures.js';
import { nodeSet } from '../testing/sets.js';
import { deliveredMarks } from './delivery.js';
import { SinkRunner } from './sink-runner.js';

describe('deliveredMarks', () => {
  it('gives a mark once every sink runner is done with what came before it, and not before', async () => {
    const log: string[] = [];
    /** A sink that takes `turns` event-loop turns to write each batch, logging when it is done. */
    const sink = (name: string, turns: number): Sink => ({
      write: async (batch) => {
        for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
        log.push(`${name} wrote ${batch.cycle}`);
      },
      close: () => Promise.resolve(),
    });
    const options = sinkRunnerOptionsSchema.parse({ max_in_flight: 4 });
    const runners = [
      new SinkRunner('fast', sink('fast', 1), options, testContext()),
      new SinkRunner('slow', sink('slow', 20), options, testContext()),
    ];
    const done = new Promise<void>((resolve) =>
      deliveredMarks(runners).subscribe((mark) => {
        log.push(`delivered ${mark.cycle}`);
        if (mark.cycle === 2) resolve();
      }),
    );
    const events = [
      nodeBatch('n1', 1, [nodeSet('n1')]),
      nodeBatch('n2', 1, [nodeSet('n2')]),
      cycleEnd(1, 2),
      nodeBatch('n1', 2, [nodeSet('n1')]),
      cycleEnd(2, 1),
    ];
    for (const event of events) for (const runner of runners) runner.accept(event);
    await done;
    await Promise.all(runners.map((r) => r.close()));
    const at = (entry: string) => log.indexOf(entry);
    expect(log.filter((e) => e.startsWith('delivered'))).toEqual(['delivered 1', 'delivered 2']);
    expect(at('delivered 1')).toBeGreaterThan(at('slow wrote 1'));
    expect(at('delivered 2')).toBeGreaterThan(at('slow wrote 2'));
    expect(at('slow wrote 1')).toBeGreaterThan(at('fast wrote 1'));
  });
});
