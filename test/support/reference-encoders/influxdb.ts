/**
 * The encoder as it was before per-series prefixes were cached (kept verbatim but for import paths): the
 * reference the property tests compare the sinks' encoders to, and the "before" rows of bench/extras/encoders.ts.
 */
import { RATE_OF_COUNTER, valueTypeOf } from '../../../src/model/catalogue.js';
import { LABEL, type Labels } from '../../../src/model/labels.js';
import type { MetricBatch, MetricSet } from '../../../src/model/types.js';
import {
  escapeMeasurement,
  escapeTag,
  formatTimestamp,
  utf8Length,
  type Precision,
} from '../../../sinks/influxdb/line-protocol.js';

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
  /** UTF-8 bytes of the measurement and the field prefix together; the value text after them is ASCII. */
  readonly fixedBytes: number;
  readonly isInt: boolean;
  readonly skip: boolean;
}

/** A set's tags, sorted by key, escaped; kept as pairs so a labeled value's own labels can be merged in. */
interface SetTags {
  readonly keys: readonly string[];
  /** `,key=value` per tag, escaped, in key order. */
  readonly parts: readonly string[];
  /** All parts joined: the tag section of a line, starting with a comma. */
  readonly text: string;
  readonly bytes: number;
}

/** Accumulates lines into request bodies bounded by lines and bytes. */
class ChunkBuilder {
  readonly chunks: Chunk[] = [];
  private body = '';
  private lines = 0;
  private bytes = 0;
  total = 0;

  constructor(
    private readonly maxLines: number,
    private readonly maxBytes: number,
  ) {}

  add(line: string, bytes: number): void {
    // A single line larger than max_bytes still goes, alone: the server decides, and says why if it refuses.
    if (this.lines > 0 && (this.lines >= this.maxLines || this.bytes + bytes + 1 > this.maxBytes))
      this.flush();
    this.body += line + '\n';
    this.lines++;
    this.bytes += bytes + 1;
    this.total++;
  }

  finish(): Chunk[] {
    if (this.lines > 0) this.flush();
    return this.chunks;
  }

  private flush(): void {
    this.chunks.push({ body: this.body, lines: this.lines, bytes: this.bytes });
    this.body = '';
    this.lines = 0;
    this.bytes = 0;
  }
}

/**
 * Turns metric batches into line protocol, in Heapster's layout (`schema: heapster`: one measurement per
 * metric, field `value`) or grouped (`schema: fields`: one measurement per group, one field per metric).
 * Per-name and per-set work is done once; the per-value loop only concatenates strings.
 *
 * @example
 * const encoder = new LineProtocolEncoder({ schema: 'heapster', clusterName: 'c1', precision: 'ms',
 *   maxLines: 5000, maxBytes: 1 << 21, disableCounterMetrics: false });
 * const { chunks } = encoder.encode(batch); // chunks[0].body: 'cpu/usage,cluster_name=c1,… value=12i 1700…\n…'
 */
export class LineProtocolEncoder {
  private readonly names = new Map<string, NameInfo>();
  private readonly clusterPart: string;
  private readonly excluded: ReadonlySet<string>;

  constructor(private readonly options: EncoderOptions) {
    this.clusterPart = ',cluster_name=' + escapeTag(options.clusterName);
    this.excluded = new Set([...HEAPSTER_EXCLUDED, ...(options.excludeTags ?? [])]);
  }

  encode(batch: MetricBatch): EncodedBatch {
    const out = new ChunkBuilder(this.options.maxLines, this.options.maxBytes);
    const suffix = ' ' + formatTimestamp(batch.timestamp, this.options.precision);
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
    const tags = this.setTags(set.labels);
    const tail = suffix.length;
    const values = set.values;
    for (const name of values.names()) {
      const info = this.nameInfo(name);
      if (info.skip) continue;
      const value = values.get(name) as number;
      if (!Number.isFinite(value)) {
        skipped++;
        continue;
      }
      const text = info.isInt ? formatInteger(value) : formatFloat(value);
      out.add(
        info.measurement + tags.text + ' ' + info.fieldPrefix + text + suffix,
        info.fixedBytes + tags.bytes + 1 + text.length + tail,
      );
    }
    let lastLabels: Labels | undefined;
    let lastTags = '';
    let lastBytes = 0;
    for (const labeled of set.labeled) {
      const info = this.nameInfo(labeled.name);
      if (info.skip) continue;
      if (!Number.isFinite(labeled.value)) {
        skipped++;
        continue;
      }
      // Values of one filesystem or device usually share their labels object: merge the tags once for them.
      if (labeled.labels !== lastLabels) {
        lastLabels = labeled.labels;
        lastTags = mergeTags(tags, labeled.labels, this.excluded);
        lastBytes = utf8Length(lastTags);
      }
      const text = info.isInt ? formatInteger(labeled.value) : formatFloat(labeled.value);
      out.add(
        info.measurement + lastTags + ' ' + info.fieldPrefix + text + suffix,
        info.fixedBytes + lastBytes + 1 + text.length + tail,
      );
    }
    return skipped;
  }

