import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../errors.js';
import type { MetricBatch, MetricSet } from '../model/types.js';
import { testContext } from '../testing/context.js';
import type { Sink } from './component.js';
import { sinkRunnerOptionsSchema } from './sink-options.js';
import { SinkRunner } from './sink-runner.js';

function set(type: MetricSet['type'], key: string, ns?: string): MetricSet {
  return {
    type,
    key,
    labels: ns === undefined ? { type } : { type, namespace_name: ns },
    values: { 'cpu/usage': 1, 'memory/usage': 2 },
    labeled: [],
    scrapeTime: 1,
    startTime: 0,
  };
}

function batch(cycle: number, sets: MetricSet[] = [set('node', 'node:n1')]): MetricBatch {
  return { kind: 'batch', scope: 'node', node: 'n1', cycle, timestamp: cycle * 1000, sets };
}

/** A sink whose writes wait until the test releases them, recording what it got. */
function gatedSink() {
  const written: number[] = [];
  const pending: (() => void)[] = [];
  let closed = 0;
  const sink: Sink = {
    write: (b) =>
      new Promise<void>((resolve) => {
        pending.push(() => {
          written.push(b.cycle);
          resolve();
        });
      }),
    close: () => {
      closed++;
      return Promise.resolve();
    },
  };
  return {
    sink,
    written,
    closed: () => closed,
    /** Releases writes one by one as they arrive until `done` settles. */
    releaseUntil: async (done: Promise<void>) => {
      let finished = false;
      void done.finally(() => (finished = true));
      while (!finished) {
        pending.shift()?.();
        await new Promise((r) => setTimeout(r, 1));
      }
    },
  };
}

const fast = { retry: { initial_backoff: '1ms', max_backoff: '5ms' } };

