import type { LabeledValue, MetricSet, PipelineEvent } from '../model/types.js';

/**
 * A deep copy of an event that a processor may own and fill: what `structuredClone` was for before values moved
 * into SetValues, whose slots structuredClone cannot see (it copies own properties only, and gives `{}`).
 * Labels objects and labeled entries are copied too, one copy per original, so entries that shared a labels
 * object still share its copy.
 *
 * @example
 * const mine = cloneEvent(batch); // run a processor on `mine`, compare with `batch`
 */
export function cloneEvent<E extends PipelineEvent>(event: E): E {
  if (event.kind !== 'batch') return structuredClone(event);
  const labelsCopies = new Map<object, Record<string, string>>();
  const copyLabels = (labels: MetricSet['labels']): Record<string, string> => {
    let copy = labelsCopies.get(labels);
    if (copy === undefined) {
      copy = { ...labels };
      labelsCopies.set(labels, copy);
    }
    return copy;
  };
  const sets = event.sets.map((set): MetricSet => ({
    ...set,
    labels: copyLabels(set.labels),
    values: set.values.clone(),
    labeled: set.labeled.map((lv): LabeledValue => ({ ...lv, labels: copyLabels(lv.labels) })),
  }));
  return { ...event, sets };
}
