import type { Labels } from '../../model/labels.js';
import { SetValues, SLOT_COUNT, slotOf, VALUE_SLOTS } from '../../model/set-values.js';
import type { LabeledValue, MetricBatch, MetricSet } from '../../model/types.js';
import type { RecordReader } from './record-reader.js';
import type { RecordWriter } from './record-writer.js';

/**
 * A batch in a binary record (format 2; see event-codec.ts for what leads it). Strings and labels objects are
 * interned per record (RecordWriter); numbers are varints or little-endian float64s:
 *
 * ```
 * flags           u8: 1 = cluster scope (else node), 2 = has node, 4 = has cluster
 * cycle, timestamp    f64, f64
 * node, cluster       string, string (when their flags say so)
 * columns         varint n, then n names (varint length, UTF-8): the catalogue's slot names when written
 * sets            varint count, then for each:
 *   type, key         string, string
 *   labels            labels
 *   scrapeTime, startTime  f64, f64
 *   present           ceil(n / 8) bytes: bit c set when column c has a value
 *   values            f64 for each present column, in column order
 *   others            varint count, then (string name, f64) each: names outside the catalogue
 *   labeled           varint count, then (string name, labels, f64) each
 * labels          an object reference: varint index << 1, or varint pairs << 1 | 1 then (string, string) each
 * ```
 *
 * The columns name the slots rather than trust their order, so a record written before the catalogue gained or
 * lost a metric still reads right: a reader whose catalogue differs maps each column by name (a name it no longer
 * has as a slot goes with the other names). They cost about 800 bytes a record; a reader with the same catalogue
 * compares them as bytes and moves on.
 */

/** The column block this version writes: the catalogue's slot names, in slot order. */
const COLUMNS: Buffer = encodeColumns(VALUE_SLOTS);
const MASK_BYTES = Math.ceil(SLOT_COUNT / 8);

/**
 * Columns other than this catalogue's slots, to write a record as another version of heapstream would (tests of
 * catalogue changes): values are looked up by name, and names not among them go with the other names.
 */
export interface ForeignColumns {
  readonly names: readonly string[];
}

const CLUSTER_SCOPE = 1;
const HAS_NODE = 2;
const HAS_CLUSTER = 4;

export function encodeBatch(w: RecordWriter, batch: MetricBatch, foreign?: ForeignColumns): void {
  const node = batch.scope === 'node' ? batch.node : undefined;
  const cluster = batch.cluster;
  w.byte(
    (batch.scope === 'cluster' ? CLUSTER_SCOPE : 0) |
      (node !== undefined ? HAS_NODE : 0) |
      (cluster !== undefined ? HAS_CLUSTER : 0),
  );
  w.float64(batch.cycle);
  w.float64(batch.timestamp);
  if (node !== undefined) w.string(node);
  if (cluster !== undefined) w.string(cluster);
  w.bytes(foreign === undefined ? COLUMNS : encodeColumns(foreign.names));
  w.varint(batch.sets.length);
  for (const set of batch.sets) {
    if (foreign === undefined) encodeSet(w, set);
    else encodeForeignSet(w, set, foreign.names);
  }
}

function encodeSet(w: RecordWriter, set: MetricSet): void {
  encodeSetHead(w, set);
  const values = set.values;
  const mask = w.reserve(MASK_BYTES);
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const value = values.getAt(slot);
    if (value === undefined) continue;
    w.setBit(mask, slot);
    w.float64(value);
  }
  const others = values.others();
  w.varint(others?.size ?? 0);
  others?.forEach((value, name) => {
    w.string(name);
    w.float64(value);
  });
  encodeLabeled(w, set);
}

function encodeForeignSet(w: RecordWriter, set: MetricSet, columns: readonly string[]): void {
  encodeSetHead(w, set);
  const mask = w.reserve(Math.ceil(columns.length / 8));
  columns.forEach((name, column) => {
    const value = set.values.get(name);
    if (value === undefined) return;
    w.setBit(mask, column);
    w.float64(value);
  });
  const others = set.values.names().filter((name) => !columns.includes(name));
  w.varint(others.length);
  for (const name of others) {
    w.string(name);
    w.float64(set.values.get(name) as number);
  }
  encodeLabeled(w, set);
}

