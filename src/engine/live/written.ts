import type { SinkRunnerOptions } from '../../config/sink-options.js';
import { LABEL } from '../../model/labels.js';
import type { MetricSet } from '../../model/types.js';

/** Whether some sink writes this metric of this set: the live view shows nothing that no sink would deliver. */
export type Written = (set: MetricSet, metric: string) => boolean;

/**
 * The union of the sinks' `select`s (set types, namespaces, metrics), as the sink runners apply them: a value is
 * shown when at least one sink keeps its set and its metric. A sink without `select` keeps everything.
 *
 * @example
 * const written = writtenBySinks(config.sinks.map((s) => s.options.select));
 */
export function writtenBySinks(selects: readonly SinkRunnerOptions['select'][]): Written {
  if (selects.some((s) => s === undefined)) return () => true;
  const compiled = selects.map((s) => ({
    types: s?.types === undefined ? undefined : new Set<string>(s.types),
    namespaces: s?.namespaces === undefined ? undefined : new Set(s.namespaces),
    metrics: s?.metrics === undefined ? undefined : new Set(s.metrics),
  }));
  return (set, metric) =>
    compiled.some((s) => {
      if (s.types !== undefined && !s.types.has(set.type)) return false;
      if (s.namespaces !== undefined) {
        const ns = set.labels[LABEL.namespaceName];
        if (ns === undefined || !s.namespaces.has(ns)) return false;
      }
      return s.metrics === undefined || s.metrics.has(metric);
    });
}
