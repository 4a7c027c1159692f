import { open, readFile, rename } from 'node:fs/promises';
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
  const data = Buffer.alloc(STATE_BYTES);
  data.writeUInt32LE(MAGIC, 0);
  data.writeBigUInt64LE(BigInt(positions.acked), 8);
  data.writeBigUInt64LE(BigInt(positions.read), 16);
  data.writeUInt32LE(crc32c(data, 8), 4);
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
