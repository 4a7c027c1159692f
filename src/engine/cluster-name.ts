import { map, type OperatorFunction } from 'rxjs';
import { LABEL, type Labels } from '../model/labels.js';
import type { MetricSet, PipelineEvent } from '../model/types.js';

/**
 * The pipeline's `cluster_name` on every event and every set: events get `cluster`, sets a `cluster_name` label.
 * Applied after the source (so processors that key by cluster see it) and again before the sinks (for sets a
 * processor made without it). What already carries a cluster keeps it: a second tier that reads several
 * clusters' batches from Kafka does not rename them. Labels objects are shared across sets and cycles while
 * unchanged, so the labelled copy of each is made once and reused (by identity).
 *
 * @example
 * source$.pipe(withClusterName('prod-eu'))
 */
export function withClusterName(name: string): OperatorFunction<PipelineEvent, PipelineEvent> {
  const labelled = new WeakMap<Labels, Labels>();
  const labelsOf = (labels: Labels): Labels => {
    let out = labelled.get(labels);
    if (out === undefined) {
      out = { ...labels, [LABEL.clusterName]: name };
      labelled.set(labels, out);
    }
    return out;
  };
  return map((event) => {
    const cluster = event.cluster ?? name;
    if (event.kind === 'cycle_end') return event.cluster === undefined ? { ...event, cluster } : event;
    let sets: MetricSet[] | undefined;
    for (let i = 0; i < event.sets.length; i++) {
      const set = event.sets[i] as MetricSet;
      if (set.labels[LABEL.clusterName] !== undefined) continue;
      sets ??= event.sets.slice();
      sets[i] = { ...set, labels: labelsOf(set.labels) };
    }
    if (sets === undefined && event.cluster !== undefined) return event;
    return { ...event, cluster, sets: sets ?? event.sets };
  });
}
