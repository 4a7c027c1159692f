import { mkdir } from 'node:fs/promises';
import type { Clock } from '../../component/clock.js';
import { LogLimiter } from '../../component/log-limiter.js';
import type { Logger } from '../../component/logger.js';
import type { Counter, Gauge, Telemetry } from '../../component/telemetry.js';
import type { PipelineEvent } from '../../model/types.js';
import { DEFAULT_DISK_BUFFER_MEMORY_WINDOW } from '../../config/sink-options.js';
import { AckTracker } from './ack-tracker.js';
import { lockDirectory } from './dir-lock.js';
import { decodeEvent, encodeEventInPlace } from './event-codec.js';
import { RecordArena } from './record-arena.js';
import { frameRecord, stampRecord, type RecordInfo } from './record.js';
import { SegmentStore, type DamageReport, type PendingRecord, type Segment } from './segment-store.js';
import { readPositions, StateFile, writePositions } from './state-file.js';

export type WhenFull = 'block' | 'drop_oldest' | 'drop_newest';

export interface DiskQueueOptions {
  /** The buffer's directory; nothing else may use it. */
  readonly dir: string;
  /** Most bytes of segment files. */
  readonly maxBytes: number;
  /** `every_batch`: a batch counts as stored once flushed to the disk; `interval`: flushed every syncIntervalMs. */
  readonly sync: 'every_batch' | 'interval';
  readonly syncIntervalMs: number;
  readonly whenFull: WhenFull;
  /** The sink's name, for metric labels and log lines. */
  readonly sink: string;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly telemetry: Telemetry;
  /** Size of one segment file; an eighth of maxBytes within 64 KiB–16 MiB unless a test wants another. */
  readonly segmentBytes?: number;
  /** Bytes waiting in memory to be written past which batches count as not fitting (a disk that hangs). */
  readonly maxPendingBytes?: number;
  /**
   * Bytes of records written by this process whose events are also kept in memory until the reader takes them
   * (`buffer.memory_window`; 0: every record is read back from its file).
   */
  readonly memoryWindow?: number;
}

/** A record handed to the sink: acknowledge it with `done(seq)` once the sink is done with it. */
export interface BufferedEvent {
  readonly seq: number;
  readonly event: PipelineEvent;
}

/** Why a batch left the buffer without being delivered (the `reason` label). */
export type BufferDropReason =
  'drop_newest' | 'drop_oldest' | 'blocked' | 'too_large' | 'disk_full' | 'disk_error' | 'corrupt';

/**
 * Batches the buffer did not deliver, for the sink's own drop counters (the pipeline's data-loss accounting): cycle
 * marks are records but not batches. A damaged record's sets are unknown unless this process wrote it: `sets`
 * counts those known.
 */
export interface BufferDrop {
  readonly batches: number;
  readonly sets: number;
  readonly reason: BufferDropReason;
}

/**
 * A record waiting to be written, with what it holds: a batch's set count, or MARK for a cycle mark. Its sequence
 * number is given when it is offered (0 until the directory is read; then `event` waits with it to be numbered).
 */
interface PendingEvent extends PendingRecord {
  seq: number;
  readonly sets: number;
  event: PipelineEvent | undefined;
}

/** `sets` of a cycle mark: a record that is not a batch. */
const MARK = -1;

const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;
/** Damaged ranges logged one by one at start-up; past this, one line sums up the rest. */
const DAMAGE_LINES = 20;

/**
 * One sink's disk buffer: events are appended to segment files as they come (the caller never waits for the
 * disk), read back in order for the sink, and acknowledged once the sink is done with them; segments whose every
 * record is acknowledged are deleted. Its positions (acknowledged, read) live in a state file, so a restart
 * replays what was not acknowledged, in order, before anything new.
 *
 * A full buffer applies `when_full` to this sink alone: `drop_newest` refuses the batch, `drop_oldest` deletes the
 * oldest segment to make room, `block` refuses batches from then until a cycle starts with room, so the sink
 * skips whole cycles and no other sink waits. A full disk (ENOSPC, EDQUOT) applies it too, to the write that failed:
 * `drop_oldest` deletes old segments and writes once more, `block` refuses batches until a write succeeds (the
 * first of each cycle tries). See the README's table.
 *
 * @example
 * const queue = new DiskQueue({ dir, maxBytes: 256 << 20, sync: 'every_batch', syncIntervalMs: 1000, … });
 * queue.offer(batch);
 * const next = await queue.read(); …; await queue.done(next.seq);
 */
