import { SET_TYPES, type SetType } from './catalogue.js';
import type { Labels } from './labels.js';
import { SLOT_COUNT, SetValues } from './set-values.js';
import type { LabeledValue, MetricSet } from './types.js';

/**
 * A node's metric sets as they cross from a worker thread to the main thread: numbers in typed arrays that
 * `postMessage` transfers (moves, without a copy), and strings and labels objects by id into a table that each
 * side keeps across messages, so an unchanged series' key and labels cross once, not every cycle. The main
 * thread gets the same labels object for a series every cycle, as the in-process sources hand on.
 *
 * Why not the sets themselves: the V8 serializer that `postMessage` uses copies every object and string, and
 * cannot see SetValues' private slots; building that copy again on the main thread cost about as much as the
 * decoding the worker took off it (bench/extras/worker-handoff.ts).
 */
export interface PackedSets {
  /** The table generation these ids belong to; a new one starts the receiver's table afresh. */
  readonly epoch: number;
  /** Entries added to the table by this message, in id order (ids continue from the receiver's table length). */
  readonly added: readonly (string | Labels)[];
  readonly count: number;
  /** Index into SET_TYPES, per set. */
  readonly types: Uint8Array;
  /** Table ids of each set's key and labels. */
  readonly keys: Int32Array;
  readonly labels: Int32Array;
  /** count × SLOT_COUNT catalogue slots, NaN = absent (set-values.ts). */
  readonly rows: Float64Array;
  /** scrapeTime and startTime of each set, in turn. */
  readonly times: Float64Array;
  /** How many labeled values each set has; then, for all of them in order, name id, labels id and value. */
  readonly labeledCounts: Uint32Array;
  readonly labeledNames: Int32Array;
  readonly labeledLabels: Int32Array;
  readonly labeledValues: Float64Array;
  /** Values under names outside the catalogue, as [set index, name, value] triples; rare. */
  readonly others: readonly (string | number)[];
}

/** The buffers of a PackedSets, for postMessage's transfer list. */
export function transferablesOf(packed: PackedSets): ArrayBuffer[] {
  return [
    packed.types,
    packed.keys,
    packed.labels,
    packed.rows,
    packed.times,
    packed.labeledCounts,
    packed.labeledNames,
    packed.labeledLabels,
    packed.labeledValues,
  ].map((array) => array.buffer as ArrayBuffer);
}

/** Entries the packer's table may hold beyond what its live series use before it starts a new generation. */
const MIN_TABLE = 4096;

const TYPE_INDEX = new Map<string, number>(SET_TYPES.map((type, i) => [type, i]));

/**
 * The sending side: one per worker thread, kept for its life. Labels objects are found in the table by
 * identity, so the worker should intern its labels (LabelInterner) before packing; strings by value.
 *
 * The table only grows within a generation. When it holds more than twice what the last message of every node
 * referenced (series that ended, and nodes that left, leave their entries behind), the next message starts a new
 * generation and sends what it uses again: memory stays bounded by the live series on both sides.
 *
 * @example
 * const packer = new SetPacker();
 * const packed = packer.pack('node-1', sets);
 * parentPort.postMessage(packed, transferablesOf(packed));
 */
export class SetPacker {
  private epoch = 0;
  private ids = new Map<string | Labels, number>();
  /** Entries each node's last message referenced, and their sum: the live size of the table. */
  private readonly referencedBy = new Map<string, number>();
  private referenced = 0;

