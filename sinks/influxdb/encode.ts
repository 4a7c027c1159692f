import { RATE_OF_COUNTER, valueTypeOf } from '../../src/model/catalogue.js';
import { LABEL, type Labels } from '../../src/model/labels.js';
import { SeriesCache } from '../../src/model/series-cache.js';
import { sameLabels } from '../../src/model/labels.js';
import type { LabeledValue, MetricBatch, MetricSet } from '../../src/model/types.js';
import { SLOT_COUNT, VALUE_SLOTS } from '../../src/model/set-values.js';
import {
  escapeMeasurement,
  escapeTag,
  formatFloat,
  formatInteger,
  formatTimestamp,
  utf8Length,
  type Precision,
} from './line-protocol.js';

export type Schema = 'heapster' | 'fields';

export interface EncoderOptions {
  readonly schema: Schema;
  readonly clusterName: string;
  readonly precision: Precision;
  readonly maxLines: number;
  readonly maxBytes: number;
  /** Heapster's `disable_counter_metrics`: leave out the cumulative counters that have a rate. */
  readonly disableCounterMetrics: boolean;
  /** Labels never written as tags, beyond the ones Heapster always left out. */
  readonly excludeTags?: readonly string[];
}

/** One request body: whole lines, each ending in `\n`. */
export interface Chunk {
  readonly body: string;
  readonly lines: number;
  /** UTF-8 bytes of `body`. */
  readonly bytes: number;
}

export interface EncodedBatch {
  readonly chunks: readonly Chunk[];
  readonly lines: number;
  /** Values left out because InfluxDB cannot store them (NaN, ±Infinity). */
  readonly skipped: number;
}

/** Labels Heapster's InfluxDB sink never wrote: uids and host identity that only add series cardinality. */
const HEAPSTER_EXCLUDED: readonly string[] = [
  LABEL.namespaceId,
  LABEL.podId,
  LABEL.hostname,
  LABEL.hostId,
  // Replaced by the configured cluster name.
  'cluster_name',
];

/** How one metric name is written; computed once per name and kept for the life of the sink. */
interface NameInfo {
  /** Escaped measurement. */
  readonly measurement: string;
  /** Escaped field key followed by `=`. */
  readonly fieldPrefix: string;
  /** A space and the field prefix: what follows the tags in a `heapster` line. */
  readonly fieldPart: string;
  /** UTF-8 bytes of the measurement and the field part together; the value text after them is ASCII. */
  readonly fixedBytes: number;
  /** UTF-8 bytes of the field prefix alone (a `fields` line adds fields to a measurement already counted). */
  readonly fieldPrefixBytes: number;
  readonly isInt: boolean;
  readonly skip: boolean;
}

/**
 * What is kept per series: the tag section of its lines. Nothing more (the sorted keys and escaped pairs are
 * built again for the rare merge with a labeled value's labels): a cycle's sets are hundreds of thousands in a
 * large cluster, and keeping the pieces too tripled what the cache held (4.5 KB per set, measured).
 */
interface SetTags {
  /** The tag section of a line, starting with a comma: the set's tags, sorted by key, escaped. */
  readonly text: string;
  readonly bytes: number;
  /**
   * These tags merged with labeled values' labels: kept with the set's tags as a labels object is often
   * shared by many sets (the source's `/` and `logs` filesystems). A short list searched by identity, then
   * content (as SeriesCache does), as a set has a few; emptied when full.
   */
  readonly merged: MergedTags[];
}

/** A labeled value's tags: its own labels merged into those of a set. */
interface MergedTags {
  labels: Labels;
  readonly names: readonly string[];
  readonly text: string;
  readonly bytes: number;
}

/** Merged tags kept per set tags; more distinct labeled labels than this per set empty the list. */
const MAX_MERGED = 16;

/**
 * Accumulates lines into request bodies bounded by lines and bytes. A body is kept as its pieces (flat strings:
 * cached names and tags, the number, the time) and joined once when full: concatenating them made a rope of five
 * nodes per line that lived, and was copied by every young-generation GC, until the body was written out, and
 * then had to be walked to flatten it.
 */
class ChunkBuilder {
  readonly chunks: Chunk[] = [];
  private pieces: string[] = [];
  private lines = 0;
  private bytes = 0;
  total = 0;

  constructor(
    private readonly maxLines: number,
    private readonly maxBytes: number,
  ) {}

