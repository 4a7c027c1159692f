import { CATALOGUE } from './catalogue.js';

/** The plain catalogue metrics, in slot order. */
export const VALUE_SLOTS: readonly string[] = CATALOGUE.filter((m) => !m.labeled).map((m) => m.name);

/** How many slots a row has. */
export const SLOT_COUNT = VALUE_SLOTS.length;

const slotByName = new Map(VALUE_SLOTS.map((name, slot) => [name, slot]));

/**
 * The slot of a plain catalogue metric, or -1 for a name that has none. Look it up once (module scope) and use
 * getAt/setAt in hot paths.
 */
export function slotOf(name: string): number {
  return slotByName.get(name) ?? -1;
}

/** What the sinks and every later stage see: the values, read-only. */
export interface ReadonlySetValues extends Iterable<[string, number]> {
  /** How many values the set has. */
  readonly size: number;
  get(name: string): number | undefined;
  /** The value in a catalogue slot (see slotOf), or undefined when absent. */
  getAt(slot: number): number | undefined;
  has(name: string): boolean;
  /** Every value, by catalogue slot first, then the other names in the order they were set. */
  forEach(visit: (value: number, name: string) => void): void;
  /** The names of the values, in iteration order. */
  names(): string[];
  /** The values under names outside the catalogue, in the order they were set; undefined when there are none. */
  others(): ReadonlyMap<string, number> | undefined;
  /** A plain record in iteration order, for JSON and for tests. */
  toJSON(): Record<string, number>;
  /** A writable copy with its own row (a sink that leaves out a value, a set made from another). */
  clone(): SetValues;
  /** Copies the catalogue slots (NaN = absent) into `target` from `base` on; the other names are not copied. */
  copyRowTo(target: Float64Array, base: number): void;
}

// Rows per slab: large enough that cutting a row is an index bump, small enough (about 86 KB) that a set kept
// past its cycle does not hold much memory.
const ROWS_PER_SLAB = 256;
let slab: Float64Array = new Float64Array(0);
let nextBase = 0;

/** The row the next constructor call takes instead of cutting one (see onRow). */
let givenRow: Float64Array | undefined;
let givenBase = 0;

function freshSlab(): Float64Array {
  const next = new Float64Array(ROWS_PER_SLAB * SLOT_COUNT);
  next.fill(NaN);
  return next;
}

/**
 * A metric set's plain values, laid out by the catalogue: each plain (not labeled) catalogue metric has a fixed
 * slot in a row of float64s, and names outside the catalogue (`custom/*`, extended resources, plugins' own
 * metrics) go to a small map beside it.
 *
 * Why: a values record of twenty to forty keys added one at a time is a dictionary-mode object to V8. Every stage
 * that read, copied or counted one walked a hash table, and every record was about a kilobyte of pointers the
 * garbage collector had to trace, promote and copy. A row in a typed array holds no pointers, so the collector
 * never looks inside it, and a stage that knows its metrics reads a slot by index.
 *
 * Rows are cut from shared slabs (a few hundred rows each), so a set costs one small object, not a typed array of
 * its own. A slab is freed when the last set cut from it is; sets of one cycle are made and die together, so a
 * slab is not held long by one straggler. An absent value is NaN in its slot: NaN is never a value a set may hold
 * (no sink can write it), so it needs no separate presence mask.
 *
 * Order: iteration is by catalogue slot, then the other names in the order they were set.
 *
 * @example
 * const values = new SetValues();
 * values.set('cpu/usage', 1_000);
 * values.get('cpu/usage'); // 1000
 * values.getAt(slotOf('cpu/usage')); // 1000, without the name lookup
 */
export class SetValues implements ReadonlySetValues {
  readonly #row: Float64Array;
  readonly #base: number;
  #others: Map<string, number> | undefined = undefined;
  #size = 0;
  #frozen = false;

  constructor() {
    if (givenRow !== undefined) {
      this.#row = givenRow;
      this.#base = givenBase;
      givenRow = undefined;
      return;
    }
    if (nextBase === slab.length) {
      slab = freshSlab();
      nextBase = 0;
    }
    this.#row = slab;
    this.#base = nextBase;
    nextBase += SLOT_COUNT;
  }

