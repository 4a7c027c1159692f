import { SET_TYPES, type SetType } from './catalogue.js';
import { IsoMillis } from './iso-time.js';
import { isPlainObject } from './plain-object.js';
import { jsonNumber, jsonString } from './json-text.js';
import type { Labels } from './labels.js';
import { SeriesCache } from './series-cache.js';
import { SLOT_COUNT, SetValues, VALUE_SLOTS } from './set-values.js';
import { sameLabels } from './labels.js';
import type { LabeledValue, MetricBatch, MetricSet } from './types.js';

/** Names remembered before the memory is cleared; metric and label names are a few hundred at most. */
const MAX_NAMES = 10_000;

/** Labeled values per set kept before the list is emptied: a set has a few labels objects (filesystems…). */
const MAX_LABELED = 16;

/** What is kept of one series: the text of its sets up to their values, and its labeled values' labels. */
interface SeriesJson {
  readonly type: string;
  /** `","type":"pod","key":"…","labels":{…},"values":{`: everything between the time and the first value. */
  readonly head: string;
  /** UTF-8 bytes of head beyond its length in UTF-16 units (0 when it is ASCII). */
  readonly headExtra: number;
  /** A short list searched by identity, then content, as a set has a few. */
  readonly labeled: LabeledTail[];
}

/** `,"labels":{…},"value":` of a labeled value, and the labels it was written from. */
interface LabeledTail {
  labels: Labels;
  readonly names: readonly string[];
  readonly text: string;
  /** UTF-8 bytes of text beyond its length (see Piece). */
  readonly extra: number;
}

/** A cached piece of JSON text, and its UTF-8 bytes beyond its length in UTF-16 units (0 when it is ASCII). */
interface Piece {
  readonly text: string;
  readonly extra: number;
}

/** `"cpu/usage":` per value slot (set-values.ts), and the same after a comma. */
const SLOT_NAMES: readonly string[] = VALUE_SLOTS.map((name) => flat(jsonString(name), ':'));
const SLOT_NAMES_AFTER_COMMA: readonly string[] = SLOT_NAMES.map((name) => flat(',', name));
/** Catalogue names are ASCII, so a set's bytes need nothing added for them (checked, not assumed). */
const SLOT_NAMES_ASCII = SLOT_NAMES.every((name) => extraBytes(name) === 0);

/**
 * A metric set as one JSON object: `time` (the kubelet's sample time, or the batch time when it gave none),
 * `type`, `key`, `labels`, `values` (metric name → number) and `labeled` (values with their own labels). The
 * stdout sink's `jsonl` lines and the Kafka sink's `set` messages; the text is what JSON.stringify gives for
 * those fields. Keeps what repeats from set to set, so one writer per sink: the text of each series (a set's
 * head from `type` to its values, its labeled values' labels; see SeriesCache for when it is reused), quoted
 * metric names, and the date part of sample times.
 *
 * @example
 * new SetJsonWriter().set(set, '2026-01-01T00:00:00.000Z') // '{"time":"…","type":"pod","key":"…",…}'
 */
export class SetJsonWriter {
  private readonly names = new Map<string, Piece>();
  private readonly series = new SeriesCache<SeriesJson>();
  /** `{"name":"filesystem/usage"` per labeled value name. */
  private readonly labeledNames = new Map<string, Piece>();
  private readonly times = new IsoMillis();
  private bytes = 0;

  /**
   * UTF-8 bytes of the text the last call to set() returned: its length (known without reading it) plus what
   * its cached non-ASCII pieces add (numbers, times and catalogue names are ASCII). The Kafka sink needs every
   * message's size, and Buffer.byteLength walked each set's text once more to count it.
   */
  get lastBytes(): number {
    return this.bytes;
  }

  /**
   * Every set of a batch, one line each.
   *
   * @example
   * {"time":"2026-11-28T10:00:00.000Z","type":"node","key":"node:n1","labels":{…},"values":{"cpu/usage":1},"labeled":[]}
   */
  lines(batch: MetricBatch): string {
    const batchTime = this.isoTime(batch.timestamp);
    let out = '';
    for (const set of batch.sets) out += this.set(set, batchTime) + '\n';
    return out;
  }

