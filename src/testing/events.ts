import type { ClusterBatch, MetricBatch, MetricSet, PipelineEvent } from '../model/types.js';

/**
 * The batches among what a processor emitted, without the cycle marks.
 *
 * @example
 * const [first, second] = batchesOf(await runProcessor(rate, {}, events));
 */
export function batchesOf(events: readonly PipelineEvent[]): MetricBatch[] {
  return events.filter((e): e is MetricBatch => e.kind === 'batch');
}

/** The cluster-wide batches (what `aggregate` adds) among what a processor emitted. */
export function clusterBatchesOf(events: readonly PipelineEvent[]): ClusterBatch[] {
  return events.filter((e): e is ClusterBatch => e.kind === 'batch' && e.scope === 'cluster');
}

/**
 * The set with `key` in a batch; throws (failing the test with the key in the message) when it is absent.
 *
 * @example
 * setByKey(batch, 'namespace:prod/pod:web-1').values['cpu/usage_rate']
 */
export function setByKey(batch: MetricBatch | undefined, key: string): MetricSet {
  const set = batch?.sets.find((s) => s.key === key);
  if (set === undefined) throw new Error(`no set ${key} in batch`);
  return set;
}

/**
 * A labeled value of a set by metric name and `resource_id` (a filesystem or disk), or undefined.
 *
 * @example
 * labeledValue(set, 'filesystem/usage', '/')
 */
export function labeledValue(set: MetricSet, name: string, resourceId: string): number | undefined {
  return set.labeled.find((l) => l.name === name && l.labels.resource_id === resourceId)?.value;
}
