import type { Labels } from '../../src/model/labels.js';
import type { LabeledValue, MetricSet } from '../../src/model/types.js';
import { PROMOTED_LABELS, type LabeledFamily, type TableLayout } from './schema.js';

/** One filesystem, disk or accelerator of a set: its key label values and one slot per family field. */
export interface FamilyEntry {
  readonly keys: readonly string[];
  /** Indexed like the family's `fields`; undefined where the set had no such value. */
  readonly values: (number | undefined)[];
}

/** A map entry, in the shape Parquet writers and JSON both take. */
export interface Entry<V> {
  readonly key: string;
  readonly value: V;
}

/** The parts of a set that do not map one value to one column: they need a pass over the set. */
export interface SetParts {
  /** Labels without a column of their own. */
  readonly labels: Entry<string>[];
  /** Per layout family (same order), the set's objects of that family. */
  readonly families: FamilyEntry[][];
  /** Unlabeled values that have no column in the layout (custom metrics, extended resources…). */
  readonly otherValues: Entry<number>[];
  /** Labeled values outside the catalogue families, or whose labels are not exactly the family's key labels. */
  readonly otherLabeled: LabeledValue[];
}

/**
 * Splits a set into its label map, its family structs and its leftovers. One pass over labels, values and
 * labeled values; metric columns are read straight from `set.values` by the caller.
 *
 * @example
 * const parts = splitSet(set, layoutFor('pod')); parts.families[0]; // the pod's volumes
 */
export function splitSet(set: MetricSet, layout: TableLayout): SetParts {
  const labels: Entry<string>[] = [];
  for (const key in set.labels) {
    if (!PROMOTED_LABELS.has(key)) labels.push({ key, value: set.labels[key] as string });
  }
  const otherValues: Entry<number>[] = [];
  set.values.forEach((value, name) => {
    if (!layout.metricIndex.has(name)) otherValues.push({ key: name, value });
  });
  const families: FamilyEntry[][] = layout.families.map(() => []);
  const otherLabeled: LabeledValue[] = [];
  for (const lv of set.labeled) {
    const at = layout.familyField.get(lv.name);
    const family = at === undefined ? undefined : layout.families[at[0]];
    if (at === undefined || family === undefined || !hasExactlyKeyLabels(lv.labels, family)) {
      otherLabeled.push(lv);
      continue;
    }
    const entries = families[at[0]] as FamilyEntry[];
    let entry = findEntry(entries, lv.labels, family.keyLabels);
    if (entry === undefined) {
      entry = {
        keys: family.keyLabels.map((k) => lv.labels[k] as string),
        values: new Array<number | undefined>(family.fields.length).fill(undefined),
      };
      entries.push(entry);
    }
    entry.values[at[1]] = lv.value;
  }
  return { labels, families, otherValues, otherLabeled };
}

/** True when a labeled value's labels are exactly its family's key labels, so it belongs in the family's column. */
export function hasExactlyKeyLabels(labels: Labels, family: LabeledFamily): boolean {
  let count = 0;
  // Counting keys without allocating an array.
  for (const _ in labels) count++;
  if (count !== family.keyLabels.length) return false;
  for (const k of family.keyLabels) if (labels[k] === undefined) return false;
  return true;
}

// A set has a handful of filesystems at most, so a scan beats building a string key per value.
function findEntry(
  entries: FamilyEntry[],
  labels: Labels,
  keyLabels: readonly string[],
): FamilyEntry | undefined {
  for (const entry of entries) {
    let same = true;
    for (let i = 0; i < keyLabels.length; i++) {
      if (entry.keys[i] !== labels[keyLabels[i] as string]) {
        same = false;
        break;
      }
    }
    if (same) return entry;
  }
  return undefined;
}

/** The time of a row: the kubelet's sample time, or the batch time when the kubelet gave none. */
export function rowTime(set: MetricSet, batchTime: number): number {
  return set.scrapeTime > 0 ? set.scrapeTime : batchTime;
}