function encodeSetHead(w: RecordWriter, set: MetricSet): void {
  w.string(set.type);
  w.string(set.key);
  encodeLabels(w, set.labels);
  w.float64(set.scrapeTime);
  w.float64(set.startTime);
}

function encodeLabeled(w: RecordWriter, set: MetricSet): void {
  w.varint(set.labeled.length);
  for (const item of set.labeled) {
    w.string(item.name);
    encodeLabels(w, item.labels);
    w.float64(item.value);
  }
}

function encodeLabels(w: RecordWriter, labels: Labels): void {
  if (w.seen(labels)) return;
  const header = w.objectBegin();
  let count = 0;
  for (const name in labels) {
    w.string(name);
    w.string(labels[name] as string);
    count++;
  }
  w.objectEnd(header, count);
}

export function decodeBatch(r: RecordReader): MetricBatch {
  const flags = r.byte();
  const cycle = r.float64();
  const timestamp = r.float64();
  const node = flags & HAS_NODE ? r.string() : undefined;
  const cluster = flags & HAS_CLUSTER ? r.string() : undefined;
  const columns = r.skipIfEqual(COLUMNS) ? undefined : readColumns(r);
  const count = r.varint();
  const sets: MetricSet[] = [];
  for (let i = 0; i < count; i++) sets.push(decodeSet(r, columns));
  const extra = cluster === undefined ? {} : { cluster };
  if (flags & CLUSTER_SCOPE) return { kind: 'batch', scope: 'cluster', cycle, timestamp, ...extra, sets };
  return { kind: 'batch', scope: 'node', node: node ?? '', cycle, timestamp, ...extra, sets };
}

/** Columns that are not this catalogue's slots: each one's slot here, or its name when it has none. */
interface Columns {
  readonly slots: readonly number[];
  readonly names: readonly string[];
}

function readColumns(r: RecordReader): Columns {
  const count = r.varint();
  const names: string[] = [];
  const slots: number[] = [];
  for (let i = 0; i < count; i++) {
    const name = r.text();
    names.push(name);
    slots.push(slotOf(name));
  }
  return { slots, names };
}

function decodeSet(r: RecordReader, columns: Columns | undefined): MetricSet {
  const type = r.string() as MetricSet['type'];
  const key = r.string();
  const labels = decodeLabels(r);
  const scrapeTime = r.float64();
  const startTime = r.float64();
  const values = new SetValues();
  const width = columns === undefined ? SLOT_COUNT : columns.slots.length;
  const mask = r.skip(Math.ceil(width / 8));
  for (let column = 0; column < width; column++) {
    if (!r.bit(mask, column)) continue;
    const value = r.float64();
    if (columns === undefined) values.setAt(column, value);
    else {
      const slot = columns.slots[column] as number;
      if (slot >= 0) values.setAt(slot, value);
      else values.set(columns.names[column] as string, value);
    }
  }
  const others = r.varint();
  for (let i = 0; i < others; i++) {
    const name = r.string();
    values.set(name, r.float64());
  }
  const labeledCount = r.varint();
  const labeled: LabeledValue[] = [];
  for (let i = 0; i < labeledCount; i++) {
    const name = r.string();
    const itemLabels = decodeLabels(r);
    labeled.push({ name, labels: itemLabels, value: r.float64() });
  }
  return { type, key, labels, values, labeled, scrapeTime, startTime };
}

/** A labels object; one written several times in a record comes back as one object, shared as it was. */
function decodeLabels(r: RecordReader): Labels {
  return r.object((pairs) => {
    const labels: Record<string, string> = {};
    for (let i = 0; i < pairs; i++) {
      const name = r.string();
      const value = r.string();
      // A plain assignment of `__proto__` would set the prototype, not a label.
      if (name === '__proto__') Object.defineProperty(labels, name, { value, enumerable: true });
      else labels[name] = value;
    }
    return labels;
  });
}

function encodeColumns(names: readonly string[]): Buffer {
  const parts: Buffer[] = [varintBytes(names.length)];
  for (const name of names) {
    const bytes = Buffer.from(name, 'utf8');
    parts.push(varintBytes(bytes.length), bytes);
  }
  return Buffer.concat(parts);
}

function varintBytes(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}