export class DiskQueue {
  private store: SegmentStore | undefined;
  private unlock: (() => Promise<void>) | undefined;
  private broken: Error | undefined;
  private opening: Promise<void> | undefined;
  private acks = new AckTracker(0);
  /** The highest sequence number handed to the sink (or passed over as done already). */
  private readThrough = 0;
  /**
   * The last record stored (written and, with `every_batch`, flushed). A segment indexes a record as soon as it is
   * written, before the flush: a record not kept in memory is read back from its file only once stored.
   */
  private storedThrough = 0;
  private nextSeq = 1;
  /** Whether offers are numbered as they come: once the directory is read and nextSeq known. */
  private numbering = false;
  private pending: PendingEvent[] = [];
  /**
   * What each open record this process took holds (sets of a batch, or MARK), so that a drop is counted in
   * batches and sets without reading it back; records replayed from before are read back when dropped.
   */
  private readonly contents = new Map<number, number>();
  /**
   * Events offered to this process's buffer that the reader has not taken yet, by sequence number, up to
   * `memoryWindow` bytes of their records: a sink that keeps up gets each one as it was offered, at once, while
   * its record is being written, without reading and decoding it back; so a batch lives no longer than with a
   * memory buffer (held until its write and flush, batches outlived the young generation and doubled the time in
   * collections). Their records go to the disk all the same: that copy is what a restart replays. A sink that
   * falls further behind reads the rest from the files, once stored.
   */
  private readonly fresh = new Map<number, { readonly event: PipelineEvent; readonly bytes: number }>();
  private freshTotal = 0;
  private pendingBytes = 0;
  /** Memory for the records waiting to be written, used again once they are (see RecordArena). */
  private readonly arena = new RecordArena();
  private readonly alloc = (bytes: number): Buffer => this.arena.alloc(bytes);
  private writing: Promise<void> | undefined;
  /** Everything that touches the segment files, one at a time. */
  private io: Promise<unknown> = Promise.resolve();
  private stateChain: Promise<void> = Promise.resolve();
  /** The state file, held open once the directory is read; undefined if that failed (then replaced whole). */
  private state: StateFile | undefined;
  private stateClosed = false;
  /** Deletions of acknowledged segments under way (they run beside the writes). */
  private readonly removals = new Set<Promise<void>>();
  private stateQueued: Promise<void> | undefined;
  /** The cycle whose batches `block` refuses; undefined when not blocking. */
  private blockedCycle: number | undefined;
  /** `block` on a full disk (ENOSPC, EDQUOT): set until a write succeeds again. */
  private diskFull = false;
  /** The cycle of the latest event offered: a full disk under `block` refuses the rest of it. */
  private lastOfferedCycle = 0;
  private closing = false;
  private timer: { unsubscribe(): void } | undefined;
  private readonly waiting = new Set<() => void>();
  private readonly segmentBytes: number;
  private readonly limitedLog: LogLimiter;
  private readonly metrics: {
    bytes: Gauge;
    records: Gauge;
    oldestAge: Gauge;
    maxBytes: Gauge;
    written: Counter;
    writtenBytes: Counter;
    readFromMemory: Counter;
    readFromDisk: Counter;
    acknowledged: Counter;
    corrupt: Counter;
    redelivered: Counter;
  };

  constructor(
    private readonly options: DiskQueueOptions,
    /** Told of every batch that leaves the buffer undelivered, so the sink's own drop counters see it too. */
    private readonly onDropped: (drop: BufferDrop) => void = () => undefined,
  ) {
    this.segmentBytes =
      options.segmentBytes ??
      Math.min(16 * 1024 * 1024, Math.max(64 * 1024, Math.floor(options.maxBytes / 8)));
    this.limitedLog = new LogLimiter(options.logger, options.clock);
    this.metrics = describeMetrics(options.telemetry, options.sink);
    this.metrics.maxBytes.set(options.maxBytes);
  }

  /**
   * Opens the directory (at the first call of anything that needs it): resolves once it is indexed and the replay
   * known; never rejects. Nothing is opened, locked or timed before, so a queue built for a pipeline that never
   * runs (one that failed to start) holds nothing.
   */
  get ready(): Promise<void> {
    return (this.opening ??= this.open().then(() => {
      if (!this.closing) this.scheduleTick();
    }));
  }

  private get opened(): Promise<void> {
    return this.ready;
  }

  /** Whether close() was called: it takes nothing more. */
  get closed(): boolean {
    return this.closing;
  }

  /** Records stored and not yet acknowledged. */
  get records(): number {
    return this.acks.open;
  }

  /** Bytes of segment files plus those waiting to be written. */
  get bytes(): number {
    return (this.store?.bytes ?? 0) + this.pendingBytes;
  }

  /** Whether anything is stored, being written or not yet acknowledged. */
  get empty(): boolean {
    return this.acks.open === 0 && this.pending.length === 0 && this.writing === undefined;
  }

  /**
   * Takes an event to store, without waiting for the disk; false when `when_full` (or a record too large for
   * the whole buffer) refused it, counted and logged.
   */
  offer(event: PipelineEvent): boolean {
    if (this.closing) return false;
    this.lastOfferedCycle = Math.max(this.lastOfferedCycle, event.cycle);
    if (this.blockedCycle !== undefined && event.cycle <= this.blockedCycle)
      return this.refuse(this.diskFull ? 'disk_full_blocked' : 'blocked', event);
    const writtenAt = this.options.clock.now();
    // Its sequence number and checksum are stamped when it is written: until the directory is read, the next
    // sequence number is unknown.
    const bytes = frameRecord(writtenAt, encodeEventInPlace(event), this.alloc);
    if (bytes.length > this.options.maxBytes) return this.refuse('too_large', event, bytes.length);
    if (!this.fits(bytes.length)) {
      const policy = this.options.whenFull;
      if (policy === 'drop_newest') return this.refuse('drop_newest', event);
      if (policy === 'block') {
        this.blockedCycle = event.cycle;
        return this.refuse('blocked', event);
      }
      while (!this.fits(bytes.length) && this.dropOldestSegment('buffer') !== undefined);
      if (!this.fits(bytes.length)) return this.refuse('drop_newest', event);
    }
    // On a full disk, `block` lets the first batch of each cycle through to try the disk; the rest of that cycle
    // waits for its write to succeed, so a disk that stays full costs one failed write per cycle.
    this.blockedCycle = this.diskFull ? event.cycle : undefined;
    const record: PendingEvent = { seq: 0, writtenAt, bytes, event, sets: setsIn(event) };
    if (this.numbering) this.number(record);
    this.pending.push(record);
    this.pendingBytes += bytes.length;
    this.writing ??= this.writePending();
    if (record.seq !== 0) this.wake();
    return true;
  }

