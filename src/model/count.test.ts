import { describe, expect, it } from 'vitest';
import { Telemetry } from '../component/telemetry.js';
import { pipelineObserver } from '../engine/pipeline-telemetry.js';
import { systemClock } from '../component/clock.js';
import { summaryBatch } from '../testing/fixtures.js';
import { countBatch, valuesInBatch, valuesInSet } from './count.js';
import type { MetricSet, NodeBatch } from './types.js';
import { SetValues } from './set-values.js';

const fixture = new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);

/** The count by hand: for…in over every set's values plus its labeled values. */
function expectedCounts(batch: NodeBatch): Map<string, { sets: number; values: number }> {
  const byType = new Map<string, { sets: number; values: number }>();
  for (const set of batch.sets) {
    let values = set.labeled.length;
    values += set.values.size;
    const c = byType.get(set.type) ?? { sets: 0, values: 0 };
    c.sets++;
    c.values += values;
    byType.set(set.type, c);
  }
  return byType;
}

describe('countBatch', () => {
  const batch = summaryBatch(fixture, { node: 'n1' });

  it('counts sets and values (plain and labeled) per set type and in total', () => {
    const count = countBatch(batch);
    const expected = expectedCounts(batch);
    expect(new Map([...count.byType].map(([t, c]) => [t, { ...c }]))).toEqual(expected);
    const total = [...expected.values()].reduce((n, c) => n + c.values, 0);
    expect(count.values).toBe(total);
    expect(valuesInBatch(batch)).toBe(total);
    // A fixture with labeled values (filesystems), so the labeled part is really counted.
    expect(batch.sets.some((s) => s.labeled.length > 0)).toBe(true);
  });

  it('counts a batch once: a second call returns the same count', () => {
    expect(countBatch(batch)).toBe(countBatch(batch));
  });

  it('counts a set with 40 values added one by one (a dictionary-mode object) exactly', () => {
    const values = new SetValues();
    for (let i = 0; i < 40; i++) values.set(`m/${i}`, i);
    const set: MetricSet = { ...(batch.sets[0] as MetricSet), values, labeled: [] };
    expect(valuesInSet(set)).toBe(40);
  });
});

describe('pipelineObserver', () => {
  it('adds each batch’s sets and values to the per-type emitted counters', () => {
    const telemetry = new Telemetry();
    const observe = pipelineObserver(telemetry, systemClock());
    const batch = summaryBatch(fixture, { node: 'n1' });
    observe(batch);
    observe(summaryBatch(fixture, { node: 'n2' }));
    for (const [type, c] of expectedCounts(batch)) {
      expect(telemetry.value('heapstream_sets_emitted_total', { type })).toBe(2 * c.sets);
      expect(telemetry.value('heapstream_values_emitted_total', { type })).toBe(2 * c.values);
    }
  });
});
