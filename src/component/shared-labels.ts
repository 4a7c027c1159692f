import type { MonoTypeOperatorFunction } from 'rxjs';
import { tap } from 'rxjs';
import type { Labels } from '../model/labels.js';
import type { MetricBatch, PipelineEvent } from '../model/types.js';
import { perNodeState, type PerNodeState } from './operators.js';

/** What one set's enriched labels were built from, and the frozen labels themselves. */
interface Entry {
  /**
   * What a later input is compared with: the input labels object itself (by identity, for a stage that hands the
   * same object on again, then by content), or the output when it holds every input label unchanged. A decoder's
   * labels are new objects every scrape, and keeping the first one alive only to compare with cost ~100 bytes per
   * set. A later input with the same names, in the same order, and values gives the same output.
   */
  base: Labels;
  /** The input's names in order: one array per distinct list of names, shared by every entry that has it. */
  names: readonly string[];
  /** The metadata-derived object the output was built from (by identity: a new version is a new object). */
  from: object;
  output: Labels;
  /** The batch that last asked for it. */
  seen: number;
}

/**
 * Name lists shared between entries: the sets of a node have a handful of distinct label name lists (one per set
 * type, more or less), so each entry refers to one rather than holding its own (memory kept per node at 100 × 30:
 * 137 KB with a list per entry, 91 KB shared).
 */
export class NameLists {
  private readonly lists = new Map<string, readonly string[]>();

  /** The shared list of `labels`' names, in order. */
  of(labels: Labels): readonly string[] {
    const names: string[] = [];
    for (const name in labels) names.push(name);
    const key = names.join('\n');
    let shared = this.lists.get(key);
    if (shared === undefined) {
      shared = Object.freeze(names);
      this.lists.set(key, shared);
    }
    return shared;
  }
}

/**
 * One node's enriched labels, reused while a set's input labels and the metadata they were built from are
 * unchanged: an enricher then attaches the same frozen labels object every cycle instead of copying the set's
 * labels and adding its own, so a steady cluster allocates no labels in the enrichers, and sinks see the same
 * labels object for a series every cycle. The metadata is compared by identity alone, since the metadata cache
 * hands out a new object when a pod, namespace or node changes.
 *
 * Entries are found by the order of the calls within the batch while the node's batches keep their order, else by
 * input object while the batches hand on the same objects, else by set key: a Map lookup by set key costs about
 * 100 ns per set (each scrape's keys are new strings, flattened and hashed), as much as the comparison it guards.
 * Kubelets list pods from a Go map, in a new order each scrape, so for their batches the order rarely helps. The
 * output depends only on the input labels and `from`, so an entry that matches both is right however it was found.
 *
 * Measured on Node 20 (bench/extras/enrichers.ts): after pod_enricher the namespace enricher finds each set's labels
 * by identity, about 25 % less CPU than copying them in kubelet order and about 15 % more in a random order (the
 * kept entries are memory last touched a cycle ago); pod_enricher compares a decoder's fresh labels by content,
 * which costs about what the copy did. What it buys is less garbage (about 24 KB less per node batch at 30 pods)
 * and one labels object per series across cycles, which a sink can cache what it derives from by identity.
 *
 * Call `beginBatch` once per batch: it also drops the entries the previous batch did not ask for (a pod deleted, a
 * container replaced), so memory follows the node's current sets rather than every set it ever had. Call `put`
 * right after the `get` that missed.
 *
 * @example
 * cache.beginBatch();
 * const labels = cache.get(set.key, set.labels, ns) ?? cache.put(set.key, set.labels, ns, withNamespace(set.labels, ns));
 */
export class SharedLabels {
  private readonly byKey = new Map<string, Entry>();
  /**
   * The same entries by input object: after another enricher a set's labels are the same object every cycle, and
   * an object is found by its identity hash, without hashing and comparing a key string.
   */
  private readonly byInput = new Map<Labels, Entry>();
  /** Entries in the order the previous batch asked for them. */
  private readonly byOrder: (Entry | undefined)[] = [];
  /** Position of the next `get` in `byOrder`. */
  private next = 0;
  /** Whether to try `byOrder` first: most of the entries the last batch found were at their position. */
  private ordered = true;
  /** Of the current batch's `get`s, how many found an entry, and how many of those at their position. */
  private found = 0;
  private inOrder = 0;
  /**
   * Whether to try `byInput`: the last batch handed on some of the very objects the entries were built from. A
   * decoder's labels are new objects every scrape, and a lookup of an object never seen costs its identity hash.
   */
  private sameObjects = true;
  private sameObjectsFound = 0;
  private batches = 0;
  /** Entries the current batch asked for. */
  private touched = 0;

  constructor(private readonly nameLists: NameLists = new NameLists()) {}

