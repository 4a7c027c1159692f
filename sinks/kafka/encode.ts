import { rfc3339Nano } from '../../src/model/iso-time.js';
import { jsonString } from '../../src/model/json-text.js';
import type { Labels } from '../../src/model/labels.js';
import { BATCH_MESSAGE_VERSION, cycleEndMessage } from '../../src/model/batch-message.js';
import { SetJsonWriter } from '../../src/model/set-json.js';
import type { CycleEnd, LabeledValue, MetricBatch, MetricSet } from '../../src/model/types.js';
import type { KafkaSinkConfig } from './config.js';
import { goJsonString } from './json-text.js';

/** One Kafka message, ready to send. */
export interface KafkaRecord {
  readonly topic: string;
  readonly key: string | null;
  /** JSON text: kafkajs writes a string straight into its request buffer, without a Buffer per message. */
  readonly value: string;
  /** UTF-8 bytes of key and value, for splitting into requests. */
  readonly bytes: number;
}

/** A batch's messages, and the keys of the sets whose message could not fit under max_message_bytes. */
export interface EncodedBatch {
  readonly records: KafkaRecord[];
  readonly oversize: string[];
}

export type EncodeOptions = Pick<
  KafkaSinkConfig,
  'format' | 'key' | 'topic' | 'topic_per_type' | 'max_message_bytes'
>;

/** Bytes a record adds to a record batch besides its key and value (length varints, attributes, headers). */
export const RECORD_OVERHEAD = 32;
/** Bytes of a record batch's own header, with room to spare. */
export const BATCH_OVERHEAD = 128;

/**
 * Encodes batches as Kafka messages in the configured format (see README): `set` gives one JSON object per
 * metric set, `heapster` one per metric value with Heapster's field names, `batch` one per batch (in parts).
 * One encoder per sink: it keeps what repeats between sets (quoted names, date parts).
 *
 * @example
 * const encoder = new BatchEncoder({ format: 'set', key: 'node', topic: 'm', max_message_bytes: 1e6 });
 * const { records, oversize } = encoder.encode(batch);
 */
export class BatchEncoder {
  private readonly sets = new SetJsonWriter();

  constructor(private readonly options: EncodeOptions) {}

  encode(batch: MetricBatch): EncodedBatch {
    const options = this.options;
    if (options.format === 'batch') return this.batchParts(batch);
    const records: KafkaRecord[] = [];
    const oversize: string[] = [];
    const limit = options.max_message_bytes - BATCH_OVERHEAD - RECORD_OVERHEAD;
    const perType = options.topic_per_type;
    if (options.format === 'set') {
      const batchTime = this.sets.isoTime(batch.timestamp);
      for (const set of batch.sets) {
        const key = messageKey(set, options.key);
        const value = this.sets.set(set, batchTime);
        const bytes = this.sets.lastBytes + (key === null ? 0 : Buffer.byteLength(key));
        if (bytes > limit) oversize.push(set.key);
        else records.push({ topic: perType?.[set.type] ?? options.topic, key, value, bytes });
      }
      return { records, oversize };
    }
    const timestamp = rfc3339Nano(batch.timestamp);
    for (const set of batch.sets) {
      const key = messageKey(set, options.key);
      const topic = perType?.[set.type] ?? options.topic;
      const before = records.length;
      heapsterMessages(set, timestamp, topic, key, records);
      for (let i = before; i < records.length; i++) {
        if ((records[i] as KafkaRecord).bytes > limit) {
          oversize.push(set.key);
          records.length = before;
          break;
        }
      }
    }
    return { records, oversize };
  }

  /**
   * `batch` format: the cycle's mark as one message, after the cycle's batches (the runner calls the sink's
   * cycleEnd once they are delivered). Keyed by the cluster's name (`cycle_end` without one), or not at all.
   */
  cycleEnd(mark: CycleEnd): KafkaRecord {
    const value = cycleEndMessage(mark, this.sets.isoTime(mark.timestamp));
    const key = this.options.key === 'none' ? null : (mark.cluster ?? 'cycle_end');
    const bytes = Buffer.byteLength(value) + (key === null ? 0 : Buffer.byteLength(key));
    return { topic: this.options.topic, key, value, bytes };
  }

