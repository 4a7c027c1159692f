import { describe, expect, it } from 'vitest';
import { shardOf } from './shard.js';

describe('shardOf', () => {
  it('is FNV-1a 32 of the UTF-8 bytes, modulo the partitions', () => {
    // The published FNV-1a 32 test vectors: "" → 0x811c9dc5, "a" → 0xe40c292c, "foobar" → 0xbf9cf968.
    expect(shardOf('', 2 ** 32 - 1)).toBe(0x811c9dc5 % (2 ** 32 - 1));
    expect(shardOf('a', 2 ** 32 - 1)).toBe(0xe40c292c % (2 ** 32 - 1));
    expect(shardOf('foobar', 2 ** 32 - 1)).toBe(0xbf9cf968 % (2 ** 32 - 1));
    expect(shardOf('foobar', 12)).toBe(0xbf9cf968 % 12);
  });

  it('spreads node names over the partitions', () => {
    const counts = new Array<number>(12).fill(0);
    for (let i = 0; i < 1200; i++) counts[shardOf(`node-${i}`, 12)]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(50);
  });
});
