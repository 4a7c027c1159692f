import type { MetricSet } from '../../model/types.js';

/** The two metrics the live view charts: what `kubectl top` shows too. */
export const CPU = 'cpu/usage_rate';
export const MEMORY = 'memory/working_set';
/**
 * Namespace and cluster sets carry the memory the aggregate processor sums, Heapster's `memory/usage` (it sums no
 * working set): the charts show what the pipeline's own sets hold, not a sum of the page's making.
 */
export const SUMMED_MEMORY = 'memory/usage';

/**
 * One metric of a set, or undefined when the set lacks it (a first cycle has no rates). The live view reads
 * values only here, so a change of how sets hold their values is a change of this one line.
 *
 * @example
 * valueOf(set, CPU) // 250 (millicores)
 */
export function valueOf(set: MetricSet, name: string): number | undefined {
  return set.values.get(name);
}

/** How the store reads a value: valueOf, or nothing when no sink writes that metric of that set. */
export type ReadValue = (set: MetricSet, name: string) => number | undefined;
