import { describe, expect, it } from 'vitest';
import { RecordArena } from './record-arena.js';

/**
 * Whether a record starts where a chunk does: the same memory, not only the same ArrayBuffer (Node 22 and later cut
 * small Buffers such as the tests' 8 KiB chunks from one shared pool).
 */
const startsAt = (record: Buffer | undefined, chunk: Buffer | undefined): boolean =>
  record !== undefined &&
  chunk !== undefined &&
  record.buffer === chunk.buffer &&
  record.byteOffset === chunk.byteOffset;

describe('RecordArena', () => {
  it('never gives memory of records not yet recycled to another record', () => {
    const arena = new RecordArena(8192, 2);
    const first = [arena.alloc(1000).fill(1), arena.alloc(2000).fill(2)];
    const firstChunks = arena.take();
    // Cut while the first records are being written: other memory.
    const second = [1, 2, 3, 4, 5].map((n) => arena.alloc(2000).fill(2 + n));
    expect(first[0]?.every((b) => b === 1)).toBe(true);
    expect(first[1]?.every((b) => b === 2)).toBe(true);
    second.forEach((record, i) => expect(record.every((b) => b === 3 + i)).toBe(true));
    const secondChunks = arena.take();
    expect(secondChunks.some((chunk) => firstChunks.includes(chunk))).toBe(false);
    expect(secondChunks).toHaveLength(2);
  });

  it('uses recycled chunks again, keeping at most maxSpare of them', () => {
    const arena = new RecordArena(8192, 1);
    for (let i = 0; i < 5; i++) arena.alloc(2000);
    const chunks = arena.take();
    expect(chunks).toHaveLength(2);
    arena.recycle(chunks);
    const again = arena.alloc(100);
    expect(startsAt(again, chunks[0])).toBe(true);
    for (let i = 0; i < 4; i++) arena.alloc(2000);
    // The second chunk was not kept (maxSpare 1): a new one.
    expect(startsAt(arena.alloc(2000), chunks[1])).toBe(false);
  });

  it('gives a record larger than a quarter of a chunk a buffer of its own, outside every chunk', () => {
    const arena = new RecordArena(8192, 4);
    const large = arena.alloc(3000);
    expect(large.length).toBe(3000);
    expect(arena.take()).toEqual([]);
  });
});
