/**
 * The encoder as it was before per-series prefixes were cached (kept verbatim but for import paths): the
 * reference the property tests compare the sinks' encoders to, and the "before" rows of bench/extras/encoders.ts.
 */
import { IsoMillis } from '../../../src/model/iso-time.js';
import { jsonString } from '../../../src/model/json-text.js';
import type { Labels } from '../../../src/model/labels.js';
import type { LabeledValue, MetricBatch, MetricSet } from '../../../src/model/types.js';

/** Names remembered before the memory is cleared; metric and label names are a few hundred at most. */
const MAX_NAMES = 10_000;

/**
 * A metric set as one JSON object: `time` (the kubelet's sample time, or the batch time when it gave none),
 * `type`, `key`, `labels`, `values` (metric name → number) and `labeled` (values with their own labels). The
 * stdout sink's `jsonl` lines and the Kafka sink's `set` messages; the text is what JSON.stringify gives for
 * those fields. Keeps what repeats from set to set: quoted metric and label names, and the date part of sample
 * times, so one writer per sink.
 *
 * @example
 * new SetJsonWriter().set(set, '2026-01-01T00:00:00.000Z') // '{"time":"…","type":"pod","key":"…",…}'
 */
export class SetJsonWriter {
  private readonly names = new Map<string, string>();
  private readonly times = new IsoMillis();

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
    let out =
      '{"time":"' +
      time +
      '","type":"' +
      set.type +
      '","key":' +
      jsonString(set.key) +
      ',"labels":' +
      this.labels(set.labels);
    out += ',"values":{';
    let first = true;
    const values = set.values;
    for (const name of values.names()) {
      if (!first) out += ',';
      first = false;
      out += this.name(name) + jsonNumber(values.get(name) as number);
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
        this.labels(lv.labels) +
        ',"value":' +
        jsonNumber(lv.value) +
        '}';
    }
    return out + ']}';
  }

  private labels(labels: Labels): string {
    let out = '{';
    let first = true;
    for (const name in labels) {
      if (!first) out += ',';
      first = false;
      out += this.name(name) + jsonString(labels[name] as string);
    }
    return out + '}';
  }

  /** `"name":`, quoted once. */
  private name(name: string): string {
    let quoted = this.names.get(name);
    if (quoted === undefined) {
      if (this.names.size >= MAX_NAMES) this.names.clear();
      quoted = jsonString(name) + ':';
      this.names.set(name, quoted);
    }
    return quoted;
  }

  /** Date.toISOString(), fast for the many close times of a cycle (see IsoMillis). */
  isoTime(ms: number): string {
    return this.times.format(ms);
  }
}

/** jsonNumber as it was: String() for every finite number. */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}
