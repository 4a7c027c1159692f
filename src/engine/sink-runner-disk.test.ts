import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sink } from '../component/component.js';
import { sinkRunnerOptionsSchema } from '../config/sink-options.js';
import type { MetricBatch } from '../model/types.js';
import { deepFreeze } from '../testing/deep-freeze.js';
import { testContext } from '../testing/context.js';
import { HEADER_BYTES, scanRecords, type RecordInfo } from './disk-buffer/record.js';
import { SinkRunner } from './sink-runner.js';
import { SetValues } from '../model/set-values.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'heapstream-runner-disk-'));
  dirs.push(dir);
  return dir;
}

function batch(node: string, cycle: number, pods = 5): MetricBatch {
  return deepFreeze({
    kind: 'batch',
    scope: 'node',
    node,
    cycle,
    timestamp: cycle * 15_000,
    sets: Array.from({ length: pods }, (_, i) => ({
      type: 'pod' as const,
      key: `namespace:default/pod:p${i}`,
      labels: { type: 'pod', pod_name: `p${i}` },
      values: SetValues.from({ 'cpu/usage': i }),
      labeled: [],
      scrapeTime: cycle * 15_000,
      startTime: 0,
    })),
  });
}

/** A sink that records what it was given and resolves each write only when told to (or never). */
function recordingSink(answer: 'at_once' | 'never'): Sink & { written: string[] } {
  const written: string[] = [];
  return {
    written,
    write: (b) => {
      if (answer === 'never') return new Promise<void>(() => {});
      written.push(b.scope === 'node' ? `${b.node}@${b.cycle}` : `cluster@${b.cycle}`);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}

function options(path: string, buffer: Record<string, unknown> = {}, rest: Record<string, unknown> = {}) {
  return sinkRunnerOptionsSchema.parse({ buffer: { type: 'disk', path, ...buffer }, ...rest });
}

describe('a sink runner with buffer.type: disk', () => {
  it('delivers what it accepts, in order, and leaves nothing behind', async () => {
    const dir = tempDir();
    const sink = recordingSink('at_once');
    const ctx = testContext();
    const runner = new SinkRunner('disk', sink, options(dir), ctx);
    for (let i = 1; i <= 10; i++) runner.accept(batch(`n${i}`, 1));
    await runner.close();
    expect(sink.written).toEqual(Array.from({ length: 10 }, (_, i) => `n${i + 1}@1`));
    expect(ctx.telemetry.value('heapstream_sink_batches_sent_total', { sink: 'disk' })).toBe(10);
    expect(ctx.telemetry.value('heapstream_buffer_records', { sink: 'disk' })).toBe(0);
  });

  it('never holds back the clock, even full with block: only its own batches wait or go', async () => {
    const dir = tempDir();
    const ctx = testContext();
    const runner = new SinkRunner(
      'down',
      recordingSink('never'),
      options(dir, { max_size: 1024 * 1024, when_full: 'block' }, { shutdown_timeout: '10ms' }),
      ctx,
    );
    for (let cycle = 1; cycle <= 40; cycle++) {
      for (let n = 0; n < 5; n++) runner.accept(batch(`n${n}`, cycle, 200));
      expect(runner.isBlocking()).toBe(false);
      await runner.buffered();
    }
    expect(
      ctx.telemetry.value('heapstream_sink_dropped_batches_total', { sink: 'down', reason: 'blocked' }),
    ).toBeGreaterThan(0);
    expect(ctx.telemetry.value('heapstream_buffer_bytes', { sink: 'down' })).toBeLessThanOrEqual(1024 * 1024);
    await runner.close();
  });

  it('keeps on disk what shutdown_timeout left undelivered, and a new runner delivers it first, then new batches', async () => {
    const dir = tempDir();
    const first = new SinkRunner(
      'lake',
      recordingSink('never'),
      options(dir, {}, { shutdown_timeout: '10ms' }),
      testContext(),
    );
    for (let i = 1; i <= 4; i++) first.accept(batch(`n${i}`, 1));
    await first.close();

    const sink = recordingSink('at_once');
    const ctx = testContext();
    const second = new SinkRunner('lake', sink, options(dir), ctx);
    second.accept(batch('n5', 2));
    await second.close();
    expect(sink.written).toEqual(['n1@1', 'n2@1', 'n3@1', 'n4@1', 'n5@2']);
    // The batch being written when the first runner gave up may have reached its sink: counted as redelivered.
    expect(ctx.telemetry.value('heapstream_buffer_records_redelivered_total', { sink: 'lake' })).toBe(1);
    expect(
      ctx.telemetry.value('heapstream_sink_dropped_batches_total', { sink: 'lake', reason: 'shutdown' }),
    ).toBe(0);
  });

  it('on a reload, hands its buffer to the changed sink’s new runner, which opens it once the old one closed', async () => {
    const dir = tempDir();
    const old: string[] = [];
    const slow: Sink = {
      write: async (b) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        old.push(b.scope === 'node' ? `${b.node}@${b.cycle}` : 'cluster');
      },
      close: () => Promise.resolve(),
    };
    const first = new SinkRunner('lake', slow, options(dir), testContext());
    for (let i = 1; i <= 6; i++) first.accept(batch(`n${i}`, 1));
    await first.buffered();
    // The new runner of the same buffer directory starts while the old one still writes.
    const sink = recordingSink('at_once');
    const second = new SinkRunner('lake', sink, options(dir), testContext());
    second.accept(batch('n7', 2));
    expect(first.takeQueued()).toEqual([]);
    await first.close();
    await second.close();
    expect(old.length).toBeLessThan(6);
    expect([...old, ...sink.written]).toEqual([
      ...Array.from({ length: 6 }, (_, i) => `n${i + 1}@1`),
      'n7@2',
    ]);
  });

  it('delivers a cycle mark after the batches before it, from the buffer', async () => {
    const dir = tempDir();
    const seen: string[] = [];
    const sink: Sink = {
      write: async (b) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.push(`batch ${b.cycle}`);
      },
      cycleEnd: (mark) => {
        seen.push(`end ${mark.cycle}`);
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
    const runner = new SinkRunner('table', sink, options(dir, {}, { max_in_flight: 4 }), testContext());
    for (const cycle of [1, 2]) {
      runner.accept(batch('a', cycle));
      runner.accept(batch('b', cycle));
      runner.accept({
        kind: 'cycle_end',
        cycle,
        timestamp: cycle * 15_000,
        nodesExpected: 2,
        nodesAnswered: 2,
        failures: [],
        durationMs: 1,
      });
    }
    await runner.close();
    expect(seen.indexOf('end 1')).toBe(2);
    expect(seen.indexOf('end 2')).toBe(5);
  });
});

describe('a disk buffer’s drops in the sink’s drop counters (the data-loss accounting)', () => {
  const dropped = (ctx: ReturnType<typeof testContext>, sink: string, reason: string) => ({
    batches: ctx.telemetry.value('heapstream_sink_dropped_batches_total', { sink, reason }),
    sets: ctx.telemetry.value('heapstream_sink_dropped_sets_total', { sink, reason }),
  });

  it('counts the batches and sets a full buffer refuses, as the memory buffer does', async () => {
    const ctx = testContext();
    const runner = new SinkRunner(
      'full',
      recordingSink('never'),
      options(tempDir(), { max_size: 1024 * 1024, when_full: 'drop_newest' }, { shutdown_timeout: '10ms' }),
      ctx,
    );
    for (let cycle = 1; cycle <= 20; cycle++) {
      for (let n = 0; n < 5; n++) runner.accept(batch(`n${n}`, cycle, 200));
      await runner.buffered();
    }
    const { batches, sets } = dropped(ctx, 'full', 'drop_newest');
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBe(
      ctx.telemetry.value('heapstream_buffer_records_dropped_total', { sink: 'full', reason: 'drop_newest' }),
    );
    expect(sets).toBe(200 * batches);
    await runner.close();
  });

  it('counts a damaged record as a dropped batch (corrupt) and delivers the others', async () => {
    const dir = tempDir();
    const first = new SinkRunner(
      'lake',
      recordingSink('never'),
      options(dir, {}, { shutdown_timeout: '10ms' }),
      testContext(),
    );
    for (let i = 1; i <= 4; i++) first.accept(batch(`n${i}`, 1));
    await first.close();
    const segment = readdirSync(dir).find((name) => name.endsWith('.hsb')) as string;
    const data = readFileSync(join(dir, segment));
    const third = scanRecords(data).records[2] as RecordInfo;
    data[third.offset + HEADER_BYTES + 5] = (data[third.offset + HEADER_BYTES + 5] ?? 0) ^ 0xff;
    writeFileSync(join(dir, segment), data);

    const sink = recordingSink('at_once');
    const ctx = testContext();
    const second = new SinkRunner('lake', sink, options(dir), ctx);
    second.start();
    await second.close();
    expect(sink.written).toEqual(['n1@1', 'n2@1', 'n4@1']);
    expect(dropped(ctx, 'lake', 'corrupt')).toEqual({ batches: 1, sets: 0 });
    expect(ctx.telemetry.value('heapstream_buffer_corrupt_records_total', { sink: 'lake' })).toBe(1);
  });

  it('counts the sets of batches from before a restart that drop_oldest deletes, read back from their file', async () => {
    const dir = tempDir();
    const buffer = { max_size: 1024 * 1024, when_full: 'drop_oldest' };
    const firstCtx = testContext();
    const first = new SinkRunner(
      'old',
      recordingSink('never'),
      options(dir, buffer, { shutdown_timeout: '10ms' }),
      firstCtx,
    );
    // 150-set batches up to 80 % of max_size: nothing is dropped yet.
    for (
      let i = 1;
      firstCtx.telemetry.value('heapstream_buffer_bytes', { sink: 'old' }) < 0.8 * 2 ** 20;
      i++
    ) {
      first.accept(batch(`old${i}`, 1, 150));
      await first.buffered();
    }
    expect(dropped(firstCtx, 'old', 'drop_oldest').batches).toBe(0);
    await first.close();

    const ctx = testContext();
    const second = new SinkRunner(
      'old',
      recordingSink('never'),
      options(dir, buffer, { shutdown_timeout: '10ms' }),
      ctx,
    );
    second.start();
    for (let i = 1; i <= 100 && dropped(ctx, 'old', 'drop_oldest').batches === 0; i++) {
      second.accept(batch(`new${i}`, 2, 200));
      await second.buffered();
    }
    const { batches, sets } = dropped(ctx, 'old', 'drop_oldest');
    expect(batches).toBeGreaterThan(0);
    // Only segments from before were deleted, each of their batches 150 sets.
    expect(sets).toBe(150 * batches);
    await second.close();
  });
});
