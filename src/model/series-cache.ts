import { sameLabels, type Labels } from './labels.js';
import { RecentMap } from './recent-map.js';

interface Entry<T> {
  /** The labels object the value was built from, or the last equal one seen. */
  labels: Labels;
  /** Its label names in order, to compare another labels object with it without allocating. */
  readonly names: readonly string[];
  readonly value: T;
}

/**
 * What an encoder built from a series' labels (its encoded prefix), found by the set's key and valid while the
 * labels are the same: the same labels object (a processor that keeps its labels across cycles) is a hit at
 * once; a fresh object with the same names in the same order and the same values (the decoders build new labels
 * every scrape) is a hit after one comparison per label, and is kept for the next lookup; anything else is a
 * miss.
 *
 * Keyed by the set's key rather than by the labels object in a WeakMap: a fresh labels object each cycle then
 * costs a comparison instead of a rebuild, and a WeakMap that gained an entry per set each cycle made the miss
 * path of the line-protocol encoder slower than no cache at all (30 µs per set against 25, its ephemerons
 * weighing on every young-generation GC). Entries not looked up for about two cycles are dropped (RecentMap).
 *
 * @example
 * const heads = new SeriesCache<string>();
 * let head = heads.get(set.key, set.labels);
 * if (head === undefined) heads.set(set.key, set.labels, (head = buildHead(set)));
 */
export class SeriesCache<T> {
  private readonly entries = new RecentMap<Entry<T>>();

  get(key: string, labels: Labels): T | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.labels !== labels) {
      if (!sameLabels(entry.names, entry.labels, labels)) return undefined;
      entry.labels = labels;
    }
    return entry.value;
  }

  set(key: string, labels: Labels, value: T): void {
    this.entries.set(key, { labels, names: Object.keys(labels), value });
  }
}