  /**
   * A line in its five pieces: measurement, tags, field key and value (`fields`: a space and the fields), and
   * the time with its `\n`.
   */
  addPieces(
    measurement: string,
    tags: string,
    field: string,
    value: string,
    time: string,
    bytes: number,
  ): void {
    this.room(bytes);
    this.pieces.push(measurement, tags, field, value, time);
  }

  finish(): Chunk[] {
    if (this.lines > 0) this.flush();
    return this.chunks;
  }

  /** Counts a line of `bytes`, first closing the body if it would not fit. */
  private room(bytes: number): void {
    // A single line larger than max_bytes still goes, alone: the server decides, and says why if it refuses.
    if (this.lines > 0 && (this.lines >= this.maxLines || this.bytes + bytes > this.maxBytes)) this.flush();
    this.lines++;
    this.bytes += bytes;
    this.total++;
  }

  private flush(): void {
    this.chunks.push({ body: this.pieces.join(''), lines: this.lines, bytes: this.bytes });
    this.pieces = [];
    this.lines = 0;
    this.bytes = 0;
  }
}

/** The lines of one set in the `fields` schema: one per measurement and tag set, in first-seen order. */
interface FieldLine {
  readonly measurement: string;
  readonly tags: string;
  fields: string;
  /**
   * UTF-8 bytes of measurement, tags, the space and the fields, added up from the cached lengths of the pieces as
   * they are added: counting them on the finished line walked a few hundred characters per line again.
   */
  bytes: number;
}

/**
 * Turns metric batches into line protocol, in Heapster's layout (`schema: heapster`: one measurement per
 * metric, field `value`) or grouped (`schema: fields`: one measurement per group, one field per metric).
 * Per-name and per-series work is done once and kept: escaped names per metric name, and the tag section of each
 * series (see SeriesCache for when it is reused), merged with a labeled value's own labels once per pair. The
 * per-value loop only formats the number and adds flat pieces to the body.
 *
 * @example
 * const encoder = new LineProtocolEncoder({ schema: 'heapster', clusterName: 'c1', precision: 'ms',
 *   maxLines: 5000, maxBytes: 1 << 21, disableCounterMetrics: false });
 * const { chunks } = encoder.encode(batch); // chunks[0].body: 'cpu/usage,cluster_name=c1,… value=12i 1700…\n…'
 */
export class LineProtocolEncoder {
  private readonly names = new Map<string, NameInfo>();
  private readonly bySlot: (NameInfo | undefined)[] = [];
  private readonly tagsBySeries = new SeriesCache<SetTags>();
  private readonly clusterPart: string;
  private readonly excluded: ReadonlySet<string>;

  constructor(private readonly options: EncoderOptions) {
    this.clusterPart = ',cluster_name=' + escapeTag(options.clusterName);
    this.excluded = new Set([...HEAPSTER_EXCLUDED, ...(options.excludeTags ?? [])]);
  }

  encode(batch: MetricBatch): EncodedBatch {
    const out = new ChunkBuilder(this.options.maxLines, this.options.maxBytes);
    // One flat piece: the same string ends every line, and a rope here would be walked again for each line.
    const suffix = [' ', formatTimestamp(batch.timestamp, this.options.precision), '\n'].join('');
    let skipped = 0;
    for (const set of batch.sets) {
      skipped +=
        this.options.schema === 'heapster'
          ? this.encodeHeapster(set, suffix, out)
          : this.encodeFields(set, suffix, out);
    }
    return { chunks: out.finish(), lines: out.total, skipped };
  }

