import type { MetricBatch, MetricSet } from './types.js';

// Batches are immutable, so a count made once holds for every sink and observer that asks.
const valueCounts = new WeakMap<MetricBatch, number>();

/** Metric values in a set: plain values plus labeled ones. */
export function valuesInSet(set: MetricSet): number {
  let n = set.labeled.length;
  for (const _ in set.values) n++;
  return n;
}

/**
 * Metric values in a batch, counted once per batch however many sinks and observers ask.
 *
 * @example
 * telemetry.counter('heapstream_sink_values_sent_total', { sink }).inc(valuesInBatch(batch));
 */
export function valuesInBatch(batch: MetricBatch): number {
  let n = valueCounts.get(batch);
  if (n === undefined) {
    n = 0;
    for (const set of batch.sets) n += valuesInSet(set);
    valueCounts.set(batch, n);
  }
  return n;
}
