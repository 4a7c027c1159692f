import { mkdir, open, readdir, readFile, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { HEADER_BYTES, recordAt, scanRecords, type DamagedRange, type RecordInfo } from './record.js';

/** One segment file: `seg-<first sequence number, 16 digits>.hsb`, records appended in sequence order. */
export interface Segment {
  readonly name: string;
  readonly path: string;
  /** Bytes in the file (the valid records and any damaged bytes). */
  bytes: number;
  /** Its valid records, in order. */
  readonly records: RecordInfo[];
  /** Only the segment this process created last takes appends; segments found at start-up are read-only. */
  writable: boolean;
}

/** A record to append, its sequence number already given. */
export interface PendingRecord {
  readonly seq: number;
  readonly writtenAt: number;
  /** The encoded record (see encodeRecord). */
  readonly bytes: Buffer;
}

/** What start-up found damaged: one entry per damaged range or unreadable file. */
export interface DamageReport {
  readonly file: string;
  readonly offset: number;
  readonly bytes: number;
  readonly error?: unknown;
}

const SEGMENT_PATTERN = /^seg-(\d{16})\.hsb$/;

/**
 * The segment files of one buffer directory and an index of their valid records. It knows files and records,
 * not policies: the DiskQueue decides what to append, read, drop and delete. Every method that writes is called
 * one at a time (the queue chains them).
 *
 * @example
 * const store = await SegmentStore.open('/var/lib/heapstream/buffer/lake', 8 << 20);
 * await store.append([{ seq: 1, writtenAt: Date.now(), bytes: encodeRecord(1, Date.now(), payload) }], true);
 */
export class SegmentStore {
  readonly segments: Segment[] = [];
  private writer: FileHandle | undefined;
  private readonly readers = new Map<Segment, FileHandle>();
  /** Whether appends since the last sync() are not yet flushed to the disk. */
  private dirty = false;

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
  ) {}

  /**
   * Opens (creating it if need be) a buffer directory and indexes its segments. Damaged ranges and unreadable
   * segments are reported, never thrown: the records around them stay readable.
   */
  static async open(
    dir: string,
    segmentBytes: number,
  ): Promise<{ store: SegmentStore; damaged: DamageReport[] }> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const store = new SegmentStore(dir, segmentBytes);
    const damaged: DamageReport[] = [];
    const names = (await readdir(dir)).filter((name) => SEGMENT_PATTERN.test(name)).sort();
    for (const name of names) {
      const path = join(dir, name);
      let data: Buffer;
      try {
        data = await readFile(path);
      } catch (error) {
        damaged.push({ file: path, offset: 0, bytes: 0, error });
        continue;
      }
      const scan = scanRecords(data);
      for (const range of scan.damaged) damaged.push(describeRange(path, range));
      let bytes = data.length;
      const tail = scan.damaged.at(-1);
      if (tail !== undefined && tail.offset + tail.bytes === data.length && scan.records.length > 0) {
        // A torn tail (the write a crash cut short) is cut off, so that the next start does not count it again.
        // Damage inside a file stays until the file is deleted, and is counted at each start until then.
        await truncate(path, tail.offset).catch(() => undefined);
        bytes = tail.offset;
      }
      if (scan.records.length === 0) {
        // Nothing in it to deliver: a file left empty by a crash right after its creation, or wholly damaged.
        await unlink(path).catch(() => undefined);
        continue;
      }
      store.segments.push({ name, path, bytes, records: scan.records, writable: false });
    }
    return { store, damaged };
  }

  /** Bytes in every segment file. */
  get bytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.bytes;
    return total;
  }

  /** The highest sequence number on disk; 0 when empty. */
  get lastSeq(): number {
    const last = this.segments.at(-1)?.records.at(-1);
    return last?.seq ?? 0;
  }

  /**
   * Appends records in order, starting a new segment when the current one would pass its size (a record larger
   * than a segment gets one to itself). With `sync`, returns only once they are on the disk (fdatasync).
   * Records are indexed only once written whole; after a failed write the segment takes no more appends, so what
   * it may hold of the failed write is a damaged tail that a later start-up skips.
   */
  async append(records: readonly PendingRecord[], sync: boolean): Promise<void> {
    let group: PendingRecord[] = [];
    let groupBytes = 0;
    for (const record of records) {
      const active = this.active();
      const room = this.segmentBytes - (active?.bytes ?? 0) - groupBytes;
      if (
        active === undefined ||
        (record.bytes.length > room && (active.records.length > 0 || group.length > 0))
      ) {
        if (active !== undefined && group.length > 0) await this.write(active, group);
        group = [];
        groupBytes = 0;
        await this.roll(record.seq);
      }
      group.push(record);
      groupBytes += record.bytes.length;
    }
    const active = this.active();
    if (active !== undefined && group.length > 0) await this.write(active, group);
    if (sync) await this.sync();
  }

  /** Flushes what was appended since the last sync to the disk. */
  async sync(): Promise<void> {
    if (!this.dirty || this.writer === undefined) return;
    this.dirty = false;
    await this.writer.datasync();
  }

  /**
   * The payload of an indexed record, read from its segment and checked again; undefined when its bytes no longer
   * check out (changed on the disk since they were indexed).
   */
  async readPayload(segment: Segment, record: RecordInfo): Promise<Buffer | undefined> {
    let handle = this.readers.get(segment);
    if (handle === undefined) {
      handle = await open(segment.path, 'r');
      this.readers.set(segment, handle);
    }
    const data = Buffer.allocUnsafe(HEADER_BYTES + record.payloadBytes);
    const { bytesRead } = await handle.read(data, 0, data.length, record.offset);
    if (bytesRead !== data.length || recordAt(data, 0) === undefined) return undefined;
    return data.subarray(HEADER_BYTES);
  }

  /** Removes a segment and its file. */
  async remove(segment: Segment): Promise<void> {
    const index = this.segments.indexOf(segment);
    if (index >= 0) this.segments.splice(index, 1);
    if (segment.writable) await this.retire();
    const reader = this.readers.get(segment);
    this.readers.delete(segment);
    await reader?.close().catch(() => undefined);
    try {
      await unlink(segment.path);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
    }
  }

  /** Stops appending to the current segment: the next append starts a new one. */
  async retire(): Promise<void> {
    const active = this.active();
    if (active !== undefined) active.writable = false;
    const writer = this.writer;
    this.writer = undefined;
    if (writer === undefined) return;
    try {
      if (this.dirty) await writer.datasync();
    } finally {
      this.dirty = false;
      await writer.close();
    }
  }

  async close(): Promise<void> {
    await this.retire();
    for (const reader of this.readers.values()) await reader.close().catch(() => undefined);
    this.readers.clear();
  }

  private active(): Segment | undefined {
    const last = this.segments.at(-1);
    return last?.writable === true && this.writer !== undefined ? last : undefined;
  }

  private async roll(firstSeq: number): Promise<void> {
    await this.retire();
    const name = `seg-${String(firstSeq).padStart(16, '0')}.hsb`;
    const path = join(this.dir, name);
    this.writer = await open(path, 'wx', 0o600);
    // The new file's name must survive a power cut too, or its records would be lost with it.
    await syncDirectory(this.dir);
    this.segments.push({ name, path, bytes: 0, records: [], writable: true });
  }

  private async write(segment: Segment, group: readonly PendingRecord[]): Promise<void> {
    const writer = this.writer;
    if (writer === undefined) throw new Error('no segment open for writing');
    try {
      let offset = segment.bytes;
      const { bytesWritten } = await writer.writev(
        group.map((r) => r.bytes),
        offset,
      );
      const expected = group.reduce((sum, r) => sum + r.bytes.length, 0);
      // A short write is what a disk filling up returns first: writing the rest gets its error (ENOSPC), which
      // the queue's `when_full` answers, or finishes the write.
      let done = bytesWritten;
      while (done < expected) {
        const rest = Buffer.concat(group.map((r) => r.bytes)).subarray(done);
        const more = await writer.write(rest, 0, rest.length, offset + done);
        if (more.bytesWritten === 0) throw new Error(`short write: ${done} of ${expected} bytes`);
        done += more.bytesWritten;
      }
      this.dirty = true;
      for (const record of group) {
        segment.records.push({
          offset,
          payloadBytes: record.bytes.length - HEADER_BYTES,
          seq: record.seq,
          writtenAt: record.writtenAt,
        });
        offset += record.bytes.length;
      }
      segment.bytes = offset;
    } catch (err) {
      // What reached the file is a damaged tail now; the segment's indexed records stay readable.
      await this.retire().catch(() => undefined);
      throw err;
    }
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function describeRange(file: string, range: DamagedRange): DamageReport {
  return { file, offset: range.offset, bytes: range.bytes };
}
