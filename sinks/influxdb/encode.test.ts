import { describe, expect, it } from 'vitest';
import { summaryBatch } from '../../src/testing/fixtures.js';
import type { MetricBatch, MetricSet } from '../../src/model/types.js';
import { LineProtocolEncoder, type EncoderOptions } from './encode.js';
import { linesOf, parseLine } from '../../test/support/influx-lines.js';
import { SetValues } from '../../src/model/set-values.js';

const NRI = new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);
const T = 1_795_829_090_000;

function encoder(overrides: Partial<EncoderOptions> = {}): LineProtocolEncoder {
  return new LineProtocolEncoder({
    schema: 'heapster',
    clusterName: 'c1',
    precision: 'ms',
    maxLines: 100_000,
    maxBytes: 1 << 30,
    disableCounterMetrics: false,
    ...overrides,
  });
}

function lines(enc: LineProtocolEncoder, batch: MetricBatch): string[] {
  return enc.encode(batch).chunks.flatMap((c) => linesOf(c.body));
}

function batchOf(...sets: MetricSet[]): MetricBatch {
  return { kind: 'batch', scope: 'node', node: 'n1', cycle: 1, timestamp: T, sets };
}

const podSet: MetricSet = {
  type: 'pod',
  key: 'namespace:default/pod:web-1',
  labels: {
    type: 'pod',
    nodename: 'node-1',
    hostname: 'node-1.host',
    host_id: 'hid',
    namespace_name: 'default',
    namespace_id: 'ns-uid',
    pod_name: 'web-1',
    pod_id: 'pod-uid',
    labels: 'app:web,tier:fe',
    container_base_image: '',
    cluster_name: 'from-a-label',
  },
  values: SetValues.from({
    'cpu/usage_rate': 319,
    'network/rx_rate': 499.7,
    'cpu/usage': 1005597157211,
    uptime: 3618003,
  }),
  labeled: [
    { name: 'filesystem/usage', labels: { resource_id: 'Volume:data' }, value: 1048576 },
    { name: 'filesystem/limit', labels: { resource_id: 'Volume:data' }, value: 2097152 },
    { name: 'filesystem/usage', labels: { resource_id: 'logs', pod_name: 'override' }, value: 7 },
  ],
  scrapeTime: T,
  startTime: T - 3618003,
};

describe('schema heapster', () => {
  it("writes Heapster's lines: sorted tags, left-out labels, cluster_name, ints with i", () => {
    const out = lines(encoder(), batchOf(podSet));
    expect(out).toEqual([
      // Plain values in catalogue order (uptime, cpu/usage, cpu/usage_rate, …), then the labeled ones.
      'uptime,cluster_name=c1,labels=app:web\\,tier:fe,namespace_name=default,nodename=node-1,pod_name=web-1,type=pod value=3618003i 1795829090000',
      'cpu/usage,cluster_name=c1,labels=app:web\\,tier:fe,namespace_name=default,nodename=node-1,pod_name=web-1,type=pod value=1005597157211i 1795829090000',
      'cpu/usage_rate,cluster_name=c1,labels=app:web\\,tier:fe,namespace_name=default,nodename=node-1,pod_name=web-1,type=pod value=319i 1795829090000',
      'network/rx_rate,cluster_name=c1,labels=app:web\\,tier:fe,namespace_name=default,nodename=node-1,pod_name=web-1,type=pod value=499.7 1795829090000',
      'filesystem/usage,cluster_name=c1,labels=app:web\\,tier:fe,namespace_name=default,nodename=node-1,pod_name=web-1,resource_id=Volume:data,type=pod value=1048576i 1795829090000',
      'filesystem/limit,cluster_name=c1,labels=app:web\\,tier:fe,namespace_name=default,nodename=node-1,pod_name=web-1,resource_id=Volume:data,type=pod value=2097152i 1795829090000',
      // A labeled value's own label wins over the set's label of the same name.
      'filesystem/usage,cluster_name=c1,labels=app:web\\,tier:fe,namespace_name=default,nodename=node-1,pod_name=override,resource_id=logs,type=pod value=7i 1795829090000',
    ]);
  });

  it('leaves out NaN and infinite values and counts them', () => {
    // A set's values cannot hold NaN (SetValues refuses it); a labeled value can.
    const set: MetricSet = {
      ...podSet,
      values: SetValues.from({ 'network/rx_rate': -Infinity, 'cpu/usage_rate': Infinity, uptime: 1 }),
      labeled: [{ name: 'filesystem/usage', labels: { resource_id: '/' }, value: Number.NaN }],
    };
    const encoded = encoder().encode(batchOf(set));
    expect(encoded.skipped).toBe(3);
    expect(encoded.lines).toBe(1);
  });

  it('leaves out counters that have a rate with disable_counter_metrics', () => {
    const out = lines(encoder({ disableCounterMetrics: true }), batchOf(podSet));
    expect(out.map((l) => parseLine(l).measurement)).not.toContain('cpu/usage');
    expect(out).toHaveLength(6);
  });

  it('leaves out the labels named in exclude_tags', () => {
    const out = lines(encoder({ excludeTags: ['labels', 'resource_id'] }), batchOf(podSet));
    expect(out[2]).toBe(
      'cpu/usage_rate,cluster_name=c1,namespace_name=default,nodename=node-1,pod_name=web-1,type=pod value=319i 1795829090000',
    );
    expect(out[4]).not.toContain('resource_id');
  });

  it('writes every value of a real payload once, with the catalogue’s int/float types', () => {
    const batch = summaryBatch(NRI, { node: 'datagen-1-34', timestamp: T });
    let values = 0;
    for (const s of batch.sets) values += s.values.size + s.labeled.length;
    const out = lines(encoder(), batch);
    expect(out).toHaveLength(values);
    for (const line of out) {
      const p = parseLine(line);
      const text = p.fields.get('value') as string;
      expect(p.tags.map(([k]) => k)).toEqual([...p.tags.map(([k]) => k)].sort());
      if (p.measurement.endsWith('_rate') && !p.measurement.startsWith('cpu/'))
        expect(text).not.toMatch(/i$/);
      if (p.measurement === 'memory/working_set') expect(text).toMatch(/^\d+i$/);
    }
  });
});

