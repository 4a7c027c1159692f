import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MetricBatch, MetricSet } from '../../src/model/types.js';
import { readBatchMessage } from '../../src/model/batch-message.js';
import { cycleEnd, summaryBatch } from '../../src/testing/fixtures.js';
import { kafkaSinkConfig } from './config.js';
import { BatchEncoder, encodeBatch, messageKey, type EncodeOptions } from './encode.js';
import { SetValues } from '../../src/model/set-values.js';

const fixture = new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);
const goldenFile = new URL(
  '../../../shared/reference/heapster-golden-unit/kafka_golden.txt',
  import.meta.url,
);

/** The set format as JSON.stringify writes it: what the hand-written encoder must equal. */
function formatJsonl(batch: MetricBatch): string {
  const batchTime = new Date(batch.timestamp).toISOString();
  return batch.sets
    .map((set) => {
      const time = set.scrapeTime > 0 ? new Date(set.scrapeTime).toISOString() : batchTime;
      const { type, key, labels, values, labeled } = set;
      return JSON.stringify({ time, type, key, labels, values, labeled }) + '\n';
    })
    .join('');
}

function options(overrides: Record<string, unknown> = {}): EncodeOptions {
  return kafkaSinkConfig.parse({ brokers: ['127.0.0.1:9092'], ...overrides });
}

function parse(value: string): Record<string, unknown> {
  return JSON.parse(value) as Record<string, unknown>;
}

/** The golden's input, reconstructed from its output: one pod_container set of Heapster's golden test. */
function goldenBatch(): MetricBatch {
  const set: MetricSet = {
    type: 'pod_container',
    key: 'namespace:ns1/pod:web/container:app',
    labels: {
      type: 'pod_container',
      pod_name: 'web',
      namespace_name: 'ns1',
      nodename: 'n1',
      container_name: 'app',
      labels: 'app:web,tier:fe',
    },
    // Not in name order: the encoder orders Heapster's messages by metric name.
    values: SetValues.from({
      'network/rx_rate': 498.9,
      'cpu/usage_rate': 300,
      'memory/node_utilization': 2.0,
    }),
    labeled: [{ name: 'filesystem/usage', labels: { resource_id: '/' }, value: 1048576 }],
    scrapeTime: Date.UTC(2017, 11, 31, 23, 59, 59),
    startTime: 0,
  };
  return { kind: 'batch', scope: 'node', node: 'n1', cycle: 1, timestamp: Date.UTC(2018, 0, 1), sets: [set] };
}

