import { map, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { mapBatches } from '../component/operators.js';
import type { MetricBatch, PipelineEvent } from '../model/types.js';
import { checkProcessorContract, runProcessor } from './run-processor.js';
import { batchesOf, setByKey } from './events.js';
import { cycleEnd, nodeBatch, summaryBatch } from './fixtures.js';
import { podSet } from './sets.js';

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

  it('runProcessor fails a processor that mutates its input', async () => {
    const mutating: OperatorFunction<PipelineEvent, PipelineEvent> = map((e) => {
      if (e.kind === 'batch') (e.sets as unknown[]).push(e.sets[0]);
      return e;
    });
    const input = [summaryBatch(fixture, { cycle: 1 }), cycleEnd(1, 1)];
    await expect(runProcessor(mutating, {}, input)).rejects.toThrow(TypeError);
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

  it('catches a processor that mutates its input', async () => {
    const mutating: OperatorFunction<PipelineEvent, PipelineEvent> = map((e) => {
      if (e.kind === 'batch') (e.sets as unknown[]).push(e.sets[0]);
      return e;
    });
    const report = await checkProcessorContract(mutating, {}, events);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatch(/mutates its input/);
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
