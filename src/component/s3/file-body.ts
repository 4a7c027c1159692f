// Reading a local file for an upload without holding it whole: a hash pass and a stream for a single PUT, or one
// part at a time for a multipart upload. SigV4 signs the payload's SHA-256, so a streamed body is read twice.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** A request body streamed from a file: its length and hash are known before it is sent. */
export interface FileBody {
  readonly path: string;
  readonly length: number;
  readonly sha256: string;
}

/** The SHA-256 (hex) of a file's first `length` bytes, read as a stream. */
export async function fileSha256(path: string, length: number): Promise<string> {
  const hash = createHash('sha256');
  if (length > 0) {
    for await (const chunk of createReadStream(path, { start: 0, end: length - 1 })) {
      hash.update(chunk as Buffer);
    }
  }
  return hash.digest('hex');
}

/** The body of a request, streamed from the file: exactly `length` bytes, so it matches the signed hash. */
export function fileStream(body: FileBody): Readable | Uint8Array {
  if (body.length === 0) return new Uint8Array(0);
  return createReadStream(body.path, { start: 0, end: body.length - 1 });
}

/**
 * Reads a file one part after the other into one buffer of `partBytes`, reused for every part: an upload holds one
 * part in memory, whatever the file's size. A part must be sent (its request answered) before the next is read.
 */
export class FilePartReader {
  private constructor(
    private readonly handle: FileHandle,
    private readonly buffer: Buffer,
    readonly length: number,
  ) {}

  static async open(path: string, length: number, partBytes: number): Promise<FilePartReader> {
    const handle = await open(path, 'r');
    return new FilePartReader(handle, Buffer.allocUnsafe(Math.min(partBytes, length)), length);
  }

  /** Bytes [offset, offset + size) of the file, in the shared buffer (valid until the next call). */
  async read(offset: number, size: number): Promise<Uint8Array> {
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await this.handle.read(this.buffer, filled, size - filled, offset + filled);
      if (bytesRead === 0) {
        throw new Error(
          `file ended at byte ${offset + filled} of ${this.length}: it changed during its upload`,
        );
      }
      filled += bytesRead;
    }
    return this.buffer.subarray(0, size);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