describe('heapster format', () => {
  it("reproduces Heapster's kafka_golden.txt byte for byte", () => {
    const golden = readFileSync(goldenFile, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('{'));
    expect(golden).toHaveLength(4);
    const { records, oversize } = encodeBatch(goldenBatch(), options({ format: 'heapster' }));
    expect(oversize).toEqual([]);
    expect(records.map((r) => r.value)).toEqual(golden);
  });

  it('gives one message per finite value of every set of a real payload, every label a tag', () => {
    const batch = summaryBatch(fixture, { node: 'n1', cycle: 3, timestamp: Date.UTC(2026, 2, 1, 12, 0, 15) });
    const { records } = encodeBatch(batch, options({ format: 'heapster' }));
    let expected = 0;
    for (const set of batch.sets) expected += set.values.size + set.labeled.length;
    expect(records).toHaveLength(expected);
    const seen = new Map<string, number>();
    for (const record of records) {
      const m = parse(record.value) as {
        MetricsName: string;
        MetricsValue: { value: number };
        MetricsTimestamp: string;
        MetricsTags: Record<string, string>;
      };
      expect(m.MetricsTimestamp).toBe('2026-03-01T12:00:15Z');
      const id = JSON.stringify([m.MetricsName, m.MetricsTags]);
      seen.set(id, m.MetricsValue.value);
    }
    for (const set of batch.sets) {
      for (const [name, value] of set.values) {
        expect(seen.get(JSON.stringify([name, sortKeys(set.labels)]))).toBe(value);
      }
      for (const lv of set.labeled) {
        expect(seen.get(JSON.stringify([lv.name, sortKeys({ ...set.labels, ...lv.labels })]))).toBe(lv.value);
      }
    }
  });

  it("escapes strings as Go's encoding/json does and skips values JSON cannot hold", () => {
    const batch = goldenBatch();
    const set = batch.sets[0] as MetricSet;
    const odd: MetricBatch = {
      ...batch,
      sets: [
        {
          ...set,
          labels: { labels: 'a<b>&c\u2028"q"\\\n\b' },
          // A set's values cannot hold NaN (SetValues refuses it); a labeled value can.
          values: SetValues.from({ 'cpu/usage_rate': Infinity, 'memory/usage': 7 }),
          labeled: [{ name: 'filesystem/usage', labels: { resource_id: '/' }, value: Number.NaN }],
        },
      ],
    };
    const { records } = encodeBatch(odd, options({ format: 'heapster' }));
    expect(records.map((r) => r.value)).toEqual([
      '{"MetricsName":"memory/usage","MetricsValue":{"value":7},"MetricsTimestamp":"2018-01-01T00:00:00Z",' +
        '"MetricsTags":{"labels":"a\\u003cb\\u003e\\u0026c\\u2028\\"q\\"\\\\\\n\\u0008"}}',
    ]);
  });

  it('writes sub-second batch times as RFC3339Nano without trailing zeros', () => {
    const batch = { ...goldenBatch(), timestamp: Date.UTC(2018, 0, 1) + 120.5 };
    const first = parse(
      (encodeBatch(batch, options({ format: 'heapster' })).records[0] as { value: string }).value,
    );
    expect(first.MetricsTimestamp).toBe('2018-01-01T00:00:00.1205Z');
  });
});

describe('set format', () => {
  const batch = summaryBatch(fixture, { node: 'n1', cycle: 2 });

  it('gives one message per set, the same object as the stdout sink writes', () => {
    const { records, oversize } = encodeBatch(batch, options());
    expect(oversize).toEqual([]);
    expect(records).toHaveLength(batch.sets.length);
    const lines = formatJsonl(batch).trimEnd().split('\n');
    expect(records.map((r) => parse(r.value))).toEqual(lines.map((l) => JSON.parse(l) as unknown));
    const first = parse((records[0] as { value: string }).value);
    expect(first.key).toBe((batch.sets[0] as MetricSet).key);
    expect(first.values).toEqual((batch.sets[0] as MetricSet).values);
  });

  it('writes values JSON cannot hold as null and escapes labels', () => {
    const set = batch.sets[0] as MetricSet;
    const values = SetValues.from({ a: Infinity, b: 1.5 });
    const odd = { ...batch, sets: [{ ...set, labels: { x: 'é"\n' }, values }] };
    const msg = parse((encodeBatch(odd, options()).records[0] as { value: string }).value);
    expect(msg.labels).toEqual({ x: 'é"\n' });
    expect(msg.values).toEqual({ a: null, b: 1.5 });
  });

  it('routes set types to topic_per_type and the rest to topic', () => {
    const { records } = encodeBatch(batch, options({ topic: 'all', topic_per_type: { pod: 'pods' } }));
    for (const [i, record] of records.entries()) {
      expect(record.topic).toBe((batch.sets[i] as MetricSet).type === 'pod' ? 'pods' : 'all');
    }
    expect(records.some((r) => r.topic === 'pods')).toBe(true);
  });

  it('sets too large for max_message_bytes are reported, the rest encoded', () => {
    const sizes = encodeBatch(batch, options()).records.map((r) => r.bytes);
    const limit = Math.max(...sizes) - 10 + 160; // just below the largest message plus overheads
    const { records, oversize } = encodeBatch(batch, options({ max_message_bytes: limit }));
    expect(oversize.length).toBeGreaterThan(0);
    expect(records.length + oversize.length).toBe(batch.sets.length);
  });
});