  /**
   * Gives a record its sequence number, stamps it, and opens it for the reader: from memory at once while the
   * window has room, else from its file once stored.
   */
  private number(record: PendingEvent): void {
    const seq = this.nextSeq++;
    record.seq = seq;
    stampRecord(record.bytes, seq);
    this.acks.add(seq);
    this.contents.set(seq, record.sets);
    if (record.event !== undefined) this.keepFresh(seq, record.event, record.bytes.length);
    // Kept (or not) in `fresh`: the pending record must not keep the event alive until it is written.
    record.event = undefined;
  }

  /**
   * The next record not yet handed out, in order; undefined when there is none now. One kept in memory is handed
   * out at once, while it is still being written (a kill before its write loses it as it would lose a batch not
   * yet offered; one the sink finished is not lost); one that is not is read back from its file once stored.
   * Damaged records are skipped (counted). With `sync: every_batch` the read position is persisted before the
   * record is returned, so that a restart knows it may have reached the sink. Call one at a time.
   */
  async read(): Promise<BufferedEvent | undefined> {
    await this.opened;
    for (;;) {
      const seq = this.nextOpen();
      if (seq === undefined) return undefined;
      const kept = this.takeFresh(seq);
      if (kept !== undefined) {
        this.readThrough = seq;
        this.metrics.readFromMemory.inc();
        const persisted = this.persistState(false);
        if (this.options.sync === 'every_batch') await persisted;
        return { seq, event: kept };
      }
      // Not kept in memory and still being written: the write wakes the reader.
      if (seq > this.storedThrough) return undefined;
      const located = this.locate(seq);
      if (located === undefined) {
        // Stored and open, yet in no segment: cannot happen (a deleted segment's records are done); never loop on it.
        this.countCorrupt(this.options.dir, 0, new Error(`record ${seq} is in no segment`));
        this.reportDropped([this.contents.get(seq)], 'corrupt');
        this.acks.done(seq);
        this.contents.delete(seq);
        continue;
      }
      const { segment, record } = located;
      this.readThrough = seq;
      let payload: Buffer | undefined;
      let error: unknown;
      try {
        payload = await this.store?.readPayload(segment, record);
      } catch (err) {
        error = err;
      }
      // drop_oldest may have deleted the segment meanwhile: the record is gone and counted already.
      if (!this.acks.isOpen(record.seq)) continue;
      let event: PipelineEvent | undefined;
      if (payload !== undefined) {
        try {
          event = decodeEvent(payload);
        } catch (err) {
          error = err;
        }
      }
      this.metrics.readFromDisk.inc();
      if (event === undefined) {
        this.countCorrupt(segment.path, record.offset, error ?? new Error('checksum mismatch on read'));
        this.reportDropped([this.contents.get(record.seq)], 'corrupt');
        await this.done(record.seq);
        continue;
      }
      const persisted = this.persistState(false);
      if (this.options.sync === 'every_batch') await persisted;
      return { seq: record.seq, event };
    }
  }

  /** Resolves when a record may be read, or at once if one may; also when the queue closes. */
  whenReadable(): Promise<void> {
    if (this.closing || this.readable()) return Promise.resolve();
    return new Promise((resolve) => this.waiting.add(resolve));
  }

  /**
   * The sink is done with a record (delivered, set aside or given up on). The acknowledged position is written
   * with the next read's (with `sync: every_batch`, before that read returns), so a restart repeats at most the
   * records read and not yet acknowledged on disk, counted as redelivered.
   */
  done(seq: number): Promise<void> {
    // Closed, the directory may be a successor's already: a write that ends now is replayed there (counted).
    if (this.closing) return Promise.resolve();
    this.contents.delete(seq);
    this.takeFresh(seq);
    const done = this.acks.done(seq);
    if (done === undefined) return this.stateQueued ?? this.stateChain;
    // Counted as each record is done, whether or not the position moves past it yet: out of order, the record that
    // moves it moves it past others, counted already.
    this.metrics.acknowledged.inc();
    if (done === 'held') return this.stateQueued ?? this.stateChain;
    this.updateGauges();
    this.deleteAcknowledged();
    // Not written now: the next read writes it with its own position, before that record is handed out (one
    // write a batch, not two), and the sync tick or close when no read follows. A kill meanwhile repeats only
    // records already read, which the read position counts as redelivered.
    return Promise.resolve();
  }

