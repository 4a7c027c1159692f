import { map, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { mapBatches } from '../component/operators.js';
import { owned } from '../model/owned.js';
import type { MetricBatch, MetricSet, PipelineEvent } from '../model/types.js';
import { checkProcessorContract, runProcessor } from './run-processor.js';
import { batchesOf, setByKey } from './events.js';
import { cycleEnd, nodeBatch, summaryBatch } from './fixtures.js';
import { podSet } from './sets.js';

/** Fills a value into every set it receives: allowed, the batch is the processor's until it passes it on. */
const fillsInPlace = mapBatches((b) => {
  for (const s of b.sets) owned(s).values.set('custom/seen', 1);
  return b;
});

const fixture = new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);
const events: PipelineEvent[] = [
  summaryBatch(fixture, { cycle: 1 }),
  cycleEnd(1, 1),
  summaryBatch(fixture, { cycle: 2 }),
  cycleEnd(2, 1),
];

describe('processor harness', () => {
  it('runProcessor returns what the processor emitted', async () => {
    const podsOnly = mapBatches((b) => ({ ...b, sets: b.sets.filter((s) => s.type === 'pod') }));
    const out = await runProcessor(podsOnly, {}, events);
    expect(out.map((e) => e.kind)).toEqual(['batch', 'cycle_end', 'batch', 'cycle_end']);
    const first = out[0] as MetricBatch;
    expect(first.sets.length).toBeGreaterThan(0);
    expect(first.sets.every((s) => s.type === 'pod')).toBe(true);
  });

  it('runProcessor lets a processor fill the sets it owns, and fails one that changes their labels', async () => {
    const out = await runProcessor(fillsInPlace, {}, [summaryBatch(fixture, { cycle: 1 }), cycleEnd(1, 1)]);
    expect((out[0] as MetricBatch).sets.every((s) => s.values.get('custom/seen') === 1)).toBe(true);
    const relabeling: OperatorFunction<PipelineEvent, PipelineEvent> = map((e) => {
      if (e.kind === 'batch') for (const s of e.sets) (s.labels as Record<string, string>)['x'] = 'y';
      return e;
    });
    const input = [summaryBatch(fixture, { cycle: 1 }), cycleEnd(1, 1)];
    await expect(runProcessor(relabeling, {}, input)).rejects.toThrow(TypeError);
  });

  it('builds cycle marks with failures, and batches and sets as a source would', () => {
    const failure = { node: 'n2', reason: 'timeout' as const, message: 'no answer in 5s' };
    expect(cycleEnd(2, 3, { failures: [failure] })).toMatchObject({
      cycle: 2,
      timestamp: 30_000,
      nodesExpected: 3,
      nodesAnswered: 2,
      failures: [failure],
    });
    const batch = nodeBatch('n1', 1, [podSet('prod', 'web', 'n1', { values: { 'cpu/usage': 1 } })]);
    expect(setByKey(batch, 'namespace:prod/pod:web')).toMatchObject({
      type: 'pod',
      labels: { namespace_name: 'prod', pod_name: 'web', nodename: 'n1', type: 'pod' },
      values: { 'cpu/usage': 1 },
    });
    expect(batchesOf([batch, cycleEnd(1, 1)])).toEqual([batch]);
  });

  it('passes a well-behaved processor', async () => {
    const report = await checkProcessorContract(
      mapBatches((b) => ({ ...b, sets: b.sets.slice(0, 3) })),
      {},
      events,
    );
    expect(report.problems).toEqual([]);
  });

  it('passes a processor that fills the sets it received in place', async () => {
    expect((await checkProcessorContract(fillsInPlace, {}, events)).problems).toEqual([]);
  });

  it('catches a processor that changes a batch it already passed on', async () => {
    let previous: MetricBatch | undefined; // kept across events: the bug the contract looks for
    const late: OperatorFunction<PipelineEvent, PipelineEvent> = map((e) => {
      if (previous !== undefined) owned(previous.sets[0] as MetricSet).values.set('custom/late', 1);
      if (e.kind === 'batch') previous = e;
      return e;
    });
    const report = await checkProcessorContract(late, {}, events);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatch(/what it already passed on/);
  });

  it('catches state shared between subscriptions', async () => {
    let seen = 0; // state outside the subscription: the bug the contract looks for
    const leaky = mapBatches((b) => ({ ...b, cycle: b.cycle + seen++ }));
    const report = await checkProcessorContract(leaky, {}, events);
    expect(report.problems).toContain(
      'a second subscription gave different output: state must live inside the subscription',
    );
  });
});
