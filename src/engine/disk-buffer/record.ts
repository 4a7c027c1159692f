import { crc32c } from './crc32c.js';

/**
 * One record in a segment file, little-endian:
 *
 * | bytes | field                                                                  |
 * | ----- | ---------------------------------------------------------------------- |
 * | 4     | magic `F1 7E B5 0D`: where a reader looks for the next record to resync |
 * | 4     | CRC-32C of everything after it: length, sequence, time and payload     |
 * | 4     | payload length                                                         |
 * | 8     | sequence number (1, 2, 3… over the buffer's life, never reused)        |
 * | 8     | when it was written (ms since the epoch, a float64)                    |
 * | n     | payload: one event, its first byte its format (event-codec.ts)         |
 *
 * A binary payload may hold the magic's bytes anywhere: a resync that lands on them inside a payload is a false
 * start, which the checksum (it covers the length) rejects, and the scan moves on to the next magic.
 */
export const RECORD_MAGIC = 0x0db57ef1;
export const HEADER_BYTES = 28;
/** The longest payload a header may claim: a larger length is garbage, not a record. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024;

/** Where one valid record sits in a segment, and what it says about itself. */
export interface RecordInfo {
  readonly offset: number;
  readonly payloadBytes: number;
  readonly seq: number;
  readonly writtenAt: number;
}

/** A stretch of a segment that holds no valid record: a torn tail or damaged bytes. */
export interface DamagedRange {
  readonly offset: number;
  readonly bytes: number;
}

/**
 * A record ready to append.
 *
 * @example
 * const bytes = encodeRecord(7, Date.now(), Buffer.from('{"kind":"batch"}'));
 */
export function encodeRecord(seq: number, writtenAt: number, payload: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  record.writeUInt32LE(RECORD_MAGIC, 0);
  record.writeUInt32LE(payload.length, 8);
  record.writeBigUInt64LE(BigInt(seq), 12);
  record.writeDoubleLE(writtenAt, 20);
  record.set(payload, HEADER_BYTES);
  record.writeUInt32LE(crc32c(record, 8), 4);
  return record;
}

/**
 * A record without its sequence number and checksum yet: stampRecord completes it once its sequence number is
 * known, so the payload is checksummed once, when written, not also when offered. `alloc` gives its memory (a
 * RecordArena's).
 *
 * @example
 * const bytes = frameRecord(Date.now(), payload); …; stampRecord(bytes, 7);
 */
export function frameRecord(
  writtenAt: number,
  payload: Uint8Array,
  alloc: (bytes: number) => Buffer = (bytes) => Buffer.allocUnsafe(bytes),
): Buffer {
  const record = alloc(HEADER_BYTES + payload.length);
  record.writeUInt32LE(RECORD_MAGIC, 0);
  record.writeUInt32LE(0, 4);
  record.writeUInt32LE(payload.length, 8);
  record.writeUInt32LE(0, 12);
  record.writeUInt32LE(0, 16);
  record.writeDoubleLE(writtenAt, 20);
  record.set(payload, HEADER_BYTES);
  return record;
}

/** Gives an encoded record its sequence number (known only once the buffer's directory is read). */
export function stampRecord(record: Buffer, seq: number): void {
  // A u64 as two u32 halves: sequence numbers stay below 2^53, and a BigInt per record is an allocation.
  record.writeUInt32LE(seq % 0x1_0000_0000, 12);
  record.writeUInt32LE(Math.floor(seq / 0x1_0000_0000), 16);
  record.writeUInt32LE(crc32c(record, 8), 4);
}

/** The record that starts at `offset` of `data` if it is whole and its checksum holds, else undefined. */
export function recordAt(data: Buffer, offset: number): RecordInfo | undefined {
  if (offset + HEADER_BYTES > data.length) return undefined;
  if (data.readUInt32LE(offset) !== RECORD_MAGIC) return undefined;
  const payloadBytes = data.readUInt32LE(offset + 8);
  const end = offset + HEADER_BYTES + payloadBytes;
  if (payloadBytes > MAX_PAYLOAD_BYTES || end > data.length) return undefined;
  if (crc32c(data, offset + 8, end) !== data.readUInt32LE(offset + 4)) return undefined;
  return {
    offset,
    payloadBytes,
    seq: Number(data.readBigUInt64LE(offset + 12)),
    writtenAt: data.readDoubleLE(offset + 20),
  };
}

/**
 * Every valid record of a segment's bytes, in order, and the damaged ranges between them. After a damaged record
 * the scan looks for the next magic whose record checks out, so one torn write or flipped byte costs that record,
 * never the ones after it.
 *
 * @example
 * const { records, damaged } = scanRecords(await readFile(segmentPath));
 */
export function scanRecords(data: Buffer): { records: RecordInfo[]; damaged: DamagedRange[] } {
  const records: RecordInfo[] = [];
  const damaged: DamagedRange[] = [];
  let offset = 0;
  while (offset < data.length) {
    const record = recordAt(data, offset);
    if (record !== undefined) {
      records.push(record);
      offset += HEADER_BYTES + record.payloadBytes;
      continue;
    }
    const next = nextRecordAfter(data, offset);
    damaged.push({ offset, bytes: next - offset });
    offset = next;
  }
  return { records, damaged };
}

/** The offset of the next valid record after `offset`, or the end of the data. */
function nextRecordAfter(data: Buffer, offset: number): number {
  const magic = Buffer.from([0xf1, 0x7e, 0xb5, 0x0d]);
  for (let at = data.indexOf(magic, offset + 1); at >= 0; at = data.indexOf(magic, at + 1)) {
    if (recordAt(data, at) !== undefined) return at;
  }
  return data.length;
}
