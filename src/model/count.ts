import type { SetType } from './catalogue.js';
import type { MetricBatch, MetricSet } from './types.js';

/** Sets and metric values of one set type in a batch. */
export interface TypeCount {
  sets: number;
  values: number;
}

/** A batch's sets and values, in total and per set type. */
export interface BatchCount {
  readonly values: number;
  readonly byType: ReadonlyMap<SetType, Readonly<TypeCount>>;
}

// Batches are not changed once passed on, so a count made once holds for every sink and observer that asks:
// telemetry, every sink runner and the terminal all want the count of every batch.
const batchCounts = new WeakMap<MetricBatch, BatchCount>();

/** Metric values in a set: plain values plus labeled ones. */
export function valuesInSet(set: MetricSet): number {
  return set.labeled.length + set.values.size;
}

/**
 * Sets and values of a batch, per set type, counted once per batch however many sinks and observers ask.
 *
 * @example
 * for (const [type, { sets }] of countBatch(batch).byType) setsEmitted(type).inc(sets);
 */
export function countBatch(batch: MetricBatch): BatchCount {
  let count = batchCounts.get(batch);
  if (count === undefined) {
    const byType = new Map<SetType, TypeCount>();
    let values = 0;
    for (const set of batch.sets) {
      const n = valuesInSet(set);
      values += n;
      const typeCount = byType.get(set.type);
      if (typeCount === undefined) byType.set(set.type, { sets: 1, values: n });
      else {
        typeCount.sets++;
        typeCount.values += n;
      }
    }
    count = { values, byType };
    batchCounts.set(batch, count);
  }
  return count;
}

/**
 * Metric values in a batch (see countBatch).
 *
 * @example
 * telemetry.counter('heapstream_sink_values_sent_total', { sink }).inc(valuesInBatch(batch));
 */
export function valuesInBatch(batch: MetricBatch): number {
  return countBatch(batch).values;
}