  /**
   * Resolves once every event offered so far is written (and, with `every_batch`, flushed to the disk), and the
   * segments acknowledged so far are deleted.
   */
  async flushed(): Promise<void> {
    await this.opened;
    while (this.writing !== undefined) await this.writing;
    await Promise.all(this.removals);
  }

  /**
   * Writes what is pending, flushes segments and state to the disk and closes the files. What is not
   * acknowledged stays for the next start.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    await this.flushed();
    this.closing = true;
    this.fresh.clear();
    this.freshTotal = 0;
    this.timer?.unsubscribe();
    this.wake();
    await this.enqueueIo(async () => {
      const store = this.store;
      if (store === undefined) return;
      // Delivered to the last batch: the buffer leaves no file behind but its state.
      await this.retireIfAcknowledged(store);
      await store.sync();
      await store.close();
    });
    await this.persistState(true);
    // Closed, the directory may be a successor's already: no position is written from here on.
    this.stateClosed = true;
    await this.state?.close().catch(() => undefined);
    this.state = undefined;
    await this.unlock?.();
  }

  private async open(): Promise<void> {
    const { dir, logger } = this.options;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      this.unlock = await lockDirectory(dir, (holder) =>
        logger.warn(
          { dir, holder },
          `sink ${this.options.sink}: took over the disk buffer ${dir} from process ${holder} (ended, or another heapstream given the same directory: give each its own data_dir)`,
        ),
      );
      const { store, damaged } = await SegmentStore.open(dir, this.segmentBytes);
      this.reportDamage(damaged);
      let positions: { acked: number; read: number } | undefined;
      try {
        positions = await readPositions(dir);
      } catch (err) {
        logger.warn(
          { dir, err: describeError(err) },
          `sink ${this.options.sink}: the disk buffer's state file cannot be read; replaying every segment (redelivered batches counted)`,
        );
        positions = { acked: 0, read: Number.MAX_SAFE_INTEGER };
      }
      const acked = positions?.acked ?? 0;
      const read = positions?.read ?? 0;
      this.acks = new AckTracker(acked);
      let replayed = 0;
      let redelivered = 0;
      for (const segment of store.segments) {
        for (const record of segment.records) {
          if (record.seq <= acked) continue;
          this.acks.add(record.seq);
          this.markStored(record.seq);
          replayed++;
          if (record.seq <= read) redelivered++;
        }
      }
      this.store = store;
      this.readThrough = this.acks.acked;
      // The positions read stay in the file until the next write, as when it was replaced whole each time.
      const initial = {
        acked,
        read: read === Number.MAX_SAFE_INTEGER ? store.lastSeq : Math.max(read, acked),
      };
      this.state = await StateFile.open(dir, initial).catch((err: unknown) => {
        this.limitedLog.log(
          'error',
          'buffer:state',
          { dir, err: describeError(err) },
          `sink ${this.options.sink}: cannot open the disk buffer's state file; replacing it at each write`,
        );
        return undefined;
      });
      this.nextSeq = Math.max(store.lastSeq, acked, read === Number.MAX_SAFE_INTEGER ? 0 : read) + 1;
      // Offered while the directory was read: numbered now, after the records from before.
      this.numbering = true;
      for (const record of this.pending) if (record.seq === 0) this.number(record);
      this.metrics.redelivered.inc(redelivered);
      if (replayed > 0) {
        logger.info(
          { dir, replayed, redelivered, bytes: store.bytes },
          `sink ${this.options.sink}: the disk buffer holds ${replayed} batches from before; delivering them first`,
        );
      }
      this.deleteAcknowledged();
      this.updateGauges();
      this.wake();
    } catch (err) {
      this.broken = err instanceof Error ? err : new Error(String(err));
      logger.error(
        { dir, err: describeError(err) },
        `sink ${this.options.sink}: cannot open the disk buffer ${dir}; batches for this sink are dropped (counted) until it is fixed and heapstream restarted`,
      );
    }
  }

  /**
   * Which bound a batch did not fit: the buffer's files (`max_size`), or the batches still in memory waiting to be
   * written, when they come faster than the disk takes them (a burst of scrapes, a slow or hung disk).
   */
  private whichBound(): string {
    const maxPending = this.options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    if (!this.writesBehind()) return 'the disk buffer is full (buffer.max_size)';
    const mib = (n: number) => (n / 2 ** 20).toFixed(0);
    return `the disk buffer's writes are behind (${mib(this.pendingBytes)} MiB waiting to be written, at most ${mib(maxPending)})`;
  }

  /** Whether batches do not fit for the backlog waiting to be written rather than for the files' size. */
  private writesBehind(): boolean {
    const maxPending = this.options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    return this.bytes < this.options.maxBytes * 0.9 && this.pendingBytes >= maxPending / 2;
  }

  private fits(bytes: number): boolean {
    const maxPending = this.options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    return this.bytes + bytes <= this.options.maxBytes && this.pendingBytes + bytes <= maxPending;
  }