  /** Starts a batch, forgetting the entries the previous one did not ask for. */
  beginBatch(): void {
    if (this.byKey.size > this.touched) {
      for (const [key, entry] of this.byKey) {
        if (entry.seen === this.batches) continue;
        this.byKey.delete(key);
        if (this.byInput.get(entry.base) === entry) this.byInput.delete(entry.base);
      }
      for (let i = 0; i < this.next; i++) {
        if (this.byOrder[i]?.seen !== this.batches) this.byOrder[i] = undefined;
      }
    }
    this.ordered = this.inOrder * 2 >= this.found;
    this.sameObjects = this.found === 0 || this.sameObjectsFound > 0;
    this.sameObjectsFound = 0;
    this.byOrder.length = this.next;
    this.next = 0;
    this.found = 0;
    this.inOrder = 0;
    this.batches++;
    this.touched = 0;
  }

  /** The labels kept for a set built from labels equal to `input` and from `from` itself, if any. */
  get(key: string, input: Labels, from: object): Labels | undefined {
    const at = this.next++;
    const positioned = this.byOrder[at];
    let entry: Entry | undefined;
    if (this.ordered && positioned !== undefined && builtFrom(positioned, input, from)) {
      entry = positioned;
    } else {
      entry = (this.sameObjects ? this.byInput.get(input) : undefined) ?? this.byKey.get(key);
      if (entry === undefined) return undefined;
      this.touch(entry);
      if (!builtFrom(entry, input, from)) return undefined;
      this.byOrder[at] = entry;
    }
    this.found++;
    // Counted whichever way it was found, so that a node whose order settles is looked up by order again.
    if (entry === positioned) this.inOrder++;
    if (entry.base === input) this.sameObjectsFound++;
    this.touch(entry);
    return entry.output;
  }

  /** Freezes `output`, keeps it for `key` as built from `input` and `from`, and returns it. */
  put(key: string, input: Labels, from: object, output: Record<string, string>): Labels {
    const frozen = Object.freeze(output);
    const names = this.nameLists.of(input);
    // A frozen input is an upstream stage's shared labels, alive anyway and worth finding by identity.
    const base = !Object.isFrozen(input) && holdsAll(frozen, input) ? frozen : input;
    let entry = this.byKey.get(key);
    if (entry === undefined) {
      entry = { base, names, from, output: frozen, seen: -1 };
      this.byKey.set(key, entry);
    } else {
      if (this.byInput.get(entry.base) === entry) this.byInput.delete(entry.base);
      entry.base = base;
      entry.names = names;
      entry.from = from;
      entry.output = frozen;
    }
    if (base === input) this.byInput.set(input, entry);
    this.touch(entry);
    // The position of the `get` that missed.
    this.byOrder[Math.max(0, this.next - 1)] = entry;
    return frozen;
  }

  /** How many keys are kept. */
  get size(): number {
    return this.byKey.size;
  }

  private touch(entry: Entry): void {
    if (entry.seen === this.batches) return;
    entry.seen = this.batches;
    this.touched++;
  }
}

function builtFrom(entry: Entry, input: Labels, from: object): boolean {
  return entry.from === from && (entry.base === input || sameLabels(entry, input));
}

/** Whether `output` has every label of `input` with the same value. */
function holdsAll(output: Labels, input: Labels): boolean {
  for (const name in input) if (output[name] !== input[name]) return false;
  return true;
}

/** Whether `input` has the names and values the entry was built from, in the same order. */
function sameLabels(entry: Entry, input: Labels): boolean {
  const { names, base } = entry;
  let i = 0;
  for (const name in input) {
    if (names[i] !== name || base[name] !== input[name]) return false;
    i++;
  }
  return i === names.length;
}

/**
 * SharedLabels per node, forgotten with the node (absent for `evictAfterCycles` cycles), plus one for cluster
 * batches. Create it inside a subscription (see `statefulOperator`); pass the stream through `forgetAbsentNodes`.
 *
 * @example
 * const labels = new SharedLabelsByNode();
 * source.pipe(labels.forgetAbsentNodes(), mapBatches((batch) => enrich(batch, labels.forBatch(batch))));
 */
export class SharedLabelsByNode {
  private readonly nodes: PerNodeState<SharedLabels>;
  private readonly nameLists = new NameLists();
  private readonly cluster = new SharedLabels(this.nameLists);

  /** A node that misses a cycle or two (a timeout) keeps its labels; one gone for longer is forgotten. */
  constructor(evictAfterCycles = 3) {
    this.nodes = perNodeState({ create: () => new SharedLabels(this.nameLists), evictAfterCycles });
  }

  /** The labels of the batch's node (or of cluster batches), with the batch begun. */
  forBatch(batch: MetricBatch): SharedLabels {
    const labels = batch.scope === 'node' ? this.nodes.get(batch.node, batch.cycle) : this.cluster;
    labels.beginBatch();
    return labels;
  }

  /** The node's labels, if it has any (for tests and measurements). */
  peek(node: string): SharedLabels | undefined {
    return this.nodes.peek(node);
  }

  /** Passes every event on, forgetting absent nodes at each cycle mark. */
  forgetAbsentNodes(): MonoTypeOperatorFunction<PipelineEvent> {
    return tap((event) => {
      if (event.kind === 'cycle_end') this.nodes.endCycle(event.cycle);
    });
  }
}