  /** `batch` format: the batch's sets in as few messages as fit under max_message_bytes, numbered part/parts. */
  private batchParts(batch: MetricBatch): EncodedBatch {
    const options = this.options;
    const time = this.sets.isoTime(batch.timestamp);
    const node = batch.scope === 'node' ? batch.node : undefined;
    const key = options.key === 'none' ? null : (node ?? 'cluster');
    const head =
      '{"v":' +
      String(BATCH_MESSAGE_VERSION) +
      ',"kind":"batch","time":"' +
      time +
      '","scope":"' +
      batch.scope +
      '"' +
      (batch.cluster === undefined ? '' : ',"cluster":' + jsonString(batch.cluster)) +
      (node === undefined ? '' : ',"node":' + jsonString(node)) +
      ',"cycle":' +
      String(batch.cycle);
    const headBytes = Buffer.byteLength(head);
    const keyBytes = key === null ? 0 : Buffer.byteLength(key);
    // Room for the head, the part numbers, the brackets and the key.
    const budget = options.max_message_bytes - BATCH_OVERHEAD - RECORD_OVERHEAD - headBytes - 64 - keyBytes;
    const parts: string[][] = [];
    /** UTF-8 bytes of each part's sets with a comma after each (one too many: the brackets' room). */
    const partBytes: number[] = [];
    const oversize: string[] = [];
    let current: string[] = [];
    let bytes = 0;
    for (const set of batch.sets) {
      const json = this.sets.set(set, time);
      const size = this.sets.lastBytes + 1;
      if (size > budget) {
        oversize.push(set.key);
        continue;
      }
      if (bytes + size > budget && current.length > 0) {
        parts.push(current);
        partBytes.push(bytes);
        current = [];
        bytes = 0;
      }
      current.push(json);
      bytes += size;
    }
    if (current.length > 0) {
      parts.push(current);
      partBytes.push(bytes);
    }
    const records: KafkaRecord[] = [];
    for (let i = 0; i < parts.length; i++) {
      const numbers = ',"part":' + String(i) + ',"parts":' + String(parts.length) + ',"sets":[';
      const json = head + numbers + (parts[i] as string[]).join(',') + ']}';
      // The sets' bytes counted one comma too many, which `]` makes up for; `}` is the last byte.
      const bytes = headBytes + numbers.length + (partBytes[i] as number) + 1 + keyBytes;
      records.push({ topic: options.topic, key, value: json, bytes });
    }
    return { records, oversize };
  }
}

/**
 * Encodes one batch with a fresh encoder; a sink keeps one BatchEncoder instead.
 *
 * @example
 * const { records } = encodeBatch(batch, { format: 'heapster', key: 'none', topic: 'm', max_message_bytes: 1e6 });
 */
export function encodeBatch(batch: MetricBatch, options: EncodeOptions): EncodedBatch {
  return new BatchEncoder(options).encode(batch);
}

/** The message key of a set: its node, namespace or `<namespace>/<pod>`, else the set's own key. */
export function messageKey(set: MetricSet, by: EncodeOptions['key']): string | null {
  if (by === 'none') return null;
  const labels = set.labels;
  if (by === 'node') return labels.nodename ?? set.key;
  if (by === 'namespace') return labels.namespace_name ?? set.key;
  const namespace = labels.namespace_name;
  const pod = labels.pod_name;
  return namespace === undefined || pod === undefined ? set.key : namespace + '/' + pod;
}

/**
 * Heapster's Kafka messages for one set (metrics/sinks/kafka/driver.go): one per value, with every label as a
 * tag (labeled values merge their own labels in), tags sorted as Go sorts map keys. Messages come in metric
 * name order, so that output is deterministic; Heapster's followed Go's random map order. NaN and ±Inf are
 * skipped, as Go's json.Marshal refused them.
 */
function heapsterMessages(
  set: MetricSet,
  timestamp: string,
  topic: string,
  key: string | null,
  out: KafkaRecord[],
): void {
  const setTags = sortedTagsJson(set.labels, undefined);
  const keyBytes = key === null ? 0 : Buffer.byteLength(key);
  const tail = '},"MetricsTimestamp":"' + timestamp + '","MetricsTags":';
  const names = set.values.names().sort();
  const labeled = set.labeled.length > 1 ? set.labeled.slice().sort(byName) : set.labeled;
  let n = 0;
  let l = 0;
  while (n < names.length || l < labeled.length) {
    const name = names[n];
    const lv = labeled[l];
    let metric: string;
    let value: number;
    let tags: string;
    if (lv === undefined || (name !== undefined && name <= lv.name)) {
      metric = name as string;
      value = set.values.get(metric) as number;
      tags = setTags;
      n++;
    } else {
      metric = lv.name;
      value = lv.value;
      tags = sortedTagsJson(set.labels, lv.labels);
      l++;
    }
    if (!Number.isFinite(value)) continue;
    const json =
      '{"MetricsName":' +
      goJsonString(metric) +
      ',"MetricsValue":{"value":' +
      String(value) +
      tail +
      tags +
      '}';
    out.push({ topic, key, value: json, bytes: Buffer.byteLength(json) + keyBytes });
  }
}

function byName(a: LabeledValue, b: LabeledValue): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Set labels, overlaid by a labeled value's own, as a JSON object with sorted keys. */
function sortedTagsJson(labels: Labels, own: Labels | undefined): string {
  const names = Object.keys(labels);
  if (own !== undefined) for (const name in own) if (!Object.hasOwn(labels, name)) names.push(name);
  names.sort();
  let out = '{';
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    const value = own?.[name] ?? labels[name] ?? '';
    if (i > 0) out += ',';
    out += goJsonString(name) + ':' + goJsonString(value);
  }
  return out + '}';
}
