import type { Labels } from '../../src/model/labels.js';
import type { LabeledValue, MetricSet } from '../../src/model/types.js';
import { jsonNumber, jsonString } from './json-text.js';

/** Names remembered before the memory is cleared; metric and label names are a few hundred at most. */
const MAX_NAMES = 10_000;
/** 9999-12-31T23:59:59.999Z: later (and negative) times have a longer year and take the slow path. */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;

/**
 * Writes metric sets as the `set` format's JSON objects (the same fields as the stdout sink's lines). Keeps what
 * repeats from set to set: quoted metric and label names, and the date part of sample times.
 *
 * @example
 * new SetJsonWriter().set(set, '2026-01-01T00:00:00.000Z') // '{"time":"…","type":"pod","key":"…",…}'
 */
export class SetJsonWriter {
  private readonly names = new Map<string, string>();
  private minute = Number.NaN;
  private minuteText = '';

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
    for (const name in values) {
      if (!first) out += ',';
      first = false;
      out += this.name(name) + jsonNumber(values[name] as number);
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

  /** Date.toISOString(), with the part up to the minute formatted once per minute. */
  isoTime(ms: number): string {
    if (!(ms >= 0 && ms <= LAST_FOUR_DIGIT_YEAR_MS)) return new Date(ms).toISOString();
    const whole = Math.floor(ms);
    const minute = Math.floor(whole / 60_000);
    if (minute !== this.minute) {
      this.minute = minute;
      this.minuteText = new Date(minute * 60_000).toISOString().slice(0, 17); // YYYY-MM-DDTHH:MM:
    }
    const inMinute = whole - minute * 60_000;
    const seconds = Math.floor(inMinute / 1000);
    const millis = inMinute - seconds * 1000;
    return (
      this.minuteText +
      (seconds < 10 ? '0' : '') +
      String(seconds) +
      (millis < 10 ? '.00' : millis < 100 ? '.0' : '.') +
      String(millis) +
      'Z'
    );
  }
}