  private encodeHeapster(set: MetricSet, suffix: string, out: ChunkBuilder): number {
    let skipped = 0;
    const tags = this.setTags(set);
    const tail = suffix.length;
    const values = set.values;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const value = values.getAt(slot);
      if (value !== undefined) skipped += heapsterLine(this.slotInfo(slot), value, tags, suffix, tail, out);
    }
    const others = values.others();
    if (others !== undefined) {
      for (const [name, value] of others) {
        skipped += heapsterLine(this.nameInfo(name), value, tags, suffix, tail, out);
      }
    }
    const labeled = set.labeled;
    for (let l = 0; l < labeled.length; l++) {
      const lv = labeled[l] as LabeledValue;
      const info = this.nameInfo(lv.name);
      if (info.skip) continue;
      if (!Number.isFinite(lv.value)) {
        skipped++;
        continue;
      }
      const merged = this.mergedTags(tags, set.labels, lv.labels);
      const text = info.isInt ? formatInteger(lv.value) : formatFloat(lv.value);
      out.addPieces(
        info.measurement,
        merged.text,
        info.fieldPart,
        text,
        suffix,
        info.fixedBytes + merged.bytes + text.length + tail,
      );
    }
    return skipped;
  }

  private encodeFields(set: MetricSet, suffix: string, out: ChunkBuilder): number {
    let skipped = 0;
    const tags = this.setTags(set);
    // A set has a handful of lines (cpu, memory, network, one per filesystem…): a scan of them compares cached
    // strings by identity, where a Map keyed by the line's head hashed a few hundred characters per value.
    const lines: FieldLine[] = [];
    const values = set.values;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const value = values.getAt(slot);
      if (value !== undefined) skipped += valueField(lines, this.slotInfo(slot), tags, value);
    }
    const others = values.others();
    if (others !== undefined) {
      for (const [name, value] of others) skipped += valueField(lines, this.nameInfo(name), tags, value);
    }
    const labeled = set.labeled;
    for (let l = 0; l < labeled.length; l++) {
      const lv = labeled[l] as LabeledValue;
      const info = this.nameInfo(lv.name);
      if (info.skip) continue;
      if (!Number.isFinite(lv.value)) {
        skipped++;
        continue;
      }
      const merged = this.mergedTags(tags, set.labels, lv.labels);
      addField(lines, info, merged, info.isInt ? formatInteger(lv.value) : formatFloat(lv.value));
    }
    const tail = suffix.length;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as FieldLine;
      out.addPieces(line.measurement, line.tags, ' ', line.fields, suffix, line.bytes + tail);
    }
    return skipped;
  }

  /** nameInfo of a value slot's metric, kept by slot: no lookup by name for catalogue metrics. */
  private slotInfo(slot: number): NameInfo {
    return (this.bySlot[slot] ??= this.nameInfo(VALUE_SLOTS[slot] as string));
  }

  private nameInfo(name: string): NameInfo {
    let info = this.names.get(name);
    if (info !== undefined) return info;
    let measurement = name;
    let field = 'value';
    if (this.options.schema === 'fields') {
      // Heapster's withfields: `cpu/usage_rate` → measurement `cpu`, field `usage_rate`; `uptime` keeps `value`.
      const slash = name.indexOf('/');
      if (slash > 0 && slash < name.length - 1) {
        measurement = name.slice(0, slash);
        field = name.slice(slash + 1);
      }
    }
    const escaped = escapeMeasurement(measurement);
    const fieldPrefix = [escapeTag(field), '='].join('');
    const fieldPrefixBytes = utf8Length(fieldPrefix);
    info = {
      measurement: escaped,
      fieldPrefix,
      fieldPart: [' ', fieldPrefix].join(''),
      fixedBytes: utf8Length(escaped) + 1 + fieldPrefixBytes,
      fieldPrefixBytes,
      isInt: valueTypeOf(name) === 'int',
      skip: this.options.disableCounterMetrics && RATE_OF_COUNTER.has(name),
    };
    this.names.set(name, info);
    return info;
  }

  /** The tag section of a set's labels, cached per series (see SeriesCache). */
  private setTags(set: MetricSet): SetTags {
    let tags = this.tagsBySeries.get(set.key, set.labels);
    if (tags === undefined) {
      tags = buildSetTags(set.labels, this.excluded, this.clusterPart);
      this.tagsBySeries.set(set.key, set.labels, tags);
    }
    return tags;
  }

  /**
   * A labeled value's tags, cached with the set's tags (the values of one filesystem share their labels object,
   * and with interned labels it is the same object every cycle).
   */
  private mergedTags(tags: SetTags, setLabels: Labels, labels: Labels): MergedTags {
    const list = tags.merged;
    for (let i = 0; i < list.length; i++) {
      const merged = list[i] as MergedTags;
      if (merged.labels === labels) return merged;
      if (sameLabels(merged.names, merged.labels, labels)) {
        merged.labels = labels;
        return merged;
      }
    }
    if (list.length >= MAX_MERGED) list.length = 0;
    const text = mergeTags(tags, setLabels, labels, this.excluded, this.clusterPart);
    const merged = { labels, names: Object.keys(labels), text, bytes: utf8Length(text) };
    list.push(merged);
    return merged;
  }
}