  private refuse(
    reason: BufferDropReason | 'disk_full_blocked',
    event: PipelineEvent,
    bytes?: number,
  ): false {
    this.countDropped(1, reason === 'disk_full_blocked' ? 'blocked' : reason);
    this.reportDropped([setsIn(event)], reason === 'disk_full_blocked' ? 'blocked' : reason);
    const sets = event.kind === 'batch' ? event.sets.length : 0;
    const full = this.whichBound();
    const why =
      reason === 'too_large'
        ? `a batch of ${bytes} bytes is larger than buffer.max_size (${this.options.maxBytes}); it was dropped`
        : reason === 'blocked'
          ? `${full} (when_full: block): this sink takes no batches until a cycle starts with room`
          : reason === 'disk_full_blocked'
            ? `the disk is full (when_full: block): this sink takes no batches until a write to its buffer succeeds (one tried per cycle)`
            : `${full} (when_full: ${reason}); dropped a batch of ${sets} sets`;
    this.limitedLog.log(
      reason === 'too_large' ? 'error' : 'warn',
      // One line a minute per cause: a full buffer and writes behind are told apart.
      `buffer:${reason}:${reason !== 'too_large' && this.writesBehind() ? 'behind' : 'full'}`,
      {
        reason,
        cycle: event.cycle,
        bytes: this.bytes,
        maxSize: this.options.maxBytes,
        waitingToBeWritten: this.pendingBytes,
      },
      `sink ${this.options.sink}: ${why}`,
    );
    return false;
  }

  /**
   * Drops the oldest segment that takes no appends, because the buffer (`max_size`) or the disk is full; resolves
   * once its file is deleted; undefined when there is none.
   */
  private dropOldestSegment(full: 'buffer' | 'disk'): Promise<void> | undefined {
    const store = this.store;
    const oldest = store?.segments[0];
    if (store === undefined || oldest === undefined || oldest.writable) return undefined;
    let dropped = 0;
    const known: (number | undefined)[] = [];
    const unknown: RecordInfo[] = [];
    for (const record of oldest.records) {
      // Records already handed to the sink are finished by it; the others go with the file.
      if (record.seq > this.readThrough && this.acks.isOpen(record.seq)) {
        this.acks.done(record.seq);
        dropped++;
        const sets = this.contents.get(record.seq);
        this.contents.delete(record.seq);
        this.takeFresh(record.seq);
        if (sets === undefined) unknown.push(record);
        else known.push(sets);
      }
    }
    store.segments.shift();
    this.countDropped(dropped, 'drop_oldest');
    this.reportDropped(known, 'drop_oldest');
    // Replayed from before: what they held is read back before the file goes (a full buffer after a restart).
    if (unknown.length > 0) {
      void this.enqueueIo(async () =>
        this.reportDropped(await this.readContents(store, oldest, unknown), 'drop_oldest'),
      );
    }
    this.limitedLog.log(
      'warn',
      'buffer:drop_oldest',
      { file: oldest.path, dropped },
      `sink ${this.options.sink}: the ${full === 'disk' ? 'disk' : 'disk buffer'} is full (when_full: drop_oldest); deleted its oldest segment with ${dropped} batches`,
    );
    const removed = this.removeSegment(oldest, true);
    this.updateGauges();
    return removed;
  }