  /**
   * Values over a row that already holds them (NaN = absent), without copying: `row` from `base` on, SLOT_COUNT
   * slots, as set-transfer.ts receives a batch's rows from a worker thread in one buffer. The row becomes this
   * object's; the caller must not write it afterwards.
   *
   * @example
   * SetValues.onRow(rows, 3 * SLOT_COUNT) // the fourth set's values
   */
  static onRow(row: Float64Array, base: number): SetValues {
    if (base < 0 || base + SLOT_COUNT > row.length) {
      throw new RangeError(`a row at ${base} does not fit in ${row.length} slots`);
    }
    givenRow = row;
    givenBase = base;
    const values = new SetValues();
    let size = 0;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const value = row[base + slot] as number;
      if (value === value) size++;
    }
    values.#size = size;
    return values;
  }

  /**
   * Values from a plain record (tests, plugins, decoders of stored sets).
   *
   * @example
   * SetValues.from({ 'cpu/usage_rate': 250, 'custom/queue_depth': 3 })
   */
  static from(record: Readonly<Record<string, number>>): SetValues {
    const values = new SetValues();
    for (const name in record) values.set(name, record[name] as number);
    return values;
  }

  get size(): number {
    return this.#size;
  }

  get(name: string): number | undefined {
    const slot = slotByName.get(name);
    return slot === undefined ? this.#others?.get(name) : this.getAt(slot);
  }

  getAt(slot: number): number | undefined {
    const value = this.#row[this.#base + slot] as number;
    // NaN is the one value not equal to itself: the empty slot.
    return value === value ? value : undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  set(name: string, value: number): this {
    const slot = slotByName.get(name);
    if (slot !== undefined) return this.setAt(slot, value);
    this.#checkWritable(name);
    checkValue(name, value);
    this.#others ??= new Map();
    if (!this.#others.has(name)) this.#size++;
    this.#others.set(name, value);
    return this;
  }

  setAt(slot: number, value: number): this {
    this.#checkWritable(VALUE_SLOTS[slot] as string);
    checkValue(VALUE_SLOTS[slot] as string, value);
    const at = this.#base + slot;
    const before = this.#row[at] as number;
    if (before !== before) this.#size++;
    this.#row[at] = value;
    return this;
  }

  delete(name: string): boolean {
    this.#checkWritable(name);
    const slot = slotByName.get(name);
    if (slot === undefined) {
      const had = this.#others?.delete(name) ?? false;
      if (had) this.#size--;
      return had;
    }
    const at = this.#base + slot;
    const before = this.#row[at] as number;
    if (before !== before) return false;
    this.#row[at] = NaN;
    this.#size--;
    return true;
  }

  forEach(visit: (value: number, name: string) => void): void {
    const row = this.#row;
    const base = this.#base;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const value = row[base + slot] as number;
      if (value === value) visit(value, VALUE_SLOTS[slot] as string);
    }
    this.#others?.forEach(visit);
  }

  names(): string[] {
    const names: string[] = [];
    this.forEach((_value, name) => names.push(name));
    return names;
  }

  others(): ReadonlyMap<string, number> | undefined {
    return this.#others !== undefined && this.#others.size > 0 ? this.#others : undefined;
  }

  *[Symbol.iterator](): IterableIterator<[string, number]> {
    const entries: [string, number][] = [];
    this.forEach((value, name) => entries.push([name, value]));
    yield* entries;
  }

  toJSON(): Record<string, number> {
    const record: Record<string, number> = {};
    this.forEach((value, name) => (record[name] = value));
    return record;
  }

  copyRowTo(target: Float64Array, base: number): void {
    target.set(this.#row.subarray(this.#base, this.#base + SLOT_COUNT), base);
  }

  clone(): SetValues {
    const copy = new SetValues();
    copy.#row.set(this.#row.subarray(this.#base, this.#base + SLOT_COUNT), copy.#base);
    copy.#size = this.#size;
    if (this.#others !== undefined) copy.#others = new Map(this.#others);
    return copy;
  }

  /**
   * Refuses every later change with a TypeError, the way a frozen object does in strict mode. Tests freeze what
   * sinks and plugins receive (src/testing/deep-freeze.ts) so a stage that writes what it does not own fails.
   */
  freeze(): this {
    this.#frozen = true;
    return this;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): Record<string, number> {
    return this.toJSON();
  }

  #checkWritable(name: string): void {
    if (this.#frozen) {
      throw new TypeError(`Cannot change '${name}': these values were passed on and are read-only`);
    }
  }
}

/** Refuses what a row cannot hold as a value, naming the metric. */
function checkValue(name: string, value: number): void {
  // A plugin written in JavaScript can pass anything; a typed array would turn it into NaN silently.
  if (typeof value !== 'number') {
    throw new TypeError(`Cannot set '${name}' to ${typeof value}: metric values are numbers`);
  }
  if (value !== value) {
    throw new RangeError(`Cannot set '${name}' to NaN: NaN marks an absent value; delete it instead`);
  }
}
