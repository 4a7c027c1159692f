import { describe, expect, it } from 'vitest';
import { RetryableError } from '../component/errors.js';
import type { Sink } from '../component/component.js';
import type { PieceWriter } from '../component/pieces.js';
import type { MetricBatch, MetricSet } from '../model/types.js';
import { sinkRunnerOptionsSchema } from '../config/sink-options.js';
import { testContext } from '../testing/context.js';
import { SinkRunner } from './sink-runner.js';
import { SetValues } from '../model/set-values.js';

function set(key: string): MetricSet {
  return {
    type: 'pod',
    key,
    labels: { type: 'pod' },
    values: SetValues.from({ 'cpu/usage': 1 }),
    labeled: [],
    scrapeTime: 1,
    startTime: 0,
  };
}

function batch(cycle: number, keys: readonly string[]): MetricBatch {
  return { kind: 'batch', scope: 'node', node: 'n1', cycle, timestamp: cycle * 1000, sets: keys.map(set) };
}

/**
 * A piecewise sink with no state of its own: a piece is one set's key, `send` records each request and fails
 * as the test says (a RetryableError for a string, the error itself otherwise), `gate` holds requests back.
 */
function keySink(merge?: { maxBytes: number }) {
  const requests: string[][] = [];
  const failures: (string | undefined)[] = [];
  let encodes = 0;
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const pieces: PieceWriter<string> = {
    encode: (b) => {
      encodes++;
      if (b.sets.some((s) => s.key === 'bad')) throw new TypeError('cannot encode the set bad');
      return { pieces: b.sets.map((s) => s.key) };
    },
    send: async (keys) => {
      requests.push([...keys]);
      if (gate !== undefined) await gate;
      const failure = failures.shift();
      if (failure !== undefined) throw new RetryableError(failure);
    },
    ...(merge === undefined
      ? {}
      : { merge: { maxBytes: merge.maxBytes, bytesOf: (key: string) => key.length } }),
  };
  const sink: Sink = {
    pieces,
    write: () => Promise.reject(new Error('the runner writes a piecewise sink through its pieces')),
    close: () => Promise.resolve(),
  };
  return {
    sink,
    requests,
    failures,
    encodes: () => encodes,
    hold: () => void (gate = new Promise((resolve) => (open = resolve))),
    release: () => {
      gate = undefined;
      open?.();
    },
  };
}

const options = (extra: Record<string, unknown> = {}) =>
  sinkRunnerOptionsSchema.parse({ retry: { initial_backoff: '1ms', max_backoff: '5ms' }, ...extra });

describe('SinkRunner with a piecewise sink', () => {
  it('resends only the pieces of a retried batch that were not written, encoding the batch once', async () => {
    const kafka = keySink();
    const ctx = testContext();
    const runner = new SinkRunner('k', kafka.sink, options(), ctx);
    kafka.failures.push(undefined, 'broker gone');
    runner.accept(batch(1, ['a', 'b', 'c']));
    await runner.close();
    expect(kafka.requests).toEqual([['a'], ['b'], ['b'], ['c']]);
    expect(kafka.encodes()).toBe(1);
    expect(ctx.telemetry.value('heapstream_sink_retries_total', { sink: 'k' })).toBe(1);
    expect(ctx.telemetry.value('heapstream_sink_sets_sent_total', { sink: 'k' })).toBe(3);
  });

  it('lets the batches in flight share requests up to maxBytes, and sends a failed request again unchanged first', async () => {
    const kafka = keySink({ maxBytes: 4 });
    const ctx = testContext();
    const runner = new SinkRunner('k', kafka.sink, options({ max_in_flight: 8 }), ctx);
    kafka.hold();
    runner.accept(batch(1, ['a', 'b']));
    runner.accept(batch(2, ['c']));
    runner.accept(batch(3, ['d', 'e', 'f']));
    await new Promise((resolve) => setTimeout(resolve, 5));
    kafka.failures.push('broker gone');
    kafka.release();
    runner.accept(batch(4, ['g']));
    await runner.close();
    // Four bytes a request; the one that failed goes again as it was, before anything else.
    expect(kafka.requests.slice(0, 2)).toEqual([
      ['a', 'b', 'c', 'd'],
      ['a', 'b', 'c', 'd'],
    ]);
    expect(kafka.requests.slice(2).flat()).toEqual(['e', 'f', 'g']);
    expect(ctx.telemetry.value('heapstream_sink_batches_sent_total', { sink: 'k' })).toBe(4);
    expect(ctx.telemetry.value('heapstream_sink_sets_sent_total', { sink: 'k' })).toBe(7);
  });

  it('isolates a set the sink cannot encode and delivers the others of its batch', async () => {
    const kafka = keySink({ maxBytes: 100 });
    const ctx = testContext();
    const runner = new SinkRunner('k', kafka.sink, options(), ctx);
    runner.accept(batch(1, ['a', 'b', 'bad', 'c']));
    runner.accept(batch(2, ['d']));
    await runner.close();
    expect(kafka.requests.flat().sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(
      ctx.telemetry.value('heapstream_sink_isolated_sets_total', { sink: 'k', class: 'unexpected' }),
    ).toBe(1);
  });
});
