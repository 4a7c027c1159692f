import type { Labels } from '../../src/model/labels.js';
import type { LabeledValue, MetricBatch, MetricSet } from '../../src/model/types.js';
import type { KafkaSinkConfig } from './config.js';
import { goJsonString, jsonNumber, jsonString, rfc3339Nano } from './json-text.js';

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
 * Encodes a batch as Kafka messages in the configured format (see README): `set` gives one JSON object per
 * metric set, `heapster` one per metric value with Heapster's field names, `batch` one per batch (in parts).
 *
 * @example
 * const { records } = encodeBatch(batch, { format: 'set', key: 'node', topic: 'm', max_message_bytes: 1e6 });
 */
export function encodeBatch(batch: MetricBatch, options: EncodeOptions): EncodedBatch {
  if (options.format === 'batch') return encodeBatchParts(batch, options);
  const records: KafkaRecord[] = [];
  const oversize: string[] = [];
  const limit = options.max_message_bytes - BATCH_OVERHEAD - RECORD_OVERHEAD;
  const perType = options.topic_per_type;
  if (options.format === 'set') {
    const times = new TimeText(new Date(batch.timestamp).toISOString());
    for (const set of batch.sets) {
      const key = messageKey(set, options.key);
      const value = setJson(set, times.of(set.scrapeTime));
      const bytes = Buffer.byteLength(value) + (key === null ? 0 : Buffer.byteLength(key));
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
 * One metric set as the `set` format's JSON object: the same fields as the stdout sink's JSON lines.
 *
 * @example
 * setJson(set, '2026-01-01T00:00:00.000Z') // '{"time":"…","type":"pod","key":"…","labels":{…},"values":{…},"labeled":[]}'
 */
export function setJson(set: MetricSet, time: string): string {
  let out =
    '{"time":"' +
    time +
    '","type":"' +
    set.type +
    '","key":' +
    jsonString(set.key) +
    ',"labels":' +
    labelsJson(set.labels);
  out += ',"values":{';
  let first = true;
  const values = set.values;
  for (const name in values) {
    if (!first) out += ',';
    first = false;
    out += jsonString(name) + ':' + jsonNumber(values[name] as number);
  }
  out += '},"labeled":[';
  const labeled = set.labeled;
  for (let i = 0; i < labeled.length; i++) {
    const lv = labeled[i] as LabeledValue;
    if (i > 0) out += ',';
    out +=
      '{"name":' +
      jsonString(lv.name) +
      ',"labels":' +
      labelsJson(lv.labels) +
      ',"value":' +
      jsonNumber(lv.value) +
      '}';
  }
  return out + ']}';
}

function labelsJson(labels: Labels): string {
  let out = '{';
  let first = true;
  for (const name in labels) {
    if (!first) out += ',';
    first = false;
    out += jsonString(name) + ':' + jsonString(labels[name] as string);
  }
  return out + '}';
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
  const names = Object.keys(set.values).sort();
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
      value = set.values[metric] as number;
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

/** `batch` format: the batch's sets in as few messages as fit under max_message_bytes, numbered part/parts. */
function encodeBatchParts(batch: MetricBatch, options: EncodeOptions): EncodedBatch {
  const time = new Date(batch.timestamp).toISOString();
  const times = new TimeText(time);
  const node = batch.scope === 'node' ? batch.node : undefined;
  const key = options.key === 'none' ? null : (node ?? 'cluster');
  const head =
    '{"time":"' +
    time +
    '","scope":"' +
    batch.scope +
    '"' +
    (node === undefined ? '' : ',"node":' + jsonString(node)) +
    ',"cycle":' +
    String(batch.cycle);
  // Room for the head, the part numbers, the brackets and the key.
  const budget =
    options.max_message_bytes - BATCH_OVERHEAD - RECORD_OVERHEAD - head.length - 64 - (key?.length ?? 0);
  const parts: string[][] = [];
  const oversize: string[] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const set of batch.sets) {
    const json = setJson(set, times.of(set.scrapeTime));
    const size = Buffer.byteLength(json) + 1;
    if (size > budget) {
      oversize.push(set.key);
      continue;
    }
    if (bytes + size > budget && current.length > 0) {
      parts.push(current);
      current = [];
      bytes = 0;
    }
    current.push(json);
    bytes += size;
  }
  if (current.length > 0) parts.push(current);
  const records: KafkaRecord[] = [];
  for (let i = 0; i < parts.length; i++) {
    const json =
      head +
      ',"part":' +
      String(i) +
      ',"parts":' +
      String(parts.length) +
      ',"sets":[' +
      (parts[i] as string[]).join(',') +
      ']}';
    const bytes = Buffer.byteLength(json) + (key === null ? 0 : Buffer.byteLength(key));
    records.push({ topic: options.topic, key, value: json, bytes });
  }
  return { records, oversize };
}

/** ISO times of scrape timestamps; sets of one node share a few, so the last one is kept. */
class TimeText {
  private lastMs = Number.NaN;
  private lastText = '';
  constructor(private readonly batchTime: string) {}

  of(scrapeTime: number): string {
    if (scrapeTime <= 0) return this.batchTime;
    if (scrapeTime !== this.lastMs) {
      this.lastMs = scrapeTime;
      this.lastText = new Date(scrapeTime).toISOString();
    }
    return this.lastText;
  }
}
