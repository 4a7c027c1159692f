import { readFileSync } from 'node:fs';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import { LabelInterner } from './label-interner.js';
import { SetPacker, SetUnpacker, transferablesOf, type PackedSets } from './set-transfer.js';
import { SetValues } from './set-values.js';
import type { MetricSet } from './types.js';

const PAYLOAD = readFileSync(
  new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url),
  'utf8',
);

/** What a worker's scrape gives: the payload decoded afresh, its labels interned. */
function scrape(interner: LabelInterner, node = 'n1'): MetricSet[] {
  const sets = decodeSummary(JSON.parse(PAYLOAD), { name: node });
  interner.internSets(sets);
  return sets;
}

/** Through a real MessageChannel, transferring the buffers, as postMessage between threads does. */
function cross(packed: PackedSets): PackedSets {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(packed, transferablesOf(packed));
  const received = receiveMessageOnPort(port2)?.message as PackedSets;
  port1.close();
  return received;
}

describe('set transfer between threads', () => {
  it('gives back every set of a real payload: type, key, labels, values, labeled values and times', () => {
    const sets = scrape(new LabelInterner());
    const packed = new SetPacker().pack('n1', sets);
    const rowsBuffer = packed.rows.buffer;
    const back = new SetUnpacker().unpack(cross(packed));
    // Transferred, not copied: the sender's buffer is detached.
    expect(rowsBuffer.byteLength).toBe(0);
    expect(back).toHaveLength(sets.length);
    back.forEach((set, i) => expect(set).toEqual(sets[i]));
    expect(back.some((s) => s.labeled.length > 0)).toBe(true);
  });

  it('sends a series’ key and labels once, and hands out the same objects every message', () => {
    const interner = new LabelInterner();
    const packer = new SetPacker();
    const unpacker = new SetUnpacker();
    const first = cross(packer.pack('n1', scrape(interner)));
    const firstSets = unpacker.unpack(first);
    const second = cross(packer.pack('n1', scrape(interner)));
    expect(first.added.length).toBeGreaterThan(firstSets.length);
    expect(second.added).toEqual([]);
    const secondSets = unpacker.unpack(second);
    secondSets.forEach((set, i) => {
      expect(set.labels).toBe(firstSets[i]?.labels);
      set.labeled.forEach((v, j) => expect(v.labels).toBe(firstSets[i]?.labeled[j]?.labels));
    });
    expect(Object.isFrozen(secondSets[0]?.labels)).toBe(true);
  });

  it('carries names outside the catalogue', () => {
    const set: MetricSet = {
      type: 'pod',
      key: 'namespace:a/pod:b',
      labels: { pod_name: 'b' },
      values: SetValues.from({ 'cpu/usage': 5, 'custom/queue_depth': 3 }),
      labeled: [],
      scrapeTime: 1.5,
      startTime: 0,
    };
    const [back] = new SetUnpacker().unpack(cross(new SetPacker().pack('n1', [set])));
    expect(back?.values.get('custom/queue_depth')).toBe(3);
    expect(back?.values.get('cpu/usage')).toBe(5);
    expect(back?.values.size).toBe(2);
    expect(back?.scrapeTime).toBe(1.5);
  });

  it('starts a new table generation once series that ended fill it, and the receiver follows', () => {
    const packer = new SetPacker();
    const unpacker = new SetUnpacker();
    const setFor = (n: number): MetricSet => ({
      type: 'pod',
      key: `namespace:a/pod:p${n}`,
      labels: { pod_name: `p${n}` },
      values: SetValues.from({ 'cpu/usage': n }),
      labeled: [],
      scrapeTime: 0,
      startTime: 0,
    });
    // One pod per message, a new one each time: every entry but the last two is dead.
    const epochs = new Set<number>();
    for (let n = 0; n < 5000; n++) {
      const packed = cross(packer.pack('n1', [setFor(n)]));
      epochs.add(packed.epoch);
      const [back] = unpacker.unpack(packed);
      expect(back?.key).toBe(`namespace:a/pod:p${n}`);
      expect(back?.labels).toEqual({ pod_name: `p${n}` });
    }
    expect(epochs.size).toBeGreaterThan(1);
  });
});
