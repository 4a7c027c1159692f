import { sameLabels, type Labels } from './labels.js';

/** Lookups before the first generation ends; later generations last twice the series seen in the one before. */
const MIN_GENERATION = 4096;

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
 * weighing on every young-generation GC). Entries not looked up for about two cycles are dropped: lookups go to
 * a current generation, a hit in the previous one moves there, and the previous one is dropped once a
 * generation has had twice as many lookups as the series it started after.
 *
 * @example
 * const heads = new SeriesCache<string>();
 * let head = heads.get(set.key, set.labels);
 * if (head === undefined) heads.set(set.key, set.labels, (head = buildHead(set)));
 */
export class SeriesCache<T> {
  private current = new Map<string, Entry<T>>();
  private previous = new Map<string, Entry<T>>();
  private lookups = 0;
  private generationLength = MIN_GENERATION;

  get(key: string, labels: Labels): T | undefined {
    if (++this.lookups > this.generationLength) this.nextGeneration();
    let entry = this.current.get(key);
    if (entry === undefined) {
      entry = this.previous.get(key);
      if (entry === undefined) return undefined;
      this.current.set(key, entry);
    }
    if (entry.labels !== labels) {
      if (!sameLabels(entry.names, entry.labels, labels)) return undefined;
      entry.labels = labels;
    }
    return entry.value;
  }

  set(key: string, labels: Labels, value: T): void {
    this.current.set(key, { labels, names: Object.keys(labels), value });
  }

  private nextGeneration(): void {
    this.previous = this.current;
    this.current = new Map();
    this.lookups = 0;
    this.generationLength = Math.max(MIN_GENERATION, 2 * this.previous.size);
  }
}
