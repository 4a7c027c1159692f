import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SetValues, VALUE_SLOTS } from '../../model/set-values.js';
import type { ClusterBatch, CycleEnd, MetricBatch, MetricSet, PipelineEvent } from '../../model/types.js';
import { summaryBatch } from '../../testing/fixtures.js';
import { decodeEvent, encodeEvent, FORMAT_BINARY } from './event-codec.js';
import { RecordFormatError } from './record-reader.js';

const KUBELET_FIXTURES = new URL('../../../../shared/fixtures/kubelet/', import.meta.url);

/** Every saved `/stats/summary` payload, decoded as the source emits it. */
function fixtureBatches(): { name: string; batch: MetricBatch }[] {
  return readdirSync(KUBELET_FIXTURES)
    .filter((dir) => existsSync(new URL(`${dir}/stats-summary.json`, KUBELET_FIXTURES)))
    .map((dir, i) => ({
      name: dir,
      batch: summaryBatch(new URL(`${dir}/stats-summary.json`, KUBELET_FIXTURES), {
        node: `node-${i}`,
        cycle: i + 1,
      }),
    }));
}

/** Every value with its name in iteration order, and every label in key order: what toEqual does not check. */
function exactly(batch: PipelineEvent): unknown {
  if (batch.kind !== 'batch') return batch;
  return batch.sets.map((set) => ({
    type: set.type,
    key: set.key,
    labels: Object.entries(set.labels),
    values: [...set.values],
    labeled: set.labeled.map((l) => [l.name, Object.entries(l.labels), l.value]),
    scrapeTime: set.scrapeTime,
    startTime: set.startTime,
  }));
}

const odd: MetricSet = {
  type: 'pod',
  key: 'pod:ns-ü/web-0',
  labels: { type: 'pod', pod_name: 'web-0', namespace_name: 'ns-ü', labels: 'app:wéb,tier:日本' },
  values: SetValues.from({
    'cpu/usage': 123456789012,
    'memory/usage': 0.25,
    'cpu/usage_rate': -0,
    'network/rx_rate': Infinity,
    'custom/queue_depth': 3,
    'accelerator.example/gpus': -1.5e300,
  }),
  labeled: [{ name: 'filesystem/usage', labels: { resource_id: '/' }, value: 17 }],
  scrapeTime: 44_999.5,
  startTime: 1,
};

