import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSha256, FilePartReader } from './file-body.js';

function tempFile(bytes: Uint8Array): string {
  const path = join(mkdtempSync(join(tmpdir(), 'heapstream-file-body-')), 'part-0.parquet');
  writeFileSync(path, bytes);
  return path;
}

describe('file bodies for uploads', () => {
  it('hashes a file as a stream, the same as hashing its bytes', async () => {
    const bytes = randomBytes(200_000);
    expect(await fileSha256(tempFile(bytes), bytes.length)).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    );
    expect(await fileSha256(tempFile(new Uint8Array(0)), 0)).toBe(createHash('sha256').digest('hex'));
  });

  it('reads parts one after the other into one buffer of one part', async () => {
    const bytes = randomBytes(2 * 1000 + 17);
    const reader = await FilePartReader.open(tempFile(bytes), bytes.length, 1000);
    try {
      const copies: Buffer[] = [];
      const places = new Set<string>();
      const memories = new Set<ArrayBufferLike>();
      for (let offset = 0; offset < bytes.length; offset += 1000) {
        const part = await reader.read(offset, Math.min(1000, bytes.length - offset));
        places.add(String(part.byteOffset));
        memories.add(part.buffer);
        copies.push(Buffer.from(part));
      }
      // Every part was read into the same memory: the reader never holds more than one part.
      expect(memories.size).toBe(1);
      expect(places.size).toBe(1);
      expect(Buffer.compare(Buffer.concat(copies), bytes)).toBe(0);
    } finally {
      await reader.close();
    }
  });

  it('fails, naming the byte, when the file shrinks during the upload', async () => {
    const path = tempFile(randomBytes(3000));
    const reader = await FilePartReader.open(path, 3000, 1000);
    try {
      await reader.read(0, 1000);
      truncateSync(path, 1500);
      await expect(reader.read(1000, 1000)).rejects.toThrow(/file ended at byte 1500 of 3000: it changed/);
    } finally {
      await reader.close();
    }
  });
});
