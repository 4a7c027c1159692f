import { lastValueFrom, mergeMap, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { resolutionClock, systemClock } from '../component/clock.js';
import type { SourceContext } from '../component/component.js';
import { Telemetry } from '../component/telemetry.js';
import type { CycleEnd } from '../model/types.js';
import { testContext } from '../testing/context.js';
import { NodeScraper } from './node-scraper.js';
import type { NodeTarget } from '../component/node-target.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('NodeScraper', () => {
  it('a start just before a cycle boundary makes no healthy node busy', async () => {
    const telemetry = new Telemetry();
    const ctx: SourceContext = {
      ...testContext({ telemetry, resolutionMs: 1000 }),
      ticks: resolutionClock(1000, systemClock(), true),
      provideMetadata: () => undefined,
    };
    // Healthy nodes that answer in 150 ms, well within a cycle, but not within the 50 ms left before the boundary.
    const scraper = new NodeScraper(ctx, 16, () => sleep(150).then(() => []));
    const nodes: NodeTarget[] = ['a', 'b', 'c'].map((name) => ({ name, address: '127.0.0.1', port: 1 }));
    await sleep(1000 - (Date.now() % 1000) + 950);
    const marks = await lastValueFrom(
      ctx.ticks.pipe(
        take(2),
        mergeMap((tick) => scraper.cycle(tick, nodes)),
        toArray(),
      ),
    );
    const ends = marks.filter((e): e is CycleEnd => e.kind === 'cycle_end');
    expect(ends.map((m) => m.failures.map((f) => `${f.node} ${f.reason}`))).toEqual([[], []]);
    expect(ends.map((m) => m.nodesAnswered)).toEqual([3, 3]);
    expect(telemetry.total('heapstream_scrape_errors_total')).toBe(0);
  });
});