describe('schema fields', () => {
  it('groups metrics by the part before the first slash, one field each', () => {
    const out = lines(encoder({ schema: 'fields' }), batchOf(podSet));
    const tags =
      'cluster_name=c1,labels=app:web\\,tier:fe,namespace_name=default,nodename=node-1,pod_name=web-1';
    expect(out).toEqual([
      `uptime,${tags},type=pod value=3618003i 1795829090000`,
      `cpu,${tags},type=pod usage=1005597157211i,usage_rate=319i 1795829090000`,
      `network,${tags},type=pod rx_rate=499.7 1795829090000`,
      `filesystem,${tags},resource_id=Volume:data,type=pod usage=1048576i,limit=2097152i 1795829090000`,
      `filesystem,cluster_name=c1,labels=app:web\\,tier:fe,namespace_name=default,nodename=node-1,pod_name=override,resource_id=logs,type=pod usage=7i 1795829090000`,
    ]);
  });

  it('carries every value of a real payload', () => {
    const batch = summaryBatch(NRI, { node: 'datagen-1-34', timestamp: T });
    let values = 0;
    for (const s of batch.sets) values += s.values.size + s.labeled.length;
    const fields = lines(encoder({ schema: 'fields' }), batch).reduce(
      (n, l) => n + parseLine(l).fields.size,
      0,
    );
    expect(fields).toBe(values);
  });
});

describe('batching', () => {
  const batch = summaryBatch(NRI, { node: 'datagen-1-34', timestamp: T });
  const all = lines(encoder(), batch);

  it('splits bodies at max_lines', () => {
    const encoded = encoder({ maxLines: 100 }).encode(batch);
    expect(encoded.chunks.every((c) => c.lines <= 100)).toBe(true);
    expect(encoded.chunks.length).toBe(Math.ceil(all.length / 100));
    expect(encoded.chunks.flatMap((c) => linesOf(c.body))).toEqual(all);
  });

  it('splits bodies at max_bytes, counting UTF-8 bytes exactly', () => {
    const encoded = encoder({ maxBytes: 8192 }).encode(batch);
    expect(encoded.chunks.length).toBeGreaterThan(5);
    for (const c of encoded.chunks) {
      expect(c.bytes).toBe(Buffer.byteLength(c.body));
      expect(c.bytes).toBeLessThanOrEqual(8192);
      expect(c.body.endsWith('\n')).toBe(true);
    }
    expect(encoded.chunks.flatMap((c) => linesOf(c.body))).toEqual(all);
  });

  it('counts multi-byte tag values in bytes, not characters', () => {
    const set: MetricSet = { ...podSet, labels: { type: 'pod', pod_name: 'wëb-日本-🚀' }, labeled: [] };
    for (const schema of ['heapster', 'fields'] as const) {
      const chunks = encoder({ schema, maxBytes: 120 }).encode(batchOf(set, set)).chunks;
      for (const c of chunks) expect(c.bytes).toBe(Buffer.byteLength(c.body));
    }
  });

  it('sends a line longer than max_bytes alone rather than dropping it', () => {
    const encoded = encoder({ maxBytes: 10 }).encode(batchOf(podSet));
    expect(encoded.chunks).toHaveLength(7);
    expect(encoded.chunks.every((c) => c.lines === 1)).toBe(true);
  });
});
