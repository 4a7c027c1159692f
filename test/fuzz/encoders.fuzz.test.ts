/**
 * Property-based tests of the sinks' encoders (JSON Lines, Kafka `set` and `batch`, InfluxDB line protocol in
 * both schemas): byte for byte the text the encoders gave before per-series prefixes were cached (kept in
 * test/support/reference-encoders), on random sets with hostile names and values (quotes, backslashes, line
 * breaks, unicode, `$&`, `__proto__`, integers around 2^31, 2^53 and 2^63, NaN, -0) whose labels objects are
 * shared between sets, between labeled values and between batches, so that every cache is hit, missed and hit
 * with another set's key; and on every real capture, warm (the same labels objects again) and cold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '../../src/kube/node-scraper.js';
import { CATALOGUE, SET_TYPES } from '../../src/model/catalogue.js';
import type { Labels } from '../../src/model/labels.js';
import { SetJsonWriter } from '../../src/model/set-json.js';
import type { LabeledValue, MetricBatch, MetricSet } from '../../src/model/types.js';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import { LineProtocolEncoder, type EncoderOptions } from '../../sinks/influxdb/encode.js';
import { BatchEncoder, type EncodeOptions } from '../../sinks/kafka/encode.js';
import { LineProtocolEncoder as LineProtocolBefore } from '../support/reference-encoders/influxdb.js';
import { BatchEncoder as BatchEncoderBefore } from '../support/reference-encoders/kafka.js';
import { SetJsonWriter as SetJsonWriterBefore } from '../support/reference-encoders/set-json.js';
import { summaryCaptures } from './captures.js';
import { fuzzParameters, fuzzTimeout } from './support.js';
import { SetValues } from '../../src/model/set-values.js';

const RUNS = 300;

/** Text a label or a name may hold in a hostile cluster. */
const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('web', 'kube-system', 'node-1', '/', 'logs', 'app:web,tier:fe') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      '"',
      '\\',
      'a\\',
      '\\,',
      'C:\\dir\\',
      'line\nbreak',
      '\r\t',
      'a b=c,d',
      '$&',
      "$1$'$`",
      '__proto__',
      'constructor',
      '0',
      '17',
      'ü',
      '日本語',
      '\u2028\u2029',
      '😀',
      '\ud800',
      '\u0000\u001f\u007f',
      '<&>',
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 30 }) },
);

const labelName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'nodename',
    'namespace_name',
    'pod_name',
    'container_name',
    'type',
    'labels',
    'resource_id',
    'pod_id',
    'host_id',
    'cluster_name',
    'hostname',
  ),
  hostileText,
);

const metricName: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...CATALOGUE.map((m) => m.name)) },
  { weight: 1, arbitrary: hostileText },
);

const metricValue: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31),
    -(2 ** 31) - 1,
    1e8,
    99_999_999,
    100_000_001,
    4_200_000_000,
    10_000_000_007,
    -12_300_000_456,
    2 ** 53 - 1,
    2 ** 53,
    -(2 ** 53) + 1,
    2 ** 63,
    2 ** 64,
    -(2 ** 63),
    1e21,
    1e-7,
    0.2857142857142857,
    Number.NaN,
    Infinity,
    -Infinity,
  ),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.maxSafeInteger(),
  fc.double(),
);

/** Labels objects, some with keys in a different order than others of the same content. */
const labelsObject: fc.Arbitrary<Labels> = fc.dictionary(labelName, hostileText, { maxKeys: 8 });

interface SetShape {
  readonly type: (typeof SET_TYPES)[number];
  readonly key: string;
  /** Index into the pool of labels objects. */
  readonly labels: number;
  readonly values: Record<string, number>;
  readonly labeled: readonly { name: string; labels: number; value: number }[];
  readonly scrapeTime: number;
}

const setShape: fc.Arbitrary<SetShape> = fc.record({
  type: fc.constantFrom(...SET_TYPES),
  key: fc.oneof(fc.constantFrom('node:n1', 'namespace:a/pod:b', 'cluster'), hostileText),
  labels: fc.nat(5),
  values: fc.dictionary(metricName, metricValue, { maxKeys: 12 }),
  labeled: fc.array(fc.record({ name: metricName, labels: fc.nat(5), value: metricValue }), { maxLength: 6 }),
  scrapeTime: fc.oneof(
    fc.constant(0),
    fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 0, 2) }),
    fc.double({ min: 1, max: 4e12, noNaN: true }),
  ),
});

/** A set's values cannot hold NaN (it marks an empty slot): the generated NaNs stay in labeled values only. */
function valuesWithoutNaN(record: Record<string, number>): SetValues {
  const values = new SetValues();
  for (const [name, value] of Object.entries(record)) if (!Number.isNaN(value)) values.set(name, value);
  return values;
}