describe('message keys', () => {
  const sets = summaryBatch(fixture, { node: 'n1' }).sets;
  const byType = (type: string) => sets.find((s) => s.type === type) as MetricSet;

  it('keys by node, namespace, pod or nothing, falling back to the set key', () => {
    const container = byType('pod_container');
    const node = byType('node');
    const ns = container.labels.namespace_name as string;
    const pod = container.labels.pod_name as string;
    expect(messageKey(container, 'node')).toBe('n1');
    expect(messageKey(container, 'namespace')).toBe(ns);
    expect(messageKey(container, 'pod')).toBe(`${ns}/${pod}`);
    const podSet = byType('pod');
    expect(messageKey(podSet, 'pod')).toBe(`${podSet.labels.namespace_name}/${podSet.labels.pod_name}`);
    expect(messageKey(container, 'none')).toBeNull();
    expect(node.key).toMatch(/^node:/);
    expect(messageKey(node, 'namespace')).toBe(node.key);
    expect(messageKey(node, 'pod')).toBe(node.key);
  });
});

describe('batch format', () => {
  const batch = summaryBatch(fixture, { node: 'n1', cycle: 4 });

  it('is one message when it fits', () => {
    const { records } = encodeBatch(batch, options({ format: 'batch' }));
    expect(records).toHaveLength(1);
    const msg = parse((records[0] as { value: string }).value);
    expect(msg).toMatchObject({ scope: 'node', node: 'n1', cycle: 4, part: 0, parts: 1 });
    expect((msg.sets as unknown[]).length).toBe(batch.sets.length);
    expect((records[0] as { key: string | null }).key).toBe('n1');
  });

  it('splits into numbered parts under max_message_bytes, keeping every set once and in order', () => {
    const limit = 8_000;
    const { records, oversize } = encodeBatch(batch, options({ format: 'batch', max_message_bytes: limit }));
    expect(oversize).toEqual([]);
    expect(records.length).toBeGreaterThan(2);
    const keys: string[] = [];
    for (const [i, record] of records.entries()) {
      expect(Buffer.byteLength(record.value)).toBeLessThanOrEqual(limit - 160);
      const msg = parse(record.value) as { part: number; parts: number; sets: { key: string }[] };
      expect([msg.part, msg.parts]).toEqual([i, records.length]);
      for (const s of msg.sets) keys.push(s.key);
    }
    expect(keys).toEqual(batch.sets.map((s) => s.key));
  });

  it('says its version and kind, and the cluster when the batch has one', () => {
    const [plain] = encodeBatch(batch, options({ format: 'batch' })).records;
    expect(parse((plain as { value: string }).value)).toMatchObject({ v: 1, kind: 'batch' });
    expect(parse((plain as { value: string }).value)).not.toHaveProperty('cluster');
    const [named] = encodeBatch({ ...batch, cluster: 'east' }, options({ format: 'batch' })).records;
    expect(parse((named as { value: string }).value)).toMatchObject({ v: 1, kind: 'batch', cluster: 'east' });
  });

  it('writes a cycle end as one message keyed by the cluster, readable back as the mark', () => {
    const mark = { ...cycleEnd(4, 2), cluster: 'east', nodes: ['n1', 'n2'] };
    const encoder = new BatchEncoder(options({ format: 'batch', topic: 'm' }));
    const record = encoder.cycleEnd(mark);
    expect([record.topic, record.key]).toEqual(['m', 'east']);
    expect(record.bytes).toBe(Buffer.byteLength(record.value) + 4);
    expect(readBatchMessage(record.value)).toEqual({ kind: 'cycle_end', mark });
    expect(encoder.cycleEnd(cycleEnd(5, 1)).key).toBe('cycle_end');
    const unkeyed = new BatchEncoder(options({ format: 'batch', key: 'none' }));
    expect(unkeyed.cycleEnd(mark).key).toBeNull();
  });

  it('an empty batch gives no message', () => {
    expect(encodeBatch({ ...batch, sets: [] }, options({ format: 'batch' })).records).toEqual([]);
  });
});

function sortKeys(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(labels).sort()) out[key] = labels[key] as string;
  return out;
}