  private async writePending(): Promise<void> {
    await this.opened;
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      // The group's records, and those refused since the last group, are in these chunks.
      const chunks = this.arena.take();
      const groupBytes = group.reduce((sum, r) => sum + r.bytes.length, 0);
      try {
        await this.writeGroup(group);
      } finally {
        this.pendingBytes -= groupBytes;
        this.arena.recycle(chunks);
      }
      this.updateGauges();
      this.wake();
    }
    this.writing = undefined;
  }

  /**
   * Writes a group of records, applying `when_full` when the disk is full: `drop_oldest` deletes the oldest
   * segments and tries once more, `drop_newest` drops the group, `block` drops it and refuses batches until a
   * write succeeds. Any other failure drops the group (`disk_error`); the next group tries again.
   */
  private async writeGroup(group: readonly PendingEvent[], retried = false): Promise<void> {
    try {
      if (this.broken !== undefined) throw this.broken;
      const store = this.store as SegmentStore;
      await this.enqueueIo(async () => {
        await this.retireIfAcknowledged(store);
        await store.append(group, this.options.sync === 'every_batch');
      });
      let bytes = 0;
      for (const record of group) {
        this.markStored(record.seq);
        bytes += record.bytes.length;
      }
      this.metrics.written.inc(group.length);
      this.metrics.writtenBytes.inc(bytes);
      if (this.diskFull) {
        this.diskFull = false;
        this.blockedCycle = undefined;
        this.options.logger.info(
          { dir: this.options.dir },
          `sink ${this.options.sink}: the disk buffer can be written again; taking batches again`,
        );
      }
      return;
    } catch (err) {
      // Records written whole before the failure are indexed: they are kept; the rest of the group is not.
      const written = this.indexedFrom(group[0]?.seq ?? 0);
      for (const record of group.slice(0, written)) {
        this.markStored(record.seq);
        this.metrics.writtenBytes.inc(record.bytes.length);
      }
      this.metrics.written.inc(written);
      const lost = group.slice(written);
      await this.enqueueIo(() => this.removeEmptySegments());
      const code = errorCode(err);
      const diskFull = code === 'ENOSPC' || code === 'EDQUOT';
      const policy = this.options.whenFull;
      if (diskFull && policy === 'drop_oldest' && !retried && this.broken === undefined) {
        const freed = await this.freeOldest(lost.reduce((sum, r) => sum + r.bytes.length, 0));
        if (freed) return this.writeGroup(lost, true);
      }
      const reason: BufferDropReason = !diskFull
        ? 'disk_error'
        : policy === 'drop_newest'
          ? 'drop_newest'
          : policy === 'block'
            ? 'blocked'
            : 'disk_full';
      if (diskFull && policy === 'block') {
        this.diskFull = true;
        this.blockedCycle = Math.max(this.blockedCycle ?? 0, this.lastOfferedCycle);
      }
      // Records the sink took from memory already go on being delivered (or are done): only the others are lost.
      const dropped = lost.filter((record) => this.dropUnread(record.seq));
      this.countDropped(dropped.length, reason);
      this.reportDropped(
        dropped.map((record) => record.sets),
        reason,
      );
      this.deleteAcknowledged();
      this.updateGauges();
      this.wake();
      const unstored = lost.length - dropped.length;
      const also =
        unstored === 0
          ? ''
          : ` (${unstored} more, taken by the sink already, are delivered without a copy on disk)`;
      this.limitedLog.log(
        'error',
        `buffer:disk_error:${code}`,
        { dir: this.options.dir, dropped: dropped.length, unstored, reason, err: describeError(err) },
        diskFull
          ? `sink ${this.options.sink}: the disk is full (when_full: ${policy}); dropped ${dropped.length} batches${also}${policy === 'block' ? '; taking no batches until a write succeeds (one tried per cycle)' : policy === 'drop_oldest' ? ' (no older segment to delete, or still no room after deleting)' : ''}`
          : `sink ${this.options.sink}: cannot write the disk buffer; dropped ${dropped.length} batches${also} (retried with the next ones)`,
      );
    }
  }

  /**
   * Deletes the oldest segments, at least one and enough to free `bytes` if there are that many; false when there
   * was none to delete.
   */
  private async freeOldest(bytes: number): Promise<boolean> {
    let freed = 0;
    let any = false;
    while (freed < bytes) {
      const size = this.store?.segments[0]?.bytes ?? 0;
      const removed = this.dropOldestSegment('disk');
      if (removed === undefined) break;
      await removed;
      any = true;
      freed += size;
    }
    return any;
  }

  /** How many records with a sequence number from `first` on are in the index (written whole). */
  private indexedFrom(first: number): number {
    let count = 0;
    for (const segment of this.store?.segments ?? []) {
      count += segment.records.length - firstAfter(segment, first - 1);
    }
    return count;
  }

  /** Segments a failed write left without a record take disk space and keep nothing: they go. */
  private async removeEmptySegments(): Promise<void> {
    const store = this.store;
    if (store === undefined) return;
    for (const segment of store.segments.filter((s) => !s.writable && s.records.length === 0)) {
      await this.removeSegment(segment, false);
    }
  }

  /** The writable segment, once every record in it is acknowledged, is closed so that it can be deleted. */
  private async retireIfAcknowledged(store: SegmentStore): Promise<void> {
    const last = store.segments.at(-1);
    if (last === undefined || !last.writable) return;
    const lastSeq = last.records.at(-1)?.seq;
    if (lastSeq !== undefined && lastSeq <= this.acks.acked) {
      store.segments.pop();
      await this.removeSegment(last, false);
    }
  }

  private deleteAcknowledged(): void {
    const store = this.store;
    if (store === undefined) return;
    for (;;) {
      const oldest = store.segments[0];
      const lastSeq = oldest?.records.at(-1)?.seq;
      // A segment left empty by a failed write goes too, or it would keep every segment after it.
      if (oldest === undefined || oldest.writable || (lastSeq !== undefined && lastSeq > this.acks.acked))
        return;
      store.segments.shift();
      const removal = this.removeSegment(oldest, false);
      this.removals.add(removal);
      void removal.finally(() => this.removals.delete(removal));
    }
  }

  /** Deletes a segment already taken out of the index; inside the I/O chain when not already in it. */
  private removeSegment(segment: Segment, chained: boolean): Promise<void> {
    const remove = async (): Promise<void> => {
      try {
        await (this.store as SegmentStore).remove(segment);
      } catch (err) {
        this.limitedLog.log(
          'error',
          'buffer:delete',
          { file: segment.path, err: describeError(err) },
          `sink ${this.options.sink}: cannot delete the buffer segment ${segment.path}`,
        );
      }
    };
    return chained ? this.enqueueIo(remove) : remove();
  }

  /**
   * A record whose write failed leaves the buffer unless the sink took it already: true when it was dropped
   * (not yet handed out), false when the sink has it or is done with it.
   */
  private dropUnread(seq: number): boolean {
    if (seq === 0) return true;
    if (seq <= this.readThrough || !this.acks.isOpen(seq)) return false;
    this.acks.done(seq);
    this.contents.delete(seq);
    this.takeFresh(seq);
    return true;
  }

  private keepFresh(seq: number, event: PipelineEvent, bytes: number): void {
    const budget = this.options.memoryWindow ?? DEFAULT_DISK_BUFFER_MEMORY_WINDOW;
    if (this.freshTotal + bytes > budget) return;
    this.fresh.set(seq, { event, bytes });
    this.freshTotal += bytes;
  }

  /** The event kept for a record, forgotten as it is returned; undefined when it is not kept. */
  private takeFresh(seq: number): PipelineEvent | undefined {
    const kept = this.fresh.get(seq);
    if (kept === undefined) return undefined;
    this.fresh.delete(seq);
    this.freshTotal -= kept.bytes;
    return kept.event;
  }

  private markStored(seq: number): void {
    this.storedThrough = Math.max(this.storedThrough, seq);
  }

  /**
   * The first record after those handed out that is still open, in sequence order; the records passed over (done
   * or dropped before they were read) are passed for good.
   */
  private nextOpen(): number | undefined {
    while (this.readThrough + 1 < this.nextSeq) {
      const seq = this.readThrough + 1;
      if (this.acks.isOpen(seq)) return seq;
      this.readThrough = seq;
    }
    return undefined;
  }

  /** Whether read() has a record to hand out now: kept in memory, or stored. */
  private readable(): boolean {
    const seq = this.nextOpen();
    return seq !== undefined && (this.fresh.has(seq) || seq <= this.storedThrough);
  }

  /** The segment and index entry of a record on disk. */
  private locate(seq: number): { segment: Segment; record: Segment['records'][number] } | undefined {
    for (const segment of this.store?.segments ?? []) {
      const record = segment.records[firstAfter(segment, seq - 1)];
      if (record?.seq === seq) return { segment, record };
    }
    return undefined;
  }

  private enqueueIo<T>(work: () => Promise<T>): Promise<T> {
    const run = this.io.then(work);
    this.io = run.catch(() => undefined);
    return run;
  }

  /**
   * Writes the positions, coalescing requests: a request made while a write is running is served by the next
   * write, which reads the positions when it starts.
   */
  private persistState(durable: boolean): Promise<void> {
    if (this.store === undefined) return Promise.resolve();
    if (this.stateQueued !== undefined && !durable) return this.stateQueued;
    const run = this.stateChain.then(async () => {
      if (this.stateQueued === run) this.stateQueued = undefined;
      if (this.stateClosed) return;
      try {
        const positions = { acked: this.acks.acked, read: this.readThrough };
        if (this.state !== undefined) await this.state.write(positions, durable);
        else await writePositions(this.options.dir, positions, durable);
      } catch (err) {
        this.limitedLog.log(
          'error',
          'buffer:state',
          { dir: this.options.dir, err: describeError(err) },
          `sink ${this.options.sink}: cannot write the disk buffer's state file; a restart may deliver batches again`,
        );
      }
    });
    this.stateQueued = run;
    this.stateChain = run;
    return run;
  }

  private scheduleTick(): void {
    const { clock, syncIntervalMs } = this.options;
    this.timer = clock.scheduler.schedule(() => {
      if (this.closing) return;
      this.updateGauges();
      if (this.store !== undefined && this.broken === undefined) {
        void this.enqueueIo(() => (this.store as SegmentStore).sync()).catch((err: unknown) =>
          this.limitedLog.log(
            'error',
            'buffer:sync',
            { dir: this.options.dir, err: describeError(err) },
            `sink ${this.options.sink}: cannot flush the disk buffer to the disk`,
          ),
        );
        void this.persistState(true);
      }
      this.scheduleTick();
    }, syncIntervalMs);
  }

  private countCorrupt(file: string, offset: number, err: unknown): void {
    this.metrics.corrupt.inc();
    this.options.logger.warn(
      { file, offset, err: describeError(err) },
      `sink ${this.options.sink}: skipped a damaged record in the disk buffer (${file} at byte ${offset})`,
    );
  }

  private reportDamage(damaged: readonly DamageReport[]): void {
    // Each damaged range held at least one batch (a torn tail: the one being written at a crash); what it held is
    // unknown.
    this.reportDropped(
      damaged.map(() => undefined),
      'corrupt',
    );
    damaged.forEach((range, index) => {
      this.metrics.corrupt.inc();
      if (index < DAMAGE_LINES) {
        this.options.logger.warn(
          { file: range.file, offset: range.offset, bytes: range.bytes, err: describeError(range.error) },
          `sink ${this.options.sink}: skipped a damaged record in the disk buffer (${range.file} at byte ${range.offset}, ${range.bytes} bytes)`,
        );
      }
    });
    if (damaged.length > DAMAGE_LINES) {
      this.options.logger.warn(
        { damaged: damaged.length },
        `sink ${this.options.sink}: ${damaged.length - DAMAGE_LINES} more damaged records skipped in the disk buffer`,
      );
    }
  }

  /** Records (batches and cycle marks) the buffer did not keep, in its own counter. */
  private countDropped(records: number, reason: BufferDropReason): void {
    if (records === 0) return;
    this.options.telemetry
      .counter('heapstream_buffer_records_dropped_total', { sink: this.options.sink, reason })
      .inc(records);
  }

  /**
   * Tells the sink of batches dropped, for its drop counters: each entry a record's sets, MARK for a cycle mark
   * (not a batch), undefined for a batch whose sets are unknown (a damaged record from before).
   */
  private reportDropped(contents: readonly (number | undefined)[], reason: BufferDropReason): void {
    let batches = 0;
    let sets = 0;
    for (const count of contents) {
      if (count === MARK) continue;
      batches++;
      sets += count ?? 0;
    }
    if (batches > 0) this.onDropped({ batches, sets, reason });
  }

  /** What records replayed from before hold, read back from their segment (MARK for a cycle mark). */
  private async readContents(
    store: SegmentStore,
    segment: Segment,
    records: readonly RecordInfo[],
  ): Promise<(number | undefined)[]> {
    const contents: (number | undefined)[] = [];
    for (const record of records) {
      try {
        const payload = await store.readPayload(segment, record);
        contents.push(payload === undefined ? undefined : setsIn(decodeEvent(payload)));
      } catch {
        contents.push(undefined);
      }
    }
    return contents;
  }

  private updateGauges(): void {
    this.metrics.bytes.set(this.bytes);
    this.metrics.records.set(this.acks.open);
    const oldest = this.acks.oldestOpen;
    const writtenAt = oldest === undefined ? undefined : this.writtenAtOf(oldest);
    this.metrics.oldestAge.set(
      writtenAt === undefined ? 0 : Math.max(0, (this.options.clock.now() - writtenAt) / 1000),
    );
  }

  private writtenAtOf(seq: number): number | undefined {
    for (const segment of this.store?.segments ?? []) {
      const record = segment.records[firstAfter(segment, seq - 1)];
      if (record !== undefined) return record.writtenAt;
    }
    return undefined;
  }

  private wake(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const resolve of waiting) resolve();
  }
}