  /** `batchTime` is used when the kubelet gave the set no sample time. */
  set(set: MetricSet, batchTime: string): string {
    const time = set.scrapeTime > 0 ? this.isoTime(set.scrapeTime) : batchTime;
    const series = this.seriesOf(set);
    let out = '{"time":"' + time + series.head;
    let extra = series.headExtra;
    const values = set.values;
    let first = true;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const value = values.getAt(slot);
      if (value === undefined) continue;
      out += (first ? SLOT_NAMES[slot] : SLOT_NAMES_AFTER_COMMA[slot]) + jsonNumber(value);
      first = false;
    }
    const others = values.others();
    if (others !== undefined) {
      for (const [name, value] of others) {
        const quoted = this.name(name);
        out += (first ? '' : ',') + quoted.text + jsonNumber(value);
        extra += quoted.extra;
        first = false;
      }
    }
    out += '},"labeled":[';
    const labeled = set.labeled;
    for (let l = 0; l < labeled.length; l++) {
      const lv = labeled[l] as LabeledValue;
      if (l > 0) out += ',';
      const name = this.labeledName(lv.name);
      const tail = this.labeledTail(series, lv.labels);
      out += name.text + tail.text + jsonNumber(lv.value) + '}';
      extra += name.extra + tail.extra;
    }
    // `]}` is two bytes more.
    this.bytes = SLOT_NAMES_ASCII ? out.length + 2 + extra : Buffer.byteLength(out) + 2;
    return out + ']}';
  }

  /** The set's series entry: its head and labeled labels, rebuilt when the labels or the type differ. */
  private seriesOf(set: MetricSet): SeriesJson {
    const cached = this.series.get(set.key, set.labels);
    if (cached !== undefined && cached.type === set.type) return cached;
    const head = flat(
      '","type":"' + set.type + '","key":' + jsonString(set.key) + ',"labels":' + this.labels(set.labels),
      ',"values":{',
    );
    const series = { type: set.type, head, headExtra: extraBytes(head), labeled: [] };
    this.series.set(set.key, set.labels, series);
    return series;
  }

  private labeledTail(series: SeriesJson, labels: Labels): LabeledTail {
    const list = series.labeled;
    for (let i = 0; i < list.length; i++) {
      const tail = list[i] as LabeledTail;
      if (tail.labels === labels) return tail;
      if (sameLabels(tail.names, tail.labels, labels)) {
        tail.labels = labels;
        return tail;
      }
    }
    if (list.length >= MAX_LABELED) list.length = 0;
    const text = flat(',"labels":' + this.labels(labels), ',"value":');
    const tail = { labels, names: Object.keys(labels), text, extra: extraBytes(text) };
    list.push(tail);
    return tail;
  }

  private labeledName(name: string): Piece {
    let piece = this.labeledNames.get(name);
    if (piece === undefined) {
      if (this.labeledNames.size >= MAX_NAMES) this.labeledNames.clear();
      const text = flat('{"name":', jsonString(name));
      piece = { text, extra: extraBytes(text) };
      this.labeledNames.set(name, piece);
    }
    return piece;
  }

  private labels(labels: Labels): string {
    let out = '{';
    let first = true;
    for (const name in labels) {
      if (!first) out += ',';
      first = false;
      out += this.name(name).text + jsonString(labels[name] as string);
    }
    return out + '}';
  }

  /** `"name":`, quoted once. */
  private name(name: string): Piece {
    let quoted = this.names.get(name);
    if (quoted === undefined) {
      if (this.names.size >= MAX_NAMES) this.names.clear();
      const text = flat(jsonString(name), ':');
      quoted = { text, extra: extraBytes(text) };
      this.names.set(name, quoted);
    }
    return quoted;
  }

  /** Date.toISOString(), fast for the many close times of a cycle (see IsoMillis). */
  isoTime(ms: number): string {
    return this.times.format(ms);
  }
}

/** UTF-8 bytes of `text` beyond its length in UTF-16 units. */
function extraBytes(text: string): number {
  return Buffer.byteLength(text) - text.length;
}

/**
 * `a + b` as one flat string. Concatenation makes a rope (a tree of the pieces), and a rope kept in a cache is
 * walked again, piece by piece, every time an output that includes it is written out: with the labels' texts
 * cached as ropes, writing a cycle's JSON Lines spent 8 to 16 µs per set flattening and 1.8 KB per set to copy.
 * Array.prototype.join always builds a new flat string.
 */
function flat(a: string, b: string): string {
  return [a, b].join('');
}

/**
 * The reader of what SetJsonWriter writes: one parsed set object back as a MetricSet. `time` is the sample time,
 * except when it is the batch time (`batchTime`, the same ISO text), which the writer put there for a set
 * without one: it is then 0 again. Start times are not in this format, so `startTime` is 0 (unknown). Values that
 * are not numbers are left out, as the event codec does. Throws, saying what is wrong, on anything else.
 *
 * @example
 * readSetJson(JSON.parse(new SetJsonWriter().set(set, batchTime)), batchTime)
 */
export function readSetJson(value: unknown, batchTime: string): MetricSet {
  if (!isPlainObject(value)) throw new Error('a set is not an object');
  const { time, type, key, labels, values, labeled } = value;
  if (typeof type !== 'string' || !(SET_TYPES as readonly string[]).includes(type))
    throw new Error(`a set has no known type (${String(type)})`);
  if (typeof key !== 'string') throw new Error('a set has no key');
  if (typeof time !== 'string' || Number.isNaN(Date.parse(time)))
    throw new Error(`set ${key} has no valid time`);
  if (!isStringRecord(labels)) throw new Error(`set ${key}: labels are not an object of strings`);
  if (!isPlainObject(values)) throw new Error(`set ${key}: values are not an object`);
  const numbers = new SetValues();
  for (const name in values) {
    const v = values[name];
    if (typeof v === 'number') numbers.set(name, v);
  }
  if (!Array.isArray(labeled)) throw new Error(`set ${key}: labeled is not a list`);
  const labeledValues: LabeledValue[] = [];
  for (const item of labeled as unknown[]) {
    if (!isPlainObject(item) || typeof item.name !== 'string' || !isStringRecord(item.labels))
      throw new Error(`set ${key}: a labeled value is not { name, labels, value }`);
    if (typeof item.value === 'number')
      labeledValues.push({ name: item.name, labels: item.labels, value: item.value });
  }
  return {
    type: type as SetType,
    key,
    labels,
    values: numbers,
    labeled: labeledValues,
    scrapeTime: time === batchTime ? 0 : Date.parse(time),
    startTime: 0,
  };
}

function isStringRecord(value: unknown): value is Record<string, string> {
  if (!isPlainObject(value)) return false;
  for (const name in value) if (typeof value[name] !== 'string') return false;
  return true;
}
