import { constants, writeSync } from 'node:fs';
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c } from './crc32c.js';

/**
 * The buffer's positions, kept in `<path>/state` (24 bytes: magic `HSA1`, CRC-32C of the rest, then two u64):
 *
 * - `acked`: every record up to this sequence number is done with (delivered, set aside or dropped);
 * - `read`: the highest sequence number handed to the sink. On start-up, records in (acked, read] may have
 *   reached the sink already: they are delivered again and counted as redelivered.
 */
export interface BufferPositions {
  readonly acked: number;
  readonly read: number;
}

const MAGIC = 0x31415348; // "HSA1"
const STATE_BYTES = 24;

export const STATE_FILE = 'state';

/**
 * The positions in `dir`, or undefined when there is no state file yet; throws when it cannot be read or does
 * not check out (the caller then replays everything, counting it as redelivered).
 */
export async function readPositions(dir: string): Promise<BufferPositions | undefined> {
  let data: Buffer;
  try {
    data = await readFile(join(dir, STATE_FILE));
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  }
  if (data.length !== STATE_BYTES || data.readUInt32LE(0) !== MAGIC) {
    throw new Error(`the state file is ${data.length} bytes, not a state record`);
  }
  if (crc32c(data, 8) !== data.readUInt32LE(4)) throw new Error('the state file fails its checksum');
  return { acked: Number(data.readBigUInt64LE(8)), read: Number(data.readBigUInt64LE(16)) };
}

/**
 * The state file held open and rewritten in place, as the buffer's positions move (twice a batch with
 * `sync: every_batch`): one 24-byte write at offset 0 instead of a temporary file, a write, a close and a rename.
 * A process killed at any moment cannot tear it (a write of a few bytes within one page is done whole or not at
 * all); a power cut in the middle of one could, within one disk sector, which its checksum catches: the next start
 * then replays every segment, counted as redelivered. The file is first made whole by writePositions, so there is
 * never an empty one to find.
 *
 * @example
 * const state = await StateFile.open(dir, { acked: 0, read: 0 });
 * await state.write({ acked: 3, read: 4 }, false);
 */
export class StateFile {
  private constructor(private readonly handle: FileHandle) {}

  static async open(dir: string, positions: BufferPositions): Promise<StateFile> {
    await writePositions(dir, positions, true);
    return new StateFile(await open(join(dir, STATE_FILE), constants.O_RDWR));
  }

  /**
   * Writes the positions over the old ones; `durable` also flushes them to the disk. The write itself is
   * synchronous: 24 bytes into a page the kernel holds take microseconds, less than the thread-pool round trip an
   * asynchronous one costs, and a reader catching up does one per batch. The flush is not.
   */
  async write(positions: BufferPositions, durable: boolean): Promise<void> {
    const data = encodePositions(positions);
    const written = writeSync(this.handle.fd, data, 0, data.length, 0);
    if (written !== data.length) throw new Error(`short write of the state file: ${written} bytes`);
    if (durable) await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/**
 * Replaces the state file atomically: a temporary file, written whole, renamed over it, so a crash leaves the old
 * state or the new one, never a mix. `durable` also flushes the file to the disk before the rename (a power cut
 * then loses no acknowledgement); without it, a process killed at any moment still leaves a whole file, since the
 * kernel keeps what was written.
 */
export async function writePositions(
  dir: string,
  positions: BufferPositions,
  durable: boolean,
): Promise<void> {
  const data = encodePositions(positions);
  const temp = join(dir, `${STATE_FILE}.tmp`);
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(data);
    if (durable) await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(dir, STATE_FILE));
}

function encodePositions(positions: BufferPositions): Buffer {
  const data = Buffer.alloc(STATE_BYTES);
  data.writeUInt32LE(MAGIC, 0);
  data.writeBigUInt64LE(BigInt(positions.acked), 8);
  data.writeBigUInt64LE(BigInt(positions.read), 16);
  data.writeUInt32LE(crc32c(data, 8), 4);
  return data;
}
