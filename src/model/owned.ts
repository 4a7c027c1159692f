import type { Labels } from './labels.js';
import type { SetValues } from './set-values.js';
import type { LabeledValue, MetricSet } from './types.js';

/**
 * A metric set as the processor that received it sees it: its own to change before passing it on. The set's
 * `values` (a SetValues) and `labeled` list are written in place (a rate, a sum, a derived value), and its `labels` may be
 * replaced by another object; the labels object itself may be shared by many sets (and kept by a processor
 * across cycles) and is never changed, and neither are the `LabeledValue` entries already in the list.
 *
 * The model's types say `readonly` because that is what everything downstream of a hand-off sees: the fan-out
 * gives the same batch to every sink, and a processor must not keep and later change a set it has passed on.
 */
export interface OwnedMetricSet extends MetricSet {
  labels: Labels;
  values: SetValues;
  labeled: LabeledValue[];
}

/**
 * The set a processor received, typed as its own to fill in place. The one cast of the ownership rule
 * (docs/plugins.md, "The rules"): sources build fresh `values` and `labeled` objects for every set of every scrape,
 * and each processor hands its output to exactly one next stage, so a set is never reachable from two owners.
 *
 * @example
 * owned(set).values.set('cpu/usage_rate', rate); // instead of copying the set and its values
 */
export function owned(set: MetricSet): OwnedMetricSet {
  return set as OwnedMetricSet;
}
