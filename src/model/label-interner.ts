import type { Labels } from './labels.js';
import { RecentMap } from './recent-map.js';
import type { LabeledValue, MetricSet } from './types.js';

/** Distinct labels objects of one set's labeled values kept for the next cycle; more empties the list. */
const MAX_LABELED = 16;

interface SeriesLabels {
  labels: Labels;
  /**
   * The distinct labels objects of the set's labeled values (volumes, accelerators); undefined while there are
   * none, as for most containers, whose filesystems use the decoder's frozen constants.
   */
  labeled: Labels[] | undefined;
}

/**
 * Hands out one labels object per series for as long as its content stays the same: a decoder builds new labels
 * objects for every scrape, and the interner swaps each for the equal one the same series had the cycle before. A
 * decode thread uses it so that an unchanged series' labels cross to the main thread once (set-transfer.ts), not
 * every cycle.
 *
 * Not used on the main thread: keeping every series' labels (and what each enricher derived from them) across
 * cycles doubled the live heap at 5,000 × 30 and made the collector's garbage collection cost more than the copies
 * it saved (bench/NOTES.md, fourth session).
 *
 * Safe because a labels object is never changed once made (docs/plugins.md, "The rules"). Content equality
 * ignores key order; a decoder writes its keys in a fixed order, so in practice the order is the same too.
 *
 * @example
 * const interner = new LabelInterner(); // one per decode thread, kept across cycles
 * interner.internSets(sets); // before the sets are packed
 */
export class LabelInterner {
  private readonly series = new RecentMap<SeriesLabels>();

  /**
   * Replaces, in place, each set's labels and its labeled values' labels by the equal objects of the cycle
   * before. Only for sets the caller still owns (a source, before it emits them): it writes their `labels`
   * and their LabeledValue entries.
   */
  internSets(sets: readonly MetricSet[]): void {
    for (let i = 0; i < sets.length; i++) this.internSet(sets[i] as MetricSet);
  }

  private internSet(set: MetricSet): void {
    const known = this.series.get(set.key);
    if (known === undefined) {
      this.series.set(set.key, { labels: set.labels, labeled: distinctLabels(set.labeled) });
      return;
    }
    if (equalLabels(known.labels, set.labels)) (set as { labels: Labels }).labels = known.labels;
    else known.labels = set.labels;
    const labeled = set.labeled;
    for (let i = 0; i < labeled.length; i++) {
      const value = labeled[i] as LabeledValue;
      // The decoders' constants (the `/` and `logs` filesystems) are frozen and already the same every scrape.
      if (Object.isFrozen(value.labels)) continue;
      (value as { labels: Labels }).labels = pick((known.labeled ??= []), value.labels);
    }
  }
}

/** The object in `list` equal to `labels`, or `labels` itself, added to the list. */
function pick(list: Labels[], labels: Labels): Labels {
  for (let i = 0; i < list.length; i++) {
    const candidate = list[i] as Labels;
    if (candidate === labels || equalLabels(candidate, labels)) return candidate;
  }
  if (list.length >= MAX_LABELED) list.length = 0;
  list.push(labels);
  return labels;
}

function distinctLabels(labeled: readonly LabeledValue[]): Labels[] | undefined {
  let list: Labels[] | undefined;
  for (let i = 0; i < labeled.length; i++) {
    const labels = (labeled[i] as LabeledValue).labels;
    if (!Object.isFrozen(labels)) pick((list ??= []), labels);
  }
  return list;
}

/**
 * Same names and values, in any order. No allocation: two walks of the objects' own keys (for…in over a fast
 * object uses V8's enum cache).
 *
 * @example
 * equalLabels({ a: '1', b: '2' }, { b: '2', a: '1' }) // true
 */
export function equalLabels(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  let count = 0;
  for (const name in a) {
    if (a[name] !== b[name]) return false;
    count++;
  }
  for (const _name in b) count--;
  return count === 0;
}
