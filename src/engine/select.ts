import type { MetricBatch, MetricSet } from '../model/types.js';
import { LABEL } from '../model/labels.js';
import { SetValues } from '../model/set-values.js';
import type { SinkRunnerOptions } from '../config/sink-options.js';

type Select = NonNullable<SinkRunnerOptions['select']>;

/**
 * Builds a sink's `select` filter once; returns undefined when the sink takes everything, so the common case
 * costs nothing. The filter returns a new batch (or undefined when nothing is left) and never mutates its input.
 */
export function compileSelect(
  select: Select | undefined,
): ((batch: MetricBatch) => MetricBatch | undefined) | undefined {
  if (select === undefined) return undefined;
  const types = select.types === undefined ? undefined : new Set<string>(select.types);
  const namespaces = select.namespaces === undefined ? undefined : new Set(select.namespaces);
  const metrics = select.metrics === undefined ? undefined : new Set(select.metrics);
  if (types === undefined && namespaces === undefined && metrics === undefined) return undefined;

  const keepSet = (set: MetricSet): boolean => {
    if (types !== undefined && !types.has(set.type)) return false;
    if (namespaces !== undefined) {
      const ns = set.labels[LABEL.namespaceName];
      if (ns === undefined || !namespaces.has(ns)) return false;
    }
    return true;
  };
  const trimMetrics = (set: MetricSet): MetricSet | undefined => {
    if (metrics === undefined) return set;
    const values = new SetValues();
    set.values.forEach((value, name) => {
      if (metrics.has(name)) values.set(name, value);
    });
    const any = values.size > 0;
    const labeled = set.labeled.filter((v) => metrics.has(v.name));
    if (!any && labeled.length === 0) return undefined;
    return { ...set, values, labeled };
  };

  return (batch) => {
    const sets: MetricSet[] = [];
    for (const set of batch.sets) {
      if (!keepSet(set)) continue;
      const trimmed = trimMetrics(set);
      if (trimmed !== undefined) sets.push(trimmed);
    }
    return sets.length === 0 ? undefined : { ...batch, sets };
  };
}
