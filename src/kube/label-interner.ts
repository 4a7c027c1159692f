/**
 * Keeps each set's labels object from one scrape of a node to the next while its content is unchanged, so that
 * the labels of a pod or container are the very same (frozen) object every cycle and a downstream cache can key
 * on identity (a WeakMap from labels to an encoded prefix, say) instead of comparing strings.
 */
import type { Labels } from '../model/labels.js';
import type { MetricSet } from '../model/types.js';

/** Cycles a node may go unscraped before its labels are forgotten (nodes that left the cluster). */
const FORGET_AFTER_CYCLES = 3;

interface KeptLabels {
  labels: Labels;
  /** The label names in order, to compare without allocating. */
  names: readonly string[];
  /** The scrape that last gave this set: entries an earlier scrape gave are dropped after each scrape. */
  scrape: number;
}

interface NodeLabels {
  /** Set key → the labels last given for it. */
  readonly bySet: Map<string, KeptLabels>;
  lastCycle: number;
  scrapes: number;
}

/**
 * One per source: per node, the labels of every set of its last scrape.
 *
 * @example
 * const interner = new LabelInterner();
 * const sets = interner.intern(node.name, tick.cycle, decodeSummaryBytes(bytes, nodeInfo(node)));
 * // next cycle: an unchanged pod's set carries the same labels object as before
 */
export class LabelInterner {
  private readonly nodes = new Map<string, NodeLabels>();
  private sweptCycle = -1;

  /**
   * Replaces, in place, each set's labels by the previous scrape's object when equal (same names, order and
   * values), and freezes the others. The sets must be the caller's own, not yet emitted (a decoder's output).
   */
  intern(node: string, cycle: number, sets: MetricSet[]): MetricSet[] {
    this.sweep(cycle);
    let entry = this.nodes.get(node);
    if (entry === undefined) {
      entry = { bySet: new Map(), lastCycle: cycle, scrapes: 0 };
      this.nodes.set(node, entry);
    }
    // One map per node, updated in place (a new map per scrape cost more than the comparisons).
    const scrape = ++entry.scrapes;
    entry.lastCycle = cycle;
    const bySet = entry.bySet;
    let added = 0;
    for (let i = 0; i < sets.length; i++) {
      const set = sets[i]!;
      const kept = bySet.get(set.key);
      if (kept !== undefined && sameLabels(kept, set.labels)) {
        (set as { labels: Labels }).labels = kept.labels;
        kept.scrape = scrape;
        continue;
      }
      const labels = Object.freeze(set.labels);
      if (kept === undefined) {
        bySet.set(set.key, { labels, names: Object.keys(labels), scrape });
        added++;
      } else {
        kept.labels = labels;
        kept.names = Object.keys(labels);
        kept.scrape = scrape;
      }
    }
    // Sets that are gone: only when the map holds more than this scrape gave (or duplicate keys hid some).
    if (bySet.size > sets.length || added > 0) {
      for (const [key, kept] of bySet) if (kept.scrape !== scrape) bySet.delete(key);
    }
    return sets;
  }

  /** Forgets nodes not scraped for FORGET_AFTER_CYCLES cycles; runs once per cycle. */
  private sweep(cycle: number): void {
    if (cycle === this.sweptCycle) return;
    this.sweptCycle = cycle;
    for (const [node, entry] of this.nodes) {
      if (cycle - entry.lastCycle > FORGET_AFTER_CYCLES) this.nodes.delete(node);
    }
  }
}

function sameLabels(kept: KeptLabels, fresh: Labels): boolean {
  const names = kept.names;
  const labels = kept.labels;
  let i = 0;
  for (const name in fresh) {
    if (names[i] !== name || labels[name] !== fresh[name]) return false;
    i++;
  }
  return i === names.length;
}