/** Batches built from a shared pool of labels objects, so that several sets and batches use one object. */
const batches: fc.Arbitrary<MetricBatch[]> = fc
  .record({
    pool: fc.array(labelsObject, { minLength: 6, maxLength: 6 }),
    batches: fc.array(
      fc.record({
        node: fc.oneof(fc.constant('n1'), hostileText),
        scope: fc.constantFrom('node' as const, 'cluster' as const),
        sets: fc.array(setShape, { maxLength: 8 }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  })
  .map(({ pool, batches }) =>
    batches.map((b, i): MetricBatch => {
      const sets = b.sets.map((s): MetricSet => ({
        type: s.type,
        key: s.key,
        labels: pool[s.labels] as Labels,
        values: valuesWithoutNaN(s.values),
        labeled: s.labeled.map((l): LabeledValue => ({
          name: l.name,
          labels: pool[l.labels] as Labels,
          value: l.value,
        })),
        scrapeTime: s.scrapeTime,
        startTime: 0,
      }));
      const timestamp = Date.UTC(2026, 0, 1) + i * 15_000;
      return b.scope === 'node'
        ? { kind: 'batch', scope: 'node', node: b.node, cycle: i, timestamp, sets }
        : { kind: 'batch', scope: 'cluster', cycle: i, timestamp, sets };
    }),
  );

const KAFKA: readonly EncodeOptions[] = [
  { format: 'set', key: 'node', topic: 'm', max_message_bytes: 1_000_000 },
  { format: 'set', key: 'pod', topic: 'm', topic_per_type: { pod: 'pods' }, max_message_bytes: 1_000 },
  { format: 'batch', key: 'node', topic: 'm', max_message_bytes: 1_000_000 },
  { format: 'batch', key: 'none', topic: 'm', max_message_bytes: 1_500 },
];

const INFLUX: readonly EncoderOptions[] = [
  {
    schema: 'heapster',
    clusterName: 'c1',
    precision: 'ms',
    maxLines: 5000,
    maxBytes: 2 << 20,
    disableCounterMetrics: false,
  },
  {
    schema: 'fields',
    clusterName: 'a b,c=d\\',
    precision: 'ns',
    maxLines: 3,
    maxBytes: 2 << 20,
    disableCounterMetrics: true,
    excludeTags: ['labels'],
  },
  {
    schema: 'heapster',
    clusterName: 'c1',
    precision: 's',
    maxLines: 5000,
    maxBytes: 600,
    disableCounterMetrics: false,
    excludeTags: ['pod_name'],
  },
  {
    // Bodies cut by bytes in the `fields` schema too: its lines' byte counts are added up from their pieces.
    schema: 'fields',
    clusterName: 'ü',
    precision: 'ms',
    maxLines: 5000,
    maxBytes: 600,
    disableCounterMetrics: false,
  },
];

/** Every encoder now and before, fed the same batches in turn (one encoder per sink, as the sinks keep one). */
function expectSameOutput(input: readonly MetricBatch[]): void {
  const json = new SetJsonWriter();
  const jsonBefore = new SetJsonWriterBefore();
  const kafka = KAFKA.map((o) => [new BatchEncoder(o), new BatchEncoderBefore(o)] as const);
  const influx = INFLUX.map((o) => [new LineProtocolEncoder(o), new LineProtocolBefore(o)] as const);
  for (const batch of input) {
    expect(json.lines(batch)).toBe(jsonBefore.lines(batch));
    for (const [now, before] of kafka) expect(now.encode(batch)).toEqual(before.encode(batch));
    for (const [now, before] of influx) expect(now.encode(batch)).toEqual(before.encode(batch));
  }
}

describe('encoders with cached prefixes', () => {
  it(
    'write what they wrote before, byte for byte, for hostile sets sharing labels objects',
    () => {
      fc.assert(fc.property(batches, expectSameOutput), fuzzParameters(RUNS));
    },
    fuzzTimeout(RUNS, 50),
  );

  it('write what they wrote before on every real capture, with the same labels objects again and fresh', () => {
    for (const capture of summaryCaptures()) {
      const text = JSON.stringify(capture.document);
      const decode = (cycle: number): MetricBatch => ({
        kind: 'batch',
        scope: 'node',
        node: 'n1',
        cycle,
        timestamp: Date.UTC(2026, 0, 1) + cycle * 15_000,
        sets: decodeSummary(parseJsonBody(text, '/stats/summary'), { name: 'n1' }),
      });
      const first = decode(1);
      // The same batch twice (every labels object a hit), then a fresh decode (every one a miss).
      expectSameOutput([first, { ...first, cycle: 2 }, decode(3)]);
    }
  });
});