describe('event codec', () => {
  const fixtures = fixtureBatches();

  it('has real payloads to round-trip', () => {
    expect(fixtures.length).toBeGreaterThan(5);
  });

  it.each(fixtures)('round-trips every set of $name: values, labels and their order', ({ batch }) => {
    const payload = encodeEvent(batch);
    expect(payload[0]).toBe(FORMAT_BINARY);
    const back = decodeEvent(payload);
    expect(back).toEqual(batch);
    expect(exactly(back)).toEqual(exactly(batch));
  });

  it('writes each record whole: strings the previous record held are written again, not referred to', () => {
    const batch = nodeBatchOf([odd]);
    const first = encodeEvent(batch);
    const second = encodeEvent(batch);
    expect(second).toEqual(first);
    expect(decodeEvent(second)).toEqual(batch);
  });

  it('takes less than half the bytes of the JSON it replaces, over all the payloads', () => {
    const sum = (sizes: number[]) => sizes.reduce((a, b) => a + b, 0);
    const binary = sum(fixtures.map(({ batch }) => encodeEvent(batch).length));
    const json = sum(fixtures.map(({ batch }) => Buffer.byteLength(JSON.stringify(batch))));
    expect(binary).toBeLessThan(json / 2);
  });

  it('keeps what JSON could not: -0, ±Infinity, names outside the catalogue, non-ASCII strings', () => {
    const batch: MetricBatch = {
      kind: 'batch',
      scope: 'node',
      node: 'node-ü',
      cycle: 3,
      timestamp: 45_000,
      sets: [odd],
    };
    const back = decodeEvent(encodeEvent(batch));
    expect(exactly(back)).toEqual(exactly(batch));
    const set = back.kind === 'batch' ? back.sets[0] : undefined;
    expect(Object.is(set?.values.get('cpu/usage_rate'), -0)).toBe(true);
    expect(set?.values.get('network/rx_rate')).toBe(Infinity);
    expect(set?.values.others()).toEqual(
      new Map([
        ['custom/queue_depth', 3],
        ['accelerator.example/gpus', -1.5e300],
      ]),
    );
  });

  it('round-trips a cluster batch with its cluster name, and a cycle mark', () => {
    const cluster: ClusterBatch = {
      kind: 'batch',
      scope: 'cluster',
      cycle: 9,
      timestamp: 1,
      cluster: 'eu-1',
      sets: [odd],
    };
    expect(decodeEvent(encodeEvent(cluster))).toEqual(cluster);
    const mark: CycleEnd = {
      kind: 'cycle_end',
      cycle: 3,
      timestamp: 45_000,
      nodesExpected: 2,
      nodesAnswered: 1,
      failures: [{ node: 'b', reason: 'timeout', message: 'timed out' }],
      cluster: 'eu-1',
      nodes: ['a', 'b'],
      durationMs: 12,
      slowest: { node: 'a', ms: 3 },
    };
    expect(decodeEvent(encodeEvent(mark))).toEqual(mark);
  });

  it('gives back one labels object where the batch shared one', () => {
    const labels = { type: 'pod', pod_name: 'a' };
    const set = (key: string): MetricSet => ({
      ...odd,
      key,
      labels,
      values: SetValues.from({ 'cpu/usage': 1 }),
    });
    const back = decodeEvent(encodeEvent({ ...nodeBatchOf([set('a'), set('b')]) }));
    const sets = back.kind === 'batch' ? back.sets : [];
    expect(sets[0]?.labels).toBe(sets[1]?.labels);
    expect(sets[0]?.labels).toEqual(labels);
  });

  it('round-trips labels objects of every size, also past the one-byte header (64 entries and more)', () => {
    const labelsOf = (n: number): Record<string, string> =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`label_${i}`, `value ${i % 7}`]));
    const sets = [0, 1, 63, 64, 65, 200, 9000].map((n): MetricSet => ({
      ...odd,
      key: `k${n}`,
      labels: labelsOf(n),
      values: SetValues.from({ 'cpu/usage': n }),
    }));
    // A shared labels object after the moved entries still refers to the right strings.
    sets.push({ ...odd, key: 'again', labels: sets[5]!.labels, values: SetValues.from({ 'cpu/usage': 1 }) });
    const batch = nodeBatchOf(sets);
    expect(exactly(decodeEvent(encodeEvent(batch)))).toEqual(exactly(batch));
  });

  it("reads a record written with another catalogue's columns by name", () => {
    // Another version's catalogue: slots in another order, one metric this one does not have as a slot, one of
    // this catalogue's metrics missing (it was written with the other names).
    const columns = [...VALUE_SLOTS].reverse().filter((name) => name !== 'memory/usage');
    columns.push('custom/queue_depth');
    const batch = nodeBatchOf([odd]);
    const back = decodeEvent(encodeEvent(batch, { names: columns }));
    expect(back).toEqual(batch);
    const set = back.kind === 'batch' ? back.sets[0] : undefined;
    expect(new Set(set?.values.names())).toEqual(new Set(odd.values.names()));
  });

  it('still reads records of format 1 (JSON), as buffers written before the binary format hold them', () => {
    const batch = nodeBatchOf([odd]);
    const json = Buffer.from(JSON.stringify(batch));
    const back = decodeEvent(json);
    // JSON has no ±Infinity: such a value came back as null and is dropped, not delivered as null; nor -0.
    const expected = odd.values.clone();
    expected.delete('network/rx_rate');
    expected.set('cpu/usage_rate', 0);
    expect(back).toEqual({ ...batch, sets: [{ ...odd, values: expected }] });
  });

  it('refuses a format it does not know, naming it', () => {
    const payload = encodeEvent(nodeBatchOf([odd]));
    payload[0] = 7;
    expect(() => decodeEvent(payload)).toThrow(RecordFormatError);
    expect(() => decodeEvent(payload)).toThrow(/record format 7 is not one this heapstream reads/);
  });

  it('refuses a cut, a longer or a nonsensical record rather than deliver part of it', () => {
    const payload = encodeEvent(fixtures[0]?.batch ?? nodeBatchOf([odd]));
    for (const cut of [1, 2, 20, Math.floor(payload.length / 2), payload.length - 1]) {
      expect(() => decodeEvent(payload.subarray(0, cut)), `cut at ${cut}`).toThrow(RecordFormatError);
    }
    expect(() => decodeEvent(Buffer.concat([payload, Buffer.from([0])]))).toThrow(/1 bytes left/);
    const kind = Buffer.from(payload);
    kind[1] = 9;
    expect(() => decodeEvent(kind)).toThrow(/unknown event kind 9/);
  });

  it('refuses a JSON payload that is not an event', () => {
    expect(() => decodeEvent(Buffer.from('{"kind":"batch"}'))).toThrow(/not a batch or a cycle end/);
    expect(() => decodeEvent(Buffer.from('{"kind":'))).toThrow(SyntaxError);
  });
});

function nodeBatchOf(sets: readonly MetricSet[]): MetricBatch {
  return { kind: 'batch', scope: 'node', node: 'node-ü', cycle: 3, timestamp: 45_000, sets };
}
