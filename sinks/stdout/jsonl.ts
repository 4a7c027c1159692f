import type { MetricBatch, MetricSet } from '../../src/model/types.js';

/**
 * One JSON object per metric set: `time` (the kubelet's sample time, or the batch time when it gave none),
 * `type`, `key`, `labels`, `values` (metric name → number) and `labeled` (values with their own labels).
 *
 * @example
 * {"time":"2026-11-28T10:00:00.000Z","type":"node","key":"node:n1","labels":{…},"values":{"cpu/usage":1},"labeled":[]}
 */
export function formatJsonl(batch: MetricBatch): string {
  let out = '';
  const batchTime = new Date(batch.timestamp).toISOString();
  for (const set of batch.sets) out += formatSet(set, batchTime) + '\n';
  return out;
}

function formatSet(set: MetricSet, batchTime: string): string {
  return JSON.stringify({
    time: set.scrapeTime > 0 ? new Date(set.scrapeTime).toISOString() : batchTime,
    type: set.type,
    key: set.key,
    labels: set.labels,
    values: set.values,
    labeled: set.labeled,
  });
}