  pack(node: string, sets: readonly MetricSet[]): PackedSets {
    if (this.ids.size > MIN_TABLE + 2 * this.referenced) {
      this.epoch++;
      this.ids = new Map();
      // Counted afresh as nodes send again: a node that left stops counting at the next generation.
      this.referencedBy.clear();
      this.referenced = 0;
    }
    const added: (string | Labels)[] = [];
    let used = 0;
    const idOf = (entry: string | Labels): number => {
      let id = this.ids.get(entry);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(entry, id);
        added.push(entry);
      }
      used++;
      return id;
    };
    const count = sets.length;
    let labeledTotal = 0;
    for (let i = 0; i < count; i++) labeledTotal += (sets[i] as MetricSet).labeled.length;
    const packed = {
      epoch: this.epoch,
      added,
      count,
      types: new Uint8Array(count),
      keys: new Int32Array(count),
      labels: new Int32Array(count),
      rows: new Float64Array(count * SLOT_COUNT),
      times: new Float64Array(2 * count),
      labeledCounts: new Uint32Array(count),
      labeledNames: new Int32Array(labeledTotal),
      labeledLabels: new Int32Array(labeledTotal),
      labeledValues: new Float64Array(labeledTotal),
      others: [] as (string | number)[],
    };
    let l = 0;
    for (let i = 0; i < count; i++) {
      const set = sets[i] as MetricSet;
      packed.types[i] = TYPE_INDEX.get(set.type) as number;
      packed.keys[i] = idOf(set.key);
      packed.labels[i] = idOf(set.labels);
      set.values.copyRowTo(packed.rows, i * SLOT_COUNT);
      packed.times[2 * i] = set.scrapeTime;
      packed.times[2 * i + 1] = set.startTime;
      set.values.others()?.forEach((value, name) => packed.others.push(i, name, value));
      const labeled = set.labeled;
      packed.labeledCounts[i] = labeled.length;
      for (let j = 0; j < labeled.length; j++, l++) {
        const value = labeled[j] as LabeledValue;
        packed.labeledNames[l] = idOf(value.name);
        packed.labeledLabels[l] = idOf(value.labels);
        packed.labeledValues[l] = value.value;
      }
    }
    this.referenced += used - (this.referencedBy.get(node) ?? 0);
    this.referencedBy.set(node, used);
    return packed;
  }
}

/**
 * The receiving side: one per worker thread it receives from. Builds the sets again over the transferred rows
 * (no copy of the values) with the table's labels objects, frozen, as every labels object is never changed.
 *
 * @example
 * const unpacker = new SetUnpacker();
 * worker.on('message', (packed: PackedSets) => emit(unpacker.unpack(packed)));
 */
export class SetUnpacker {
  private epoch = -1;
  private table: (string | Labels)[] = [];

  unpack(packed: PackedSets): MetricSet[] {
    if (packed.epoch !== this.epoch) {
      this.epoch = packed.epoch;
      this.table = [];
    }
    for (const entry of packed.added) {
      this.table.push(typeof entry === 'string' ? entry : Object.freeze(entry));
    }
    const table = this.table;
    const others = new Map<number, [string, number][]>();
    for (let k = 0; k < packed.others.length; k += 3) {
      const i = packed.others[k] as number;
      let list = others.get(i);
      if (list === undefined) others.set(i, (list = []));
      list.push([packed.others[k + 1] as string, packed.others[k + 2] as number]);
    }
    const sets: MetricSet[] = new Array<MetricSet>(packed.count);
    let l = 0;
    for (let i = 0; i < packed.count; i++) {
      const values = SetValues.onRow(packed.rows, i * SLOT_COUNT);
      for (const [name, value] of others.get(i) ?? []) values.set(name, value);
      const n = packed.labeledCounts[i] as number;
      const labeled: LabeledValue[] = new Array<LabeledValue>(n);
      for (let j = 0; j < n; j++, l++) {
        labeled[j] = {
          name: table[packed.labeledNames[l] as number] as string,
          labels: table[packed.labeledLabels[l] as number] as Labels,
          value: packed.labeledValues[l] as number,
        };
      }
      sets[i] = {
        type: SET_TYPES[packed.types[i] as number] as SetType,
        key: table[packed.keys[i] as number] as string,
        labels: table[packed.labels[i] as number] as Labels,
        values,
        labeled,
        scrapeTime: packed.times[2 * i] as number,
        startTime: packed.times[2 * i + 1] as number,
      };
    }
    return sets;
  }
}