/** The field of one value in the `fields` schema: appended to its line, or the first of a new line. */
function addField(
  lines: FieldLine[],
  info: NameInfo,
  tags: { readonly text: string; readonly bytes: number },
  text: string,
): void {
  const field = info.fieldPrefix + text;
  // The value text is ASCII.
  const fieldBytes = info.fieldPrefixBytes + text.length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as FieldLine;
    if (line.measurement === info.measurement && line.tags === tags.text) {
      line.fields += ',' + field;
      line.bytes += 1 + fieldBytes;
      return;
    }
  }
  // The measurement's bytes are the fixed bytes less the space and the field prefix.
  const bytes = info.fixedBytes - 1 - info.fieldPrefixBytes + tags.bytes + 1 + fieldBytes;
  lines.push({ measurement: info.measurement, tags: tags.text, fields: field, bytes });
}

/** A set's tags, sorted by key, escaped, as `,key=value` pairs, with the cluster name among them. */
function tagPairs(
  labels: Labels,
  excluded: ReadonlySet<string>,
  clusterPart: string,
): { keys: string[]; pairs: string[] } {
  const keys: string[] = [];
  for (const key in labels) {
    if (excluded.has(key) || labels[key] === '') continue;
    keys.push(key);
  }
  keys.push('cluster_name');
  keys.sort();
  const pairs: string[] = new Array<string>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    pairs[i] =
      key === 'cluster_name' ? clusterPart : ',' + escapeTag(key) + '=' + escapeTag(labels[key] as string);
  }
  return { keys, pairs };
}

function buildSetTags(labels: Labels, excluded: ReadonlySet<string>, clusterPart: string): SetTags {
  // join: one flat string, written into every line of the set (see encode's suffix).
  const text = tagPairs(labels, excluded, clusterPart).pairs.join('');
  return { text, bytes: utf8Length(text), merged: [] };
}

/**
 * The set's tags with a labeled value's labels merged in, still sorted by key. A labeled value's label wins
 * over the set's label of the same name, as in Heapster; excluded and empty labels are left out as for sets.
 */
function mergeTags(
  tags: SetTags,
  setLabels: Labels,
  labels: Labels,
  excluded: ReadonlySet<string>,
  clusterPart: string,
): string {
  let own: string[] | undefined;
  for (const key in labels) {
    if (excluded.has(key) || labels[key] === '') continue;
    (own ??= []).push(key);
  }
  if (own === undefined) return tags.text;
  own.sort();
  const { keys, pairs } = tagPairs(setLabels, excluded, clusterPart);
  const text: string[] = [];
  let i = 0;
  let j = 0;
  while (i < keys.length || j < own.length) {
    const setKey = keys[i];
    const ownKey = own[j];
    if (ownKey === undefined || (setKey !== undefined && setKey < ownKey)) {
      text.push(pairs[i] as string);
      i++;
    } else {
      if (setKey === ownKey) i++;
      text.push(',' + escapeTag(ownKey) + '=' + escapeTag(labels[ownKey] as string));
      j++;
    }
  }
  return text.join('');
}

/** One value's line in Heapster's schema; 1 when the value is skipped (not finite), else 0. */
function heapsterLine(
  info: NameInfo,
  value: number,
  tags: { readonly text: string; readonly bytes: number },
  suffix: string,
  tail: number,
  out: ChunkBuilder,
): number {
  if (info.skip) return 0;
  if (!Number.isFinite(value)) return 1;
  const text = info.isInt ? formatInteger(value) : formatFloat(value);
  out.addPieces(
    info.measurement,
    tags.text,
    info.fieldPart,
    text,
    suffix,
    info.fixedBytes + tags.bytes + text.length + tail,
  );
  return 0;
}

/** One plain value as a field of its line (addField); 1 when the value is skipped (not finite), else 0. */
function valueField(
  lines: FieldLine[],
  info: NameInfo,
  tags: { readonly text: string; readonly bytes: number },
  value: number,
): number {
  if (info.skip) return 0;
  if (!Number.isFinite(value)) return 1;
  addField(lines, info, tags, info.isInt ? formatInteger(value) : formatFloat(value));
  return 0;
}
