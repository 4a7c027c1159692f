import { map, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { mapBatches } from '../component/operators.js';
import type { MetricBatch, PipelineEvent } from '../model/types.js';
import { checkProcessorContract, runProcessor } from './run-processor.js';
import { cycleEnd, summaryBatch } from './fixtures.js';

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
