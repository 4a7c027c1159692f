import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../component/errors.js';
import type { MetricBatch, MetricSet } from '../model/types.js';
import { testContext } from '../testing/context.js';
import { cycleEnd } from '../testing/fixtures.js';
import { deepFreeze } from '../testing/deep-freeze.js';
import type { Sink } from '../component/component.js';
import { createLogger } from '../component/logger.js';
import { sinkRunnerOptionsSchema } from '../config/sink-options.js';
import { SinkRunner } from './sink-runner.js';
import { SetValues } from '../model/set-values.js';

function set(type: MetricSet['type'], key: string, ns?: string): MetricSet {
  return {
    type,
    key,
    labels: ns === undefined ? { type } : { type, namespace_name: ns },
    values: SetValues.from({ 'cpu/usage': 1, 'memory/usage': 2 }),
    labeled: [],
    scrapeTime: 1,
    startTime: 0,
  };
}

/** Deep-frozen, as every batch the fan-out hands to the runners is read-only: a runner or sink that changes it throws. */
function batch(cycle: number, sets: MetricSet[] = [set('node', 'node:n1')]): MetricBatch {
  return deepFreeze({ kind: 'batch', scope: 'node', node: 'n1', cycle, timestamp: cycle * 1000, sets });
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

  it('reports a cycle mark settled only once every batch before it is written, for a sink without cycleEnd', async () => {
    const gated = gatedSink();
    const runner = new SinkRunner(
      'a',
      gated.sink,
      sinkRunnerOptionsSchema.parse({ max_in_flight: 4 }),
      testContext(),
    );
    const events: string[] = [];
    runner.reportSettledMarks((mark) => events.push(`mark ${mark.cycle} after ${gated.written.join(',')}`));
    runner.accept(batch(1));
    runner.accept(batch(2));
    runner.accept(cycleEnd(2, 1));
    runner.accept(batch(3));
    runner.accept(cycleEnd(3, 1));
    const closed = runner.close();
    await gated.releaseUntil(closed);
    await closed;
    expect(events).toEqual(['mark 2 after 1,2', 'mark 3 after 1,2,3']);
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

  it('does not retry at once when the server asks for a wait longer than a timer can hold', async () => {
    const ctx = testContext();
    const attempts: number[] = [];
    const runner = new SinkRunner(
      'far',
      {
        write: () => {
          attempts.push(Date.now());
          // 30 years: a Node.js timer past 2^31−1 ms fires after 1 ms, which would retry in a tight loop.
          return Promise.reject(new RetryableError('503', { retryAfterMs: 1e12 }));
        },
        close: () => Promise.resolve(),
      },
      sinkRunnerOptionsSchema.parse({ ...fast, shutdown_timeout: '200ms' }),
      ctx,
    );
    runner.accept(batch(1));
    await runner.close();
    expect(attempts).toHaveLength(1);
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
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const runner = new SinkRunner(
      'm',
      { write: () => (calls++, Promise.reject(refused)), close: () => Promise.resolve() },
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
    runner.accept(input);
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

  describe('errors that are not transient', () => {
    const dataDir = () => mkdtemp(join(tmpdir(), 'heapstream-dead-letter-'));
    const sets100 = (bad: readonly number[] = []) =>
      Array.from({ length: 100 }, (_, i) => set('pod', bad.includes(i) ? `bad-${i}` : `pod-${i}`, 'ns'));
    const deadLetters = async (dir: string, sink: string) =>
      (await readFile(join(dir, 'dead-letter', `${sink}.jsonl`), 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown> & { set: { key: string } });

    /** A sink that cannot encode sets whose key starts with `bad-`, the way the InfluxDB sink met a numeric label. */
    function encodingSink() {
      const delivered: string[] = [];
      let writes = 0;
      const sink: Sink = {
        write: (b) => {
          writes++;
          if (b.sets.some((s) => s.key.startsWith('bad-')))
            throw new TypeError('text.slice is not a function');
          for (const s of b.sets) delivered.push(s.key);
          return Promise.resolve();
        },
        close: () => Promise.resolve(),
      };
      return { sink, delivered, writes: () => writes };
    }

    it('isolate a set the sink cannot encode: the other 99 are delivered, the bad one is dead-lettered, the queue moves on', async () => {
      const ctx = testContext();
      const dir = await dataDir();
      const bad = encodingSink();
      const good = gatedSink();
      const options = sinkRunnerOptionsSchema.parse({ ...fast, buffer: { max_batches: 2 } });
      // max_attempts 0 and when_full block, as shipped: before, the TypeError was retried forever and the queue filled.
      const runner = new SinkRunner('bad', bad.sink, options, ctx, { dataDir: dir });
      const other = new SinkRunner('other', good.sink, options, ctx);
      for (let cycle = 1; cycle <= 5; cycle++) {
        const b = batch(cycle, sets100([37]));
        runner.accept(b);
        other.accept(b);
        // The engine skips the next cycle while any `block` sink is full: the bad sink must never be.
        await new Promise((r) => setTimeout(r, 20));
        expect(runner.isBlocking()).toBe(false);
      }
      await Promise.all([runner.close(), good.releaseUntil(other.close())]);
      expect(good.written).toEqual([1, 2, 3, 4, 5]);
      expect(bad.delivered).toHaveLength(5 * 99);
      expect(bad.delivered).not.toContain('bad-37');
      // One bad set among 100 takes at most ⌈log2 100⌉ = 7 splits of two writes to find; set 37 takes 6.
      expect(bad.writes()).toBe(5 * (1 + 2 * 6));
      expect(ctx.telemetry.value('heapstream_sink_sets_sent_total', { sink: 'bad' })).toBe(5 * 99);
      expect(ctx.telemetry.value('heapstream_sink_retries_total', { sink: 'bad' })).toBe(0);
      expect(
        ctx.telemetry.value('heapstream_sink_isolated_sets_total', { sink: 'bad', class: 'unexpected' }),
      ).toBe(5);
      expect(ctx.telemetry.value('heapstream_sink_dead_lettered_sets_total', { sink: 'bad' })).toBe(5);
      const lines = await deadLetters(dir, 'bad');
      expect(lines.map((l) => [l.sink, l.node, l.cycle, l.set.key])).toEqual(
        [1, 2, 3, 4, 5].map((cycle) => ['bad', 'n1', cycle, 'bad-37']),
      );
      expect(lines[0]?.error).toBe('TypeError: text.slice is not a function');
      expect(lines[0]?.set).toEqual(JSON.parse(JSON.stringify(set('pod', 'bad-37', 'ns'))));
      expect(typeof lines[0]?.time).toBe('string');
    });

    it('logs a refused set once per kind of error, naming the sink, the set and the node', async () => {
      const lines: string[] = [];
      const destination = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      });
      const ctx = testContext({ logger: createLogger({ level: 'error', destination }) });
      const runner = new SinkRunner('bad', encodingSink().sink, sinkRunnerOptionsSchema.parse(fast), ctx);
      for (let cycle = 1; cycle <= 3; cycle++) runner.accept(batch(cycle, sets100([5])));
      await runner.close();
      const logs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatchObject({ sink: 'bad', node: 'n1', key: 'bad-5', class: 'unexpected' });
      expect(logs[0]?.msg).toContain('TypeError: text.slice is not a function');
    });

    it.each([
      ['ENOENT', 'mkdir lake: no such file or directory'],
      ['EROFS', 'read-only file system'],
    ])(
      'a file-system %s is not retried forever: the batch is dead-lettered and the next one tried',
      async (code, message) => {
        const ctx = testContext();
        const dir = await dataDir();
        let connects = 0;
        const sink: Sink = {
          connect: () => (connects++, Promise.reject(Object.assign(new Error(message), { code }))),
          write: () => Promise.resolve(),
          close: () => Promise.resolve(),
        };
        const runner = new SinkRunner(
          'files',
          sink,
          sinkRunnerOptionsSchema.parse({ ...fast, shutdown_timeout: '2s' }),
          ctx,
          { dataDir: dir },
        );
        runner.accept(batch(1, sets100()));
        runner.accept(batch(2, sets100()));
        await runner.close();
        expect(ctx.telemetry.value('heapstream_sink_retries_total', { sink: 'files' })).toBe(0);
        // A sink that cannot connect says nothing about the sets: no splitting, one attempt per batch.
        expect(connects).toBe(2);
        expect(ctx.telemetry.value('heapstream_sink_failed_batches_total', { sink: 'files' })).toBe(2);
        expect(ctx.telemetry.value('heapstream_sink_dead_lettered_sets_total', { sink: 'files' })).toBe(200);
        expect(ctx.telemetry.total('heapstream_sink_dropped_sets_total')).toBe(0);
        expect(
          ctx.telemetry.value('heapstream_sink_isolated_sets_total', { sink: 'files', class: 'file_system' }),
        ).toBe(200);
      },
    );

    it.each([
      ['a RetryableError', () => new RetryableError('503 service unavailable')],
      ['a socket reset', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
      [
        'fetch failed on a refused connection',
        () =>
          new TypeError('fetch failed', {
            cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
          }),
      ],
      ['a full disk', () => Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })],
    ])('%s is still retried until the write succeeds, nothing set aside', async (_what, error) => {
      const ctx = testContext();
      const got: number[] = [];
      let calls = 0;
      const runner = new SinkRunner(
        'r',
        {
          write: (b) =>
            ++calls <= 3 ? Promise.reject(error()) : (got.push(b.sets.length), Promise.resolve()),
          close: () => Promise.resolve(),
        },
        sinkRunnerOptionsSchema.parse(fast),
        ctx,
      );
      runner.accept(batch(1, sets100()));
      await runner.close();
      expect(got).toEqual([100]);
      expect(ctx.telemetry.value('heapstream_sink_retries_total', { sink: 'r' })).toBe(3);
      expect(ctx.telemetry.total('heapstream_sink_isolated_sets_total')).toBe(0);
    });

    it('a sink refusing every set (400 unknown database) costs a bounded number of writes and dead-letters the batch', async () => {
      const ctx = testContext();
      const dir = await dataDir();
      let writes = 0;
      const runner = new SinkRunner(
        'tsdb',
        {
          write: () => (writes++, Promise.reject(new PermanentError('400: database not found: "k8s"'))),
          close: () => Promise.resolve(),
        },
        sinkRunnerOptionsSchema.parse(fast),
        ctx,
        { dataDir: dir },
      );
      runner.accept(batch(1, sets100()));
      await runner.close();
      // The first write, then the split budget 2·⌈log2 100⌉ + 8 = 22.
      expect(writes).toBe(1 + 22);
      expect(ctx.telemetry.value('heapstream_sink_failed_batches_total', { sink: 'tsdb' })).toBe(1);
      expect(ctx.telemetry.value('heapstream_sink_dead_lettered_sets_total', { sink: 'tsdb' })).toBe(100);
      const lines = await deadLetters(dir, 'tsdb');
      expect(new Set(lines.map((l) => l.set.key))).toEqual(new Set(sets100().map((s) => s.key)));
      expect(lines[0]?.error).toBe('PermanentError: 400: database not found: "k8s"');
    });

    it('finds a pod whose sets all carry the bad label and delivers the rest', async () => {
      const ctx = testContext();
      const bad = encodingSink();
      const runner = new SinkRunner('bad', bad.sink, sinkRunnerOptionsSchema.parse(fast), ctx, {
        dataDir: await dataDir(),
      });
      runner.accept(batch(1, sets100([40, 41, 42])));
      await runner.close();
      expect(bad.delivered).toHaveLength(97);
      expect(ctx.telemetry.value('heapstream_sink_dead_lettered_sets_total', { sink: 'bad' })).toBe(3);
    });

    it('scattered bad sets beyond the split budget: the parts still failing are set aside whole, nothing lost', async () => {
      const ctx = testContext();
      const bad = encodingSink();
      const runner = new SinkRunner('bad', bad.sink, sinkRunnerOptionsSchema.parse(fast), ctx, {
        dataDir: await dataDir(),
      });
      runner.accept(batch(1, sets100([3, 4, 60, 90])));
      await runner.close();
      const deadLettered = ctx.telemetry.value('heapstream_sink_dead_lettered_sets_total', { sink: 'bad' });
      expect(bad.writes()).toBeLessThanOrEqual(1 + 22);
      expect(bad.delivered.length + deadLettered).toBe(100);
      expect(bad.delivered.length).toBeGreaterThanOrEqual(80);
    });

    it('does not split or resend a batch the sink delivered in part (the rest would be duplicated)', async () => {
      const ctx = testContext();
      let writes = 0;
      const runner = new SinkRunner(
        'kafka',
        {
          write: () => (writes++, Promise.reject(new PermanentError('2 sets too large', { partial: true }))),
          close: () => Promise.resolve(),
        },
        sinkRunnerOptionsSchema.parse(fast),
        ctx,
        { dataDir: await dataDir() },
      );
      runner.accept(batch(1, sets100()));
      await runner.close();
      expect(writes).toBe(1);
      expect(ctx.telemetry.value('heapstream_sink_failed_batches_total', { sink: 'kafka' })).toBe(1);
      expect(ctx.telemetry.total('heapstream_sink_dead_lettered_sets_total')).toBe(0);
    });

    it('stops dead-lettering at the size bound, counting the rest as dropped', async () => {
      const ctx = testContext();
      const dir = await dataDir();
      const runner = new SinkRunner(
        'tsdb',
        { write: () => Promise.reject(new PermanentError('400')), close: () => Promise.resolve() },
        sinkRunnerOptionsSchema.parse(fast),
        ctx,
        { dataDir: dir, maxBytes: 2000 },
      );
      runner.accept(batch(1, sets100()));
      await runner.close();
      const lines = await deadLetters(dir, 'tsdb');
      const written = ctx.telemetry.value('heapstream_sink_dead_lettered_sets_total', { sink: 'tsdb' });
      expect(written).toBe(lines.length);
      expect(written).toBeGreaterThan(0);
      expect(
        ctx.telemetry.value('heapstream_sink_dropped_sets_total', {
          sink: 'tsdb',
          reason: 'dead_letter_full',
        }),
      ).toBe(100 - written);
      expect((await readFile(join(dir, 'dead-letter', 'tsdb.jsonl'))).length).toBeLessThanOrEqual(2000);
    });

    it('a dead-letter file that cannot be written costs the sets, counted, never a retry or a stall', async () => {
      const ctx = testContext();
      const dir = await dataDir();
      // A file where the directory should be: mkdir fails as it would on a read-only volume.
      await writeFile(join(dir, 'dead-letter'), '');
      const bad = encodingSink();
      const runner = new SinkRunner('bad', bad.sink, sinkRunnerOptionsSchema.parse(fast), ctx, {
        dataDir: dir,
      });
      for (let cycle = 1; cycle <= 3; cycle++) runner.accept(batch(cycle, sets100([0])));
      await runner.close();
      expect(bad.delivered).toHaveLength(3 * 99);
      expect(
        ctx.telemetry.value('heapstream_sink_dropped_sets_total', {
          sink: 'bad',
          reason: 'dead_letter_failed',
        }),
      ).toBe(3);
      expect(ctx.telemetry.total('heapstream_sink_dead_lettered_sets_total')).toBe(0);
    });
  });
});
