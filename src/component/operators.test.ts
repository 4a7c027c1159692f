import { Subject, from, lastValueFrom, toArray, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { MetricBatch, PipelineEvent } from '../model/types.js';
import { cycleEnd, nodeBatch, nodeSet, podSet, testContext } from '../../src/testing/index.js';
import { filterSets, mapBatches, perNodeState, reportBatchErrors, statefulOperator } from './operators.js';

const collect = (events: PipelineEvent[], op: OperatorFunction<PipelineEvent, PipelineEvent>) =>
  lastValueFrom(from(events).pipe(op, toArray()));

describe('mapBatches', () => {
  it('maps batches and passes cycle marks through as the same objects', async () => {
    const mark = cycleEnd(1, 1);
    const out = await collect(
      [nodeBatch('a', 1, []), mark],
      mapBatches((b) => ({ ...b, cycle: 42 })),
    );
    expect((out[0] as MetricBatch).cycle).toBe(42);
    expect(out[1]).toBe(mark);
  });

  it('with an error handler, passes a failing batch on untouched, counts and keeps going', async () => {
    const ctx = testContext({ id: 'p' });
    const bad = nodeBatch('bad', 1, []);
    const good = nodeBatch('good', 1, []);
    const out = await collect(
      [bad, good],
      mapBatches((b) => {
        if (b.scope === 'node' && b.node === 'bad') throw new Error('boom');
        return { ...b, cycle: 7 };
      }, reportBatchErrors(ctx)),
    );
    expect(out[0]).toBe(bad);
    expect((out[1] as MetricBatch).cycle).toBe(7);
    expect(ctx.telemetry.value('heapstream_processor_errors_total', { processor: 'p' })).toBe(1);
  });

  it('without an error handler, the error ends the stream', async () => {
    const op = mapBatches(() => {
      throw new Error('boom');
    });
    await expect(collect([nodeBatch('a', 1, [])], op)).rejects.toThrow('boom');
  });
});

describe('filterSets', () => {
  it('drops sets, keeping the batch object when nothing is dropped', async () => {
    const keepAll = nodeBatch('a', 1, [podSet('ns', 'p', 'a')]);
    const mixed = nodeBatch('a', 2, [nodeSet('a'), podSet('ns', 'p', 'a')]);
    const out = await collect(
      [keepAll, mixed],
      filterSets((s) => s.type === 'pod'),
    );
    expect(out[0]).toBe(keepAll);
    expect((out[1] as MetricBatch).sets.map((s) => s.key)).toEqual(['namespace:ns/pod:p']);
    expect(mixed.sets).toHaveLength(2);
  });
});

describe('perNodeState', () => {
  it('creates state on first use and evicts nodes absent for more than N cycles', () => {
    const evicted: string[] = [];
    const nodes = perNodeState({
      create: () => ({ n: 0 }),
      evictAfterCycles: 2,
      onEvict: (node) => evicted.push(node),
    });
    nodes.get('a', 1).n++;
    nodes.get('b', 1).n++;
    nodes.get('a', 3).n++;
    expect(nodes.endCycle(3)).toBe(0);
    expect(nodes.endCycle(4)).toBe(1);
    expect(evicted).toEqual(['b']);
    expect(nodes.peek('a')?.n).toBe(2);
    expect(nodes.get('b', 5).n).toBe(0);
    expect(nodes.size).toBe(2);
  });
});

describe('statefulOperator', () => {
  it('gives each subscription its own state', () => {
    let created = 0;
    const op = statefulOperator(
      () => ({ id: ++created, seen: 0 }),
      (state) => mapBatches((b) => ({ ...b, cycle: state.id * 100 + ++state.seen })),
    );
    const input = new Subject<PipelineEvent>();
    const first: number[] = [];
    const second: number[] = [];
    input.pipe(op).subscribe((e) => first.push(e.cycle));
    input.next(nodeBatch('a', 0, []));
    input.pipe(op).subscribe((e) => second.push(e.cycle));
    input.next(nodeBatch('a', 0, []));
    expect(first).toEqual([101, 102]);
    expect(second).toEqual([201]);
  });
});