/** The index of a segment's first record with a sequence number above `seq` (binary search: records are in order). */
function firstAfter(segment: Segment, seq: number): number {
  const records = segment.records;
  let low = 0;
  let high = records.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((records[mid] as Segment['records'][number]).seq <= seq) low = mid + 1;
    else high = mid;
  }
  return low;
}

function describeMetrics(t: Telemetry, sink: string): DiskQueue['metrics'] {
  t.describe(
    'heapstream_buffer_bytes',
    "Bytes of a sink's disk buffer files, with those waiting to be written.",
  );
  t.describe(
    'heapstream_buffer_records',
    "Records (batches, cycle marks) in a sink's disk buffer not yet acknowledged.",
  );
  t.describe(
    'heapstream_buffer_oldest_age_seconds',
    "Age of the oldest record not yet acknowledged in a sink's disk buffer.",
  );
  t.describe('heapstream_buffer_max_bytes', "A sink's disk buffer size bound (buffer.max_size).");
  t.describe('heapstream_buffer_records_written_total', "Records written to a sink's disk buffer.");
  t.describe('heapstream_buffer_bytes_written_total', "Bytes of records written to a sink's disk buffer.");
  t.describe(
    'heapstream_buffer_records_read_total',
    'Records handed to the sink from a disk buffer: from memory (kept since offered, buffer.memory_window) or read back from its files.',
  );
  t.describe(
    'heapstream_buffer_records_acknowledged_total',
    'Records the sink was done with, removed from its disk buffer.',
  );
  t.describe(
    'heapstream_buffer_records_dropped_total',
    "Records a sink's disk buffer did not keep, by reason.",
  );
  t.describe('heapstream_buffer_corrupt_records_total', "Damaged records skipped in a sink's disk buffer.");
  t.describe(
    'heapstream_buffer_records_redelivered_total',
    'Records replayed at start-up that may have reached the sink before (duplicates, at most).',
  );
  const labels = { sink };
  return {
    bytes: t.gauge('heapstream_buffer_bytes', labels),
    records: t.gauge('heapstream_buffer_records', labels),
    oldestAge: t.gauge('heapstream_buffer_oldest_age_seconds', labels),
    maxBytes: t.gauge('heapstream_buffer_max_bytes', labels),
    written: t.counter('heapstream_buffer_records_written_total', labels),
    writtenBytes: t.counter('heapstream_buffer_bytes_written_total', labels),
    readFromMemory: t.counter('heapstream_buffer_records_read_total', { sink, from: 'memory' }),
    readFromDisk: t.counter('heapstream_buffer_records_read_total', { sink, from: 'disk' }),
    acknowledged: t.counter('heapstream_buffer_records_acknowledged_total', labels),
    corrupt: t.counter('heapstream_buffer_corrupt_records_total', labels),
    redelivered: t.counter('heapstream_buffer_records_redelivered_total', labels),
  };
}

/** A batch's set count, or MARK for a cycle mark. */
function setsIn(event: PipelineEvent): number {
  return event.kind === 'batch' ? event.sets.length : MARK;
}

function describeError(err: unknown): string | undefined {
  if (err === undefined) return undefined;
  return err instanceof Error ? `${err.name}: ${err.message}` : JSON.stringify(err);
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'other';
}
