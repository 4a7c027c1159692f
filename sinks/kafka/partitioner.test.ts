import kafkajs, { type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { rememberingPartitioner } from './partitioner.js';

const { Partitioners } = kafkajs;

function partitionsOf(count: number): PartitionMetadata[] {
  return Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
  }));
}

describe('remembering partitioner', () => {
  it("places every key where kafkajs' default partitioner does, also after the partition count changes", () => {
    const ours = rememberingPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys = Array.from({ length: 500 }, (_, i) => `namespace-${i % 37}/pod-${i}`);
    for (const count of [12, 12, 5]) {
      const partitionMetadata = partitionsOf(count);
      for (const key of keys) {
        const args = { topic: 't', partitionMetadata, message: { key, value: 'v' } };
        expect(ours(args)).toBe(theirs(args));
      }
    }
  });

  it('keeps an explicit partition and spreads messages without a key', () => {
    const ours = rememberingPartitioner();
    const partitionMetadata = partitionsOf(4);
    expect(ours({ topic: 't', partitionMetadata, message: { key: 'k', value: 'v', partition: 3 } })).toBe(3);
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++)
      seen.add(ours({ topic: 't', partitionMetadata, message: { key: null, value: 'v' } }));
    expect(seen.size).toBe(4);
  });
});