describe('SinkRunner', () => {
  it('delivers in order and counts sets and values', async () => {
    const ctx = testContext();
    const written: number[] = [];
    const runner = new SinkRunner(
      'a',
      { write: (b) => (written.push(b.cycle), Promise.resolve()), close: () => Promise.resolve() },
      sinkRunnerOptionsSchema.parse({}),
      ctx,
    );
    for (let i = 1; i <= 3; i++) runner.accept(batch(i, [set('node', 'node:n1'), set('pod', 'p', 'ns')]));
    await runner.close();
    expect(written).toEqual([1, 2, 3]);
    expect(ctx.telemetry.value('heapstream_sink_sets_sent_total', { sink: 'a' })).toBe(6);
    expect(ctx.telemetry.value('heapstream_sink_values_sent_total', { sink: 'a' })).toBe(12);
  });

  it('retries retryable errors with backoff until the write succeeds', async () => {
    const ctx = testContext();
    let calls = 0;
    const runner = new SinkRunner(
      'r',
      {
        write: () => (++calls < 3 ? Promise.reject(new RetryableError('broker down')) : Promise.resolve()),
        close: () => Promise.resolve(),
      },
      sinkRunnerOptionsSchema.parse(fast),
      ctx,
    );
    runner.accept(batch(1));
    await runner.close();
    expect(calls).toBe(3);
    expect(ctx.telemetry.value('heapstream_sink_retries_total', { sink: 'r' })).toBe(2);
    expect(ctx.telemetry.value('heapstream_sink_batches_sent_total', { sink: 'r' })).toBe(1);
  });

  it('waits at least as long as the server asked (Retry-After) before the next attempt', async () => {
    const ctx = testContext();
    const attempts: number[] = [];
    const runner = new SinkRunner(
      'ra',
      {
        write: () => {
          attempts.push(Date.now());
          return attempts.length === 1
            ? Promise.reject(new RetryableError('429 too many requests', { retryAfterMs: 150 }))
            : Promise.resolve();
        },
        close: () => Promise.resolve(),
      },
      sinkRunnerOptionsSchema.parse(fast),
      ctx,
    );
    runner.accept(batch(1));
    await runner.close();
    expect(attempts).toHaveLength(2);
    expect((attempts[1] ?? 0) - (attempts[0] ?? 0)).toBeGreaterThanOrEqual(140);
  });

  it('counts a permanent error as failed and goes on with the next batch', async () => {
    const ctx = testContext();
    const written: number[] = [];
    const runner = new SinkRunner(
      'p',
      {
        write: (b) =>
          b.cycle === 1
            ? Promise.reject(new PermanentError('bad schema'))
            : (written.push(b.cycle), Promise.resolve()),
        close: () => Promise.resolve(),
      },
      sinkRunnerOptionsSchema.parse(fast),
      ctx,
    );
    runner.accept(batch(1));
    runner.accept(batch(2));
    await runner.close();
    expect(written).toEqual([2]);
    expect(ctx.telemetry.value('heapstream_sink_failed_batches_total', { sink: 'p' })).toBe(1);
    expect(ctx.telemetry.value('heapstream_sink_retries_total', { sink: 'p' })).toBe(0);
  });

  it('gives up after max_attempts', async () => {
    const ctx = testContext();
    let calls = 0;
    const runner = new SinkRunner(
      'm',
      { write: () => (calls++, Promise.reject(new Error('boom'))), close: () => Promise.resolve() },
      sinkRunnerOptionsSchema.parse({ retry: { ...fast.retry, max_attempts: 4 } }),
      ctx,
    );
    runner.accept(batch(1));
    await runner.close();
    expect(calls).toBe(4);
    expect(ctx.telemetry.value('heapstream_sink_failed_batches_total', { sink: 'm' })).toBe(1);
  });

  it('drop_oldest keeps the newest batches and counts every drop', async () => {
    const ctx = testContext();
    const g = gatedSink();
    const runner = new SinkRunner(
      'd',
      g.sink,
      sinkRunnerOptionsSchema.parse({ buffer: { max_batches: 2, when_full: 'drop_oldest' } }),
      ctx,
    );
    for (let i = 1; i <= 5; i++) runner.accept(batch(i));
    await g.releaseUntil(runner.close());
    expect(g.written).toEqual([1, 4, 5]);
    expect(
      ctx.telemetry.value('heapstream_sink_dropped_batches_total', { sink: 'd', reason: 'drop_oldest' }),
    ).toBe(2);
  });

  it('drop_newest keeps the oldest batches', async () => {
    const ctx = testContext();
    const g = gatedSink();
    const runner = new SinkRunner(
      'n',
      g.sink,
      sinkRunnerOptionsSchema.parse({ buffer: { max_batches: 2, when_full: 'drop_newest' } }),
      ctx,
    );
    for (let i = 1; i <= 5; i++) runner.accept(batch(i));
    await g.releaseUntil(runner.close());
    expect(g.written).toEqual([1, 2, 3]);
    expect(
      ctx.telemetry.value('heapstream_sink_dropped_batches_total', { sink: 'n', reason: 'drop_newest' }),
    ).toBe(2);
  });

  it('block loses nothing and reports itself full so the engine holds the source back', async () => {
    const ctx = testContext();
    const g = gatedSink();
    const runner = new SinkRunner(
      'b',
      g.sink,
      sinkRunnerOptionsSchema.parse({ buffer: { max_batches: 2 } }),
      ctx,
    );
    runner.accept(batch(1));
    runner.accept(batch(2));
    expect(runner.isBlocking()).toBe(false);
    runner.accept(batch(3));
    expect(runner.isBlocking()).toBe(true);
    runner.accept(batch(4));
    await g.releaseUntil(runner.close());
    expect(g.written).toEqual([1, 2, 3, 4]);
    expect(runner.isBlocking()).toBe(false);
    expect(ctx.telemetry.total('heapstream_sink_dropped_batches_total')).toBe(0);
  });

  it('routes only the selected types, namespaces and metrics', async () => {
    const ctx = testContext();
    const got: MetricBatch[] = [];
    const runner = new SinkRunner(
      's',
      { write: (b) => (got.push(b), Promise.resolve()), close: () => Promise.resolve() },
      sinkRunnerOptionsSchema.parse({
        select: { types: ['pod'], namespaces: ['web'], metrics: ['cpu/usage'] },
      }),
      ctx,
    );
    const input = batch(1, [set('node', 'node:n1'), set('pod', 'a', 'web'), set('pod', 'b', 'db')]);
    runner.accept(Object.freeze(input));
    runner.accept(batch(2, [set('node', 'node:n1')]));
    await runner.close();
    expect(got).toHaveLength(1);
    expect(got[0]?.sets.map((s) => s.key)).toEqual(['a']);
    expect(got[0]?.sets[0]?.values).toEqual({ 'cpu/usage': 1 });
    expect(input.sets).toHaveLength(3);
  });

  it('times out a hung write and retries it', async () => {
    const ctx = testContext();
    let calls = 0;
    const runner = new SinkRunner(
      't',
      {
        write: () => (++calls === 1 ? new Promise<void>(() => {}) : Promise.resolve()),
        close: () => Promise.resolve(),
      },
      sinkRunnerOptionsSchema.parse({ ...fast, write_timeout: '20ms' }),
      ctx,
    );
    runner.accept(batch(1));
    await runner.close();
    expect(calls).toBe(2);
    expect(ctx.telemetry.value('heapstream_sink_batches_sent_total', { sink: 't' })).toBe(1);
  });

  it('drops what is still queued at shutdown_timeout, counted, and closes the sink once', async () => {
    const ctx = testContext();
    const g = gatedSink();
    const runner = new SinkRunner(
      'x',
      g.sink,
      sinkRunnerOptionsSchema.parse({ shutdown_timeout: '30ms' }),
      ctx,
    );
    for (let i = 1; i <= 3; i++) runner.accept(batch(i));
    await runner.close();
    expect(g.closed()).toBe(1);
    expect(
      ctx.telemetry.value('heapstream_sink_dropped_batches_total', { sink: 'x', reason: 'shutdown' }),
    ).toBe(2);
  });

  it('at shutdown_timeout also drops a batch that is being retried, counted, and stops retrying it', async () => {
    const ctx = testContext();
    let writes = 0;
    const sink: Sink = {
      write: () => {
        writes++;
        return Promise.reject(new RetryableError('down'));
      },
      close: () => Promise.resolve(),
    };
    const runner = new SinkRunner(
      'x',
      sink,
      // A long backoff: without giving up, the retry would wake up after the runner closed, and again and again.
      sinkRunnerOptionsSchema.parse({
        shutdown_timeout: '50ms',
        retry: { initial_backoff: '10s', max_backoff: '10s' },
      }),
      ctx,
    );
    runner.accept(batch(1));
    runner.accept(batch(2));
    await runner.close();
    expect(
      ctx.telemetry.value('heapstream_sink_dropped_batches_total', { sink: 'x', reason: 'shutdown' }),
    ).toBe(2);
    const attempts = writes;
    await new Promise((r) => setTimeout(r, 100));
    expect(writes).toBe(attempts);
  });
});