  private encodeFields(set: MetricSet, suffix: string, out: ChunkBuilder): number {
    let skipped = 0;
    const tags = this.setTags(set.labels);
    // Line head (measurement + tags) → its fields so far. One map per set; lines are written in first-seen order.
    const lines = new Map<string, string>();
    const values = set.values;
    for (const name of values.names()) {
      const info = this.nameInfo(name);
      if (info.skip) continue;
      const value = values.get(name) as number;
      if (!Number.isFinite(value)) {
        skipped++;
        continue;
      }
      const head = info.measurement + tags.text;
      const field = info.fieldPrefix + (info.isInt ? formatInteger(value) : formatFloat(value));
      const fields = lines.get(head);
      lines.set(head, fields === undefined ? field : fields + ',' + field);
    }
    let lastLabels: Labels | undefined;
    let lastTags = '';
    for (const labeled of set.labeled) {
      const info = this.nameInfo(labeled.name);
      if (info.skip) continue;
      if (!Number.isFinite(labeled.value)) {
        skipped++;
        continue;
      }
      if (labeled.labels !== lastLabels) {
        lastLabels = labeled.labels;
        lastTags = mergeTags(tags, labeled.labels, this.excluded);
      }
      const head = info.measurement + lastTags;
      const field =
        info.fieldPrefix + (info.isInt ? formatInteger(labeled.value) : formatFloat(labeled.value));
      const fields = lines.get(head);
      lines.set(head, fields === undefined ? field : fields + ',' + field);
    }
    for (const [head, fields] of lines) {
      const line = head + ' ' + fields + suffix;
      out.add(line, utf8Length(line));
    }
    return skipped;
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
    const fieldPrefix = escapeTag(field) + '=';
    info = {
      measurement: escaped,
      fieldPrefix,
      fixedBytes: utf8Length(escaped) + utf8Length(fieldPrefix),
      isInt: valueTypeOf(name) === 'int',
      skip: this.options.disableCounterMetrics && RATE_OF_COUNTER.has(name),
    };
    this.names.set(name, info);
    return info;
  }

  private setTags(labels: Labels): SetTags {
    const keys: string[] = [];
    for (const key in labels) {
      if (this.excluded.has(key) || labels[key] === '') continue;
      keys.push(key);
    }
    keys.push('cluster_name');
    keys.sort();
    const parts: string[] = new Array<string>(keys.length);
    let text = '';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const part =
        key === 'cluster_name'
          ? this.clusterPart
          : ',' + escapeTag(key) + '=' + escapeTag(labels[key] as string);
      parts[i] = part;
      text += part;
    }
    return { keys, parts, text, bytes: utf8Length(text) };
  }
}

/**
 * The set's tags with a labeled value's labels merged in, still sorted by key. A labeled value's label wins
 * over the set's label of the same name, as in Heapster; excluded and empty labels are left out as for sets.
 */
function mergeTags(tags: SetTags, labels: Labels, excluded: ReadonlySet<string>): string {
  let own: string[] | undefined;
  for (const key in labels) {
    if (excluded.has(key) || labels[key] === '') continue;
    (own ??= []).push(key);
  }
  if (own === undefined) return tags.text;
  own.sort();
  let text = '';
  let i = 0;
  let j = 0;
  while (i < tags.keys.length || j < own.length) {
    const setKey = tags.keys[i];
    const ownKey = own[j];
    if (ownKey === undefined || (setKey !== undefined && setKey < ownKey)) {
      text += tags.parts[i] as string;
      i++;
    } else {
      if (setKey === ownKey) i++;
      text += ',' + escapeTag(ownKey) + '=' + escapeTag(labels[ownKey] as string);
      j++;
    }
  }
  return text;
}

/** formatFloat and formatInteger as they were: String() for every number. */
function formatFloat(value: number): string {
  const text = String(value);
  return text.indexOf('e') === -1 ? text : expandExponent(text);
}

function expandExponent(text: string): string {
  const e = text.indexOf('e');
  let mantissa = text.slice(0, e);
  const exponent = Number(text.slice(e + 1));
  let sign = '';
  if (mantissa.charCodeAt(0) === 45) {
    sign = '-';
    mantissa = mantissa.slice(1);
  }
  const dot = mantissa.indexOf('.');
  const digits = dot === -1 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const point = (dot === -1 ? mantissa.length : dot) + exponent;
  if (point <= 0) return sign + '0.' + '0'.repeat(-point) + digits;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return sign + digits.slice(0, point) + '.' + digits.slice(point);
}

const INT64_LIMIT = 2 ** 63;

function formatInteger(value: number): string {
  const whole = Number.isInteger(value) ? value : Math.trunc(value);
  if (whole >= INT64_LIMIT || whole < -INT64_LIMIT) return formatFloat(whole);
  return String(whole) + 'i';
}
