import { describe, expect, it } from 'vitest';
import type { MetricBatch, MetricSet } from '../model/types.js';
import { testContext } from '../testing/context.js';
import { deepFreeze } from '../testing/deep-freeze.js';
import type { Sink } from '../component/component.js';
import { DEFAULT_BUFFER_MAX_BYTES, sinkRunnerOptionsSchema } from '../config/sink-options.js';
import { SinkRunner } from './sink-runner.js';
import { SetValues } from '../model/set-values.js';

/** A large node batch: 1,000 pod sets of 25 values, about 0.95 MB as the runner estimates it. */
function bigBatch(cycle: number): MetricBatch {
  const values = new SetValues();
  for (let i = 0; i < 25; i++) values.set(`custom/metric_${i}`, i);
  const sets: MetricSet[] = [];
  for (let i = 0; i < 1000; i++) {
    sets.push({
      type: 'pod',
      key: `namespace:ns/pod:p${i}`,
      labels: { type: 'pod' },
      values,
      labeled: [],
      scrapeTime: 1,
      startTime: 0,
    });
  }
  // Frozen: what the fan-out hands to the runners is read-only.
  return deepFreeze({
    kind: 'batch',
    scope: 'node',
    node: `n${cycle}`,
    cycle,
    timestamp: cycle * 1000,
    sets,
  });
}

/** A sink that is down: no write ever finishes. */
const stuckSink: Sink = { write: () => new Promise<void>(() => {}), close: () => Promise.resolve() };

describe('buffer.max_bytes by default', () => {
  it('is 64 MiB', () => {
    const buffer = sinkRunnerOptionsSchema.parse({}).buffer;
    expect(buffer.type === 'disk' ? undefined : buffer.max_bytes).toBe(64 * 1024 * 1024);
    expect(DEFAULT_BUFFER_MAX_BYTES).toBe(64 * 1024 * 1024);
  });

  it('holds back the next cycle (block) once a stuck sink queues 64 MiB, long before 1,000 batches', () => {
    const ctx = testContext();
    const runner = new SinkRunner('slow', stuckSink, sinkRunnerOptionsSchema.parse({}), ctx);
    let accepted = 0;
    while (!runner.isBlocking() && accepted < 1000) runner.accept(bigBatch(++accepted));
    expect(accepted).toBeGreaterThan(60);
    expect(accepted).toBeLessThan(80);
    const queuedBytes = ctx.telemetry.value('heapstream_sink_queue_bytes', { sink: 'slow' });
    expect(queuedBytes).toBeGreaterThanOrEqual(DEFAULT_BUFFER_MAX_BYTES);
    expect(queuedBytes).toBeLessThan(DEFAULT_BUFFER_MAX_BYTES + 1024 * 1024);
  });

  it('drops (drop_newest) what a stuck sink cannot hold past 64 MiB, counted', () => {
    const ctx = testContext();
    const options = sinkRunnerOptionsSchema.parse({ buffer: { when_full: 'drop_newest' } });
    const runner = new SinkRunner('slow', stuckSink, options, ctx);
    for (let cycle = 1; cycle <= 200; cycle++) runner.accept(bigBatch(cycle));
    const dropped = ctx.telemetry.value('heapstream_sink_dropped_batches_total', {
      sink: 'slow',
      reason: 'drop_newest',
    });
    expect(dropped).toBeGreaterThan(120);
    expect(ctx.telemetry.value('heapstream_sink_queue_bytes', { sink: 'slow' })).toBeLessThan(
      DEFAULT_BUFFER_MAX_BYTES + 1024 * 1024,
    );
  });
});
