import type { Sink, ComponentContext } from '../component/component.js';
import { diskBufferPath, type SinkRunnerOptions } from '../config/sink-options.js';
import type { Counter, Gauge, Histogram } from '../component/telemetry.js';
import { compileSelect } from './select.js';
import { LogLimiter } from '../component/log-limiter.js';
import type { Logger } from '../component/logger.js';
import { PermanentError, RetryableError } from '../component/errors.js';
import { MAX_TIMER_MS } from '../component/duration.js';
import type { CycleEnd, MetricBatch, MetricSet, PipelineEvent } from '../model/types.js';
import { valuesInBatch } from '../model/count.js';
import { classifySinkError, isRetryableClass, type SinkErrorClass } from './error-class.js';
import { DeadLetterFile, type DeadLetterEntry, type DeadLetterOutcome } from './dead-letter.js';
import { PieceSender, type PieceProgress } from './piece-sender.js';
import type { CycleBackPressure } from './cycle-gate.js';
import { DiskQueue, type BufferedEvent } from './disk-buffer/disk-queue.js';

type QueueItem =
  | { readonly kind: 'batch'; readonly batch: MetricBatch; readonly bytes: number }
  | { readonly kind: 'mark'; readonly mark: CycleEnd };

/** How one write (with its retries of transient failures) ended. */
type Attempt =
  | { readonly kind: 'delivered' }
  | {
      readonly kind: 'refused';
      readonly error: unknown;
      readonly errorClass: SinkErrorClass;
      /** A sink that cannot even connect says nothing about the batch's sets: splitting it would not help. */
      readonly during: 'connect' | 'write';
    }
  | { readonly kind: 'exhausted'; readonly error: unknown; readonly attempts: number }
  | { readonly kind: 'shutdown' };

/** Sets of a batch that the sink refused with one error. */
interface RefusedPart {
  readonly sets: readonly MetricSet[];
  readonly error: unknown;
  readonly errorClass: SinkErrorClass;
}

/** Where the runner puts what its sink refuses; absent, refused sets are counted as dropped (`dead_letter_off`). */
export interface DeadLetterOptions {
  /** The pipeline's `data_dir`: the file is `<data_dir>/dead-letter/<sink>.jsonl`. */
  readonly dataDir: string;
  /** The file's size bound; DEAD_LETTER_MAX_BYTES unless a test wants a small one. */
  readonly maxBytes?: number;
}

/** Dead-letter appends waiting for the disk before further sets count as `dead_letter_full`: a hung disk costs sets, not memory. */
const MAX_PENDING_DEAD_LETTERS = 64;

/**
 * Stands between the pipeline and one sink, and owns its delivery: a bounded queue with a `when_full` policy (whose
 * `block` answers the clock through CycleBackPressure), retries with exponential backoff and jitter, a write
 * timeout, `max_in_flight`, and counters. Every sink gets the same behaviour under failure, and one slow sink never
 * delays another because each has its own runner.
 *
 * A piecewise sink (Kafka, InfluxDB: one with `pieces`) only encodes and sends: the runner keeps each batch's
 * progress across retries, so a retry resends only what was not accepted, and lets the batches in flight share
 * requests when the sink merges (see PieceSender). Such a sink keeps no queue of its own.
 *
 * Only transient failures are retried (see error-class.ts). A batch the sink refuses otherwise is split in halves
 * to find the offending sets: the others are delivered, the offending ones are set aside to a dead-letter file
 * and counted, and the queue moves on, so one bad set never holds back a sink or, with `block`, the pipeline.
 */
export class SinkRunner implements CycleBackPressure {
  private readonly queue: QueueItem[] = [];
  private queuedBytes = 0;
  private inFlight = 0;
  private connected = false;
  private closing = false;
  /** Set when shutdown_timeout passed: a batch still being retried is dropped (counted), not retried forever. */
  private gaveUp = false;
  /** Retries waiting for their backoff, woken when the runner gives up. */
  private readonly sleepers = new Set<() => void>();
  private idleWaiters: (() => void)[] = [];
  private readonly select;
  private readonly limitedLog: LogLimiter;
  private readonly logger: Logger;
  private readonly deadLetter: DeadLetterFile | undefined;
  /** For a piecewise sink (Kafka, InfluxDB): each batch's progress and, when it merges, the shared requests. */
  private readonly pieceSender: PieceSender<unknown> | undefined;
  private pendingDeadLetters = 0;
  /** With `buffer.type: disk`, where batches wait instead of `queue` (see deliverFromDisk). */
  private readonly disk: DiskQueue | undefined;
  /** A cycle mark read from the disk buffer, waiting for the batches before it to finish. */
  private heldMark: BufferedEvent | undefined;
  private diskPumping = false;
  /** A reload took this runner's disk buffer for its successor: it finishes what it writes and reads no more. */
  private handingOver = false;
  private started = false;
  private waitingForDisk = false;
  /** Told of each cycle mark once the sink is done with every batch before it (see reportSettledMarks). */
  private markSettled: ((mark: CycleEnd) => void) | undefined;
  private readonly counters: {
    sentBatches: Counter;
    sentSets: Counter;
    sentValues: Counter;
    retries: Counter;
    failed: Counter;
    queueBatches: Gauge;
    queueBytes: Gauge;
    writeSeconds: Histogram;
    lastSuccess: Gauge;
  };

  constructor(
    readonly name: string,
    private readonly sink: Sink,
    private readonly options: SinkRunnerOptions,
    private readonly ctx: ComponentContext,
    deadLetter?: DeadLetterOptions,
  ) {
    this.select = compileSelect(options.select);
    // Every line names the sink once: the pipeline's context already binds `sink` to its logger (the sink's own
    // lines carry it too); a context from elsewhere (tests, embedders) gets it bound here.
    this.logger = ctx.logger.bindings()['sink'] === name ? ctx.logger : ctx.logger.child({ sink: name });
    this.limitedLog = new LogLimiter(this.logger, ctx.clock);
    this.pieceSender = sink.pieces === undefined ? undefined : new PieceSender(sink.pieces);
    this.deadLetter =
      deadLetter === undefined
        ? undefined
        : new DeadLetterFile(deadLetter.dataDir, name, deadLetter.maxBytes);
    const t = ctx.telemetry;
    const labels = { sink: name };
    const buffer = options.buffer;
    this.disk =
      buffer.type !== 'disk'
        ? undefined
        : new DiskQueue(
            {
              dir: diskBufferPath(name, buffer, deadLetter?.dataDir ?? 'heapstream-data'),
              maxBytes: buffer.max_size,
              sync: buffer.sync,
              syncIntervalMs: buffer.sync_interval,
              memoryWindow: buffer.memory_window,
              whenFull: buffer.when_full,
              sink: name,
              logger: this.logger,
              clock: ctx.clock,
              telemetry: t,
            },
            // Counted as the memory buffer's drops are, so the data-loss line and exit code see them too.
            ({ batches, sets, reason }) => {
              t.counter('heapstream_sink_dropped_batches_total', { sink: name, reason }).inc(batches);
              t.counter('heapstream_sink_dropped_sets_total', { sink: name, reason }).inc(sets);
            },
          );
    t.describe('heapstream_sink_batches_sent_total', 'Batches a sink delivered.');
    t.describe('heapstream_sink_sets_sent_total', 'Metric sets a sink delivered.');
    t.describe('heapstream_sink_values_sent_total', 'Metric values a sink delivered.');
    t.describe('heapstream_sink_retries_total', 'Write attempts that failed and were retried.');
    t.describe('heapstream_sink_dropped_batches_total', 'Batches dropped, by reason (policy, shutdown).');
    t.describe(
      'heapstream_sink_dropped_sets_total',
      'Metric sets dropped, by reason (policy, shutdown, dead_letter_full, dead_letter_failed).',
    );
    t.describe(
      'heapstream_sink_isolated_sets_total',
      'Metric sets a sink refused with an error that is not transient, set aside from their batch, by error class.',
    );
    t.describe(
      'heapstream_sink_dead_lettered_sets_total',
      "Metric sets set aside to the sink's dead-letter file.",
    );
    t.describe(
      'heapstream_sink_failed_batches_total',
      'Batches that failed permanently or ran out of attempts.',
    );
    t.describe('heapstream_sink_queue_batches', 'Batches waiting in the sink queue.');
    t.describe('heapstream_sink_queue_bytes', 'Estimated bytes waiting in the sink queue.');
    this.counters = {
      sentBatches: t.counter('heapstream_sink_batches_sent_total', labels),
      sentSets: t.counter('heapstream_sink_sets_sent_total', labels),
      sentValues: t.counter('heapstream_sink_values_sent_total', labels),
      retries: t.counter('heapstream_sink_retries_total', labels),
      failed: t.counter('heapstream_sink_failed_batches_total', labels),
      queueBatches: t.gauge('heapstream_sink_queue_batches', labels),
      queueBytes: t.gauge('heapstream_sink_queue_bytes', labels),
      writeSeconds: t.histogram('heapstream_sink_write_seconds', labels),
      lastSuccess: t.gauge('heapstream_sink_last_success_timestamp_seconds', labels),
    };
  }

  /** Batches (and cycle marks) waiting to be written. */
  get queuedBatches(): number {
    return this.disk?.records ?? this.queue.length;
  }

  /**
   * Starts delivering: a disk buffer is opened and replays what it holds from before. Called by the pipeline when
   * it runs, and by the first accept() or close(); a runner never started holds no file and no timer.
   */
  start(): void {
    if (this.disk === undefined || this.started) return;
    this.started = true;
    void this.disk.ready.then(() => this.pumpDisk());
  }

  /**
   * Resolves once every batch accepted so far is in the sink's disk buffer (flushed to the disk with `sync:
   * every_batch`); at once for a memory buffer.
   */
  buffered(): Promise<void> {
    return this.disk?.flushed() ?? Promise.resolve();
  }

  /**
   * Removes and returns what is queued and not yet being written, as the events it came from: a reload hands it to
   * the sink's changed successor rather than let this runner drop it at its shutdown_timeout.
   */
  takeQueued(): PipelineEvent[] {
    // A disk buffer keeps its batches for whoever opens its directory next: the successor, once this one closed.
    if (this.disk !== undefined) {
      this.handingOver = true;
      if (this.inFlight === 0) this.notifyIdle();
      return [];
    }
    const items = this.queue.splice(0);
    this.queuedBytes = 0;
    this.updateGauges();
    if (this.inFlight === 0) this.notifyIdle();
    return items.map((item) => (item.kind === 'batch' ? item.batch : item.mark));
  }

  /**
   * The `when_full` policy's answer to the clock (see CycleBackPressure): true when `block` and the queue is full,
   * so that the next cycle is skipped rather than queued.
   */
  isBlocking(): boolean {
    // A disk buffer's `block` holds back this sink only (see DiskQueue), never the clock.
    if (this.disk !== undefined) return false;
    return this.options.buffer.when_full === 'block' && this.isFull();
  }

  /**
   * Calls `listener` with each cycle mark once this sink is done with every batch accepted before it: delivered,
   * or given up on for good (dead-lettered, dropped by `when_full`, failed after its retries), as the runner never
   * sends those again. Marks keep their place in the queue for it, also for a sink that has no cycleEnd. Not for a
   * batch given up at shutdown: its mark is not reported. For the source's `delivered` (see SourceContext).
   */
  reportSettledMarks(listener: (mark: CycleEnd) => void): void {
    this.markSettled = listener;
  }

  accept(event: PipelineEvent): void {
    if (this.closing) return;
    if (event.kind === 'cycle_end') {
      if (this.sink.cycleEnd === undefined && this.markSettled === undefined) return;
      if (this.disk !== undefined) this.storeOnDisk(event);
      else this.enqueue({ kind: 'mark', mark: event });
      return;
    }
    const batch = this.select === undefined ? event : this.select(event);
    if (batch === undefined) return;
    if (this.disk !== undefined) {
      this.storeOnDisk(batch);
      return;
    }
    const item: QueueItem = { kind: 'batch', batch, bytes: estimateBytes(batch) };
    if (this.isFull()) {
      const policy = this.options.buffer.when_full;
      if (policy === 'drop_newest') {
        this.drop(item, 'drop_newest');
        return;
      }
      if (policy === 'drop_oldest') {
        const oldest = this.queue.findIndex((q) => q.kind === 'batch');
        if (oldest >= 0) this.drop(this.removeAt(oldest), 'drop_oldest');
      }
      // `block` accepts batches already produced (the cycle in progress) and holds back the next cycle instead.
    }
    this.enqueue(item);
  }

  /** Stops accepting, delivers what is queued within `shutdown_timeout`, then closes the sink. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.disk !== undefined) return this.closeDisk(this.disk);
    const outcome = await this.drainedWithinShutdownTimeout();
    if (outcome === 'timeout') {
      const retrying = this.inFlight;
      this.gaveUp = true;
      for (const wake of [...this.sleepers]) wake();
      const left = this.queue.splice(0);
      for (const item of left) if (item.kind === 'batch') this.drop(item, 'shutdown');
      this.updateGauges();
      this.logger.error(
        { dropped: left.length, retrying },
        `sink ${this.name}: shutdown_timeout passed with batches still queued or being retried; they were dropped`,
      );
    }
    await this.sink.close();
  }

  /** Waits until nothing is in flight and dead letters are written, or `shutdown_timeout` passes. */
  private drainedWithinShutdownTimeout(): Promise<'drained' | 'timeout'> {
    const deadline = new Promise<'timeout'>((resolve) => {
      const sub = this.ctx.clock.scheduler.schedule(() => resolve('timeout'), this.options.shutdown_timeout);
      void this.idle().then(() => sub.unsubscribe());
    });
    const drained = this.idle().then(async () => {
      await this.deadLetter?.settled();
      return 'drained' as const;
    });
    return Promise.race([drained, deadline]);
  }

  /** Like close(), for a disk buffer: what is not delivered within shutdown_timeout stays on disk for next time. */
  private async closeDisk(disk: DiskQueue): Promise<void> {
    this.start();
    await disk.flushed();
    if ((await this.drainedWithinShutdownTimeout()) === 'timeout') {
      this.gaveUp = true;
      for (const wake of [...this.sleepers]) wake();
      this.logger.warn(
        { kept: disk.records, retrying: this.inFlight },
        `sink ${this.name}: shutdown_timeout passed; ${disk.records} batches stay in the disk buffer for the next start`,
      );
    }
    await disk.close();
    this.updateGauges();
    await this.sink.close();
  }

  private storeOnDisk(event: PipelineEvent): void {
    this.start();
    (this.disk as DiskQueue).offer(event);
    this.updateGauges();
  }

  /**
   * Hands records from the disk buffer to the sink, up to max_in_flight at once, in order; a cycle mark waits for
   * the batches before it. A record is acknowledged once the sink is done with it; with `sync: every_batch` the
   * acknowledgement is on disk before the next record is read, so a kill repeats at most max_in_flight batches.
   */
  private async pumpDisk(): Promise<void> {
    const disk = this.disk;
    if (disk === undefined || this.diskPumping) return;
    this.diskPumping = true;
    let drained = false;
    try {
      while (!this.gaveUp && !this.handingOver && this.inFlight < this.options.max_in_flight) {
        const record = this.heldMark ?? (await disk.read());
        this.heldMark = undefined;
        if (record === undefined) {
          drained = true;
          break;
        }
        // Read while a reload took the buffer or shutdown gave up: it stays on disk for whoever opens it next.
        if (this.handingOver || this.gaveUp) break;
        if (record.event.kind === 'cycle_end' && this.inFlight > 0) {
          this.heldMark = record;
          break;
        }
        this.inFlight++;
        void this.deliverFromDisk(disk, record).finally(() => {
          this.inFlight--;
          void this.pumpDisk();
        });
      }
    } finally {
      this.diskPumping = false;
      this.updateGauges();
      if (this.inFlight === 0 && (disk.empty || this.handingOver)) this.notifyIdle();
      // Woken by the next write only when it stopped for want of records; a delivery finishing wakes it otherwise.
      if (drained && !this.waitingForDisk && !this.gaveUp) {
        this.waitingForDisk = true;
        void disk.whenReadable().then(() => {
          this.waitingForDisk = false;
          if (!disk.closed) void this.pumpDisk();
        });
      }
    }
  }

  private async deliverFromDisk(disk: DiskQueue, record: BufferedEvent): Promise<void> {
    const event = record.event;
    const item: QueueItem =
      event.kind === 'batch' ? { kind: 'batch', batch: event, bytes: 0 } : { kind: 'mark', mark: event };
    // Given up at shutdown: it stays unacknowledged, so the next start delivers it.
    if ((await this.deliver(item)) === 'shutdown') return;
    await disk.done(record.seq);
  }

  private isFull(): boolean {
    const max = this.options.buffer;
    if (max.type === 'disk') return false;
    return (
      this.queue.length >= max.max_batches ||
      (max.max_bytes !== undefined && this.queuedBytes >= max.max_bytes)
    );
  }

  private enqueue(item: QueueItem): void {
    this.queue.push(item);
    if (item.kind === 'batch') this.queuedBytes += item.bytes;
    this.updateGauges();
    this.pump();
  }

  private removeAt(index: number): QueueItem {
    const [item] = this.queue.splice(index, 1);
    if (item === undefined) throw new Error('queue index out of range');
    if (item.kind === 'batch') this.queuedBytes -= item.bytes;
    return item;
  }

  private drop(item: QueueItem, reason: string): void {
    if (item.kind !== 'batch') return;
    // Given up at shutdown, a disk buffer's batch is not dropped: it is delivered at the next start.
    if (reason === 'shutdown' && this.disk !== undefined) return;
    this.ctx.telemetry.counter('heapstream_sink_dropped_batches_total', { sink: this.name, reason }).inc();
    this.ctx.telemetry
      .counter('heapstream_sink_dropped_sets_total', { sink: this.name, reason })
      .inc(item.batch.sets.length);
    this.limitedLog.log(
      'warn',
      `drop:${reason}`,
      { reason, cycle: item.batch.cycle, sets: item.batch.sets.length },
      `sink ${this.name}: queue full (${reason}), dropped a batch of ${item.batch.sets.length} sets`,
    );
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.max_in_flight) {
      const head = this.queue[0] as QueueItem;
      // Cycle marks keep their place: they wait until every earlier batch is delivered.
      if (head.kind === 'mark' && this.inFlight > 0) return;
      this.removeAt(0);
      this.updateGauges();
      this.inFlight++;
      void this.deliver(head).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.queue.length === 0 && this.inFlight === 0) this.notifyIdle();
      });
      if (head.kind === 'mark') return;
    }
    if (this.queue.length === 0 && this.inFlight === 0) this.notifyIdle();
  }

  private async deliver(item: QueueItem): Promise<'done' | 'shutdown'> {
    if (item.kind === 'mark') {
      // Once shutdown gave up, batches before this mark may have been dropped: it is not reported settled.
      if (this.sink.cycleEnd === undefined) {
        if (!this.gaveUp) this.markSettled?.(item.mark);
        return 'done';
      }
      const outcome = await this.attempt(() => this.sink.cycleEnd?.(item.mark), 'cycle end');
      if (outcome.kind !== 'shutdown' && !this.gaveUp) this.markSettled?.(item.mark);
      if (outcome.kind === 'refused' || outcome.kind === 'exhausted') {
        this.limitedLog.log(
          'warn',
          'cycle_end',
          { cycle: item.mark.cycle, err: describe(outcome.error) },
          `sink ${this.name}: cycle end failed`,
        );
      }
      return outcome.kind === 'shutdown' ? 'shutdown' : 'done';
    }
    const batch = item.batch;
    const outcome = await this.attempt(this.writerOf(batch), 'write');
    if (outcome.kind === 'delivered') {
      this.counters.sentBatches.inc();
      this.countSets(batch);
    } else if (outcome.kind === 'shutdown') this.drop(item, 'shutdown');
    else if (outcome.kind === 'exhausted') {
      this.counters.failed.inc();
      this.logFailed(batch, outcome.error, `after ${outcome.attempts} attempts`);
    } else await this.isolate(batch, outcome);
    return outcome.kind === 'shutdown' ? 'shutdown' : 'done';
  }

  /**
   * One write of a batch, called again for each retry. A piecewise sink's batch is encoded on the first attempt
   * (an encoding error is then the batch's, and isolated) and its progress lives here, so a retry resends only the
   * pieces not yet written.
   */
  private writerOf(batch: MetricBatch): () => Promise<void> {
    const sender = this.pieceSender;
    if (sender === undefined) return () => this.sink.write(batch);
    let progress: PieceProgress<unknown> | undefined;
    return () => sender.write((progress ??= sender.plan(batch)));
  }

  /** Writes (or connects and writes) until delivered, retrying only transient failures. */
  private async attempt(work: () => Promise<void> | undefined, what: string): Promise<Attempt> {
    for (let attempt = 1; ; attempt++) {
      const started = this.ctx.clock.now();
      let during: 'connect' | 'write' = 'connect';
      try {
        if (!this.connected) {
          await this.withTimeout(this.sink.connect?.() ?? Promise.resolve(), 'connect');
          this.connected = true;
        }
        during = 'write';
        await this.withTimeout(work(), what);
        this.counters.writeSeconds.observe((this.ctx.clock.now() - started) / 1000);
        this.counters.lastSuccess.set(this.ctx.clock.now() / 1000);
        return { kind: 'delivered' };
      } catch (err) {
        const errorClass = classifySinkError(err);
        if (!isRetryableClass(errorClass)) return { kind: 'refused', error: err, errorClass, during };
        const attemptsLeft =
          this.options.retry.max_attempts === 0 || attempt < this.options.retry.max_attempts;
        if (!attemptsLeft || (this.closing && this.options.shutdown_timeout === 0)) {
          return { kind: 'exhausted', error: err, attempts: attempt };
        }
        if (this.gaveUp) return { kind: 'shutdown' };
        this.counters.retries.inc();
        // A server that said when to come back (429/503 Retry-After) is not asked again before then.
        // Capped at the longest wait a timer can hold: a longer one fires at once and would retry in a loop.
        const delay = Math.min(
          MAX_TIMER_MS,
          Math.max(this.backoff(attempt), err instanceof RetryableError ? (err.retryAfterMs ?? 0) : 0),
        );
        this.limitedLog.log(
          'warn',
          'retry',
          { attempt, retryInMs: Math.round(delay), err: describe(err) },
          `sink ${this.name}: write failed, retrying`,
        );
        await this.sleep(delay);
        if (this.gaveUp) return { kind: 'shutdown' };
      }
    }
  }

  /**
   * A batch the sink refused: bisects it over its sets so that the good ones are delivered and only the offending
   * ones are set aside. Each split costs two writes, within a budget of 2·⌈log2 n⌉ + 8: one bad set among n costs
   * exactly 2·⌈log2 n⌉ to find, the 8 spare find a few more (a pod's sets sharing one bad label), and a sink that
   * refuses everything (a missing database) costs a bounded number of writes per batch, not one per set. Parts
   * still failing when the budget is spent are set aside whole. Splitting goes breadth first, so a spent budget
   * leaves parts of even size rather than one part unsplit.
   */
  private async isolate(batch: MetricBatch, refused: Extract<Attempt, { kind: 'refused' }>): Promise<void> {
    this.counters.failed.inc();
    if (refused.error instanceof PermanentError && refused.error.partial) {
      this.logFailed(batch, refused.error, 'in part');
      return;
    }
    const setAside: RefusedPart[] = [];
    const failing: RefusedPart[] = [
      { sets: batch.sets, error: refused.error, errorClass: refused.errorClass },
    ];
    let budget = refused.during === 'connect' ? 0 : 2 * Math.ceil(Math.log2(batch.sets.length)) + 8;
    let deliveredAny = false;
    for (let part = failing.shift(); part !== undefined; part = failing.shift()) {
      if (part.sets.length < 2 || budget < 2) {
        setAside.push(part);
        continue;
      }
      budget -= 2;
      const mid = Math.ceil(part.sets.length / 2);
      for (const sets of [part.sets.slice(0, mid), part.sets.slice(mid)]) {
        const piece: MetricBatch = { ...batch, sets };
        const outcome = await this.attempt(this.writerOf(piece), 'write');
        if (outcome.kind === 'delivered') {
          deliveredAny = true;
          this.countSets(piece);
        } else if (outcome.kind === 'shutdown') {
          // Part of a batch: its sets are counted, the batch itself is not a dropped one.
          this.dropSets(sets.length, 'shutdown');
        } else if (outcome.kind === 'exhausted') {
          this.logFailed(piece, outcome.error, `after ${outcome.attempts} attempts`);
        } else if (outcome.error instanceof PermanentError && outcome.error.partial) {
          this.logFailed(piece, outcome.error, 'in part');
        } else {
          const part = { sets, error: outcome.error, errorClass: outcome.errorClass };
          if (outcome.during === 'connect') setAside.push(part);
          else failing.push(part);
        }
      }
    }
    if (deliveredAny) this.counters.sentBatches.inc();
    this.setAside(batch, setAside);
  }

  /** Counts and logs refused sets and hands them to the dead-letter file without waiting for it. */
  private setAside(batch: MetricBatch, parts: readonly RefusedPart[]): void {
    if (parts.length === 0) return;
    let total = 0;
    const entries: DeadLetterEntry[] = [];
    const whereTo =
      this.deadLetter === undefined ? 'dropped' : `set aside to the dead-letter file ${this.deadLetter.path}`;
    for (const part of parts) {
      total += part.sets.length;
      const err = describe(part.error);
      entries.push({ batch, sets: part.sets, error: err });
      this.ctx.telemetry
        .counter('heapstream_sink_isolated_sets_total', { sink: this.name, class: part.errorClass })
        .inc(part.sets.length);
      const node = batch.scope === 'node' ? batch.node : undefined;
      const key = part.sets[0]?.key;
      const errorName = part.error instanceof Error ? part.error.name : typeof part.error;
      this.limitedLog.log(
        'error',
        `refused:${part.errorClass}:${errorName}`,
        {
          node,
          key,
          sets: part.sets.length,
          cycle: batch.cycle,
          class: part.errorClass,
          err,
        },
        `sink ${this.name}: could not deliver ${part.sets.length === 1 ? 'set' : `${part.sets.length} sets, e.g.`} ` +
          `${key}${node === undefined ? '' : ` of node ${node}`} (${err}); not retried, ${whereTo}`,
      );
    }
    if (this.deadLetter === undefined) {
      this.dropSets(total, 'dead_letter_off');
      return;
    }
    if (this.pendingDeadLetters >= MAX_PENDING_DEAD_LETTERS) {
      this.dropSets(total, 'dead_letter_full');
      return;
    }
    this.pendingDeadLetters++;
    void this.deadLetter.append(entries, this.ctx.clock.now()).then((outcome) => {
      this.pendingDeadLetters--;
      this.countDeadLettered(outcome);
    });
  }

  private countDeadLettered(outcome: DeadLetterOutcome): void {
    const path = this.deadLetter?.path;
    if (outcome.written > 0) {
      this.ctx.telemetry
        .counter('heapstream_sink_dead_lettered_sets_total', { sink: this.name })
        .inc(outcome.written);
    }
    if (outcome.full > 0) {
      this.dropSets(outcome.full, 'dead_letter_full');
      this.limitedLog.log(
        'error',
        'dead_letter_full',
        { path, dropped: outcome.full },
        `sink ${this.name}: the dead-letter file ${path} reached its size bound; refused sets are dropped`,
      );
    }
    if (outcome.failed > 0) {
      this.dropSets(outcome.failed, 'dead_letter_failed');
      this.limitedLog.log(
        'error',
        'dead_letter_failed',
        { path, dropped: outcome.failed, err: describe(outcome.error) },
        `sink ${this.name}: cannot write the dead-letter file ${path}; refused sets are dropped`,
      );
    }
  }

  private dropSets(sets: number, reason: string): void {
    this.ctx.telemetry.counter('heapstream_sink_dropped_sets_total', { sink: this.name, reason }).inc(sets);
  }

  private logFailed(batch: MetricBatch, err: unknown, how: string): void {
    const sample = batch.sets[0];
    this.logger.error(
      {
        err: describe(err),
        cycle: batch.cycle,
        sets: batch.sets.length,
        sample: sample === undefined ? undefined : { key: sample.key, type: sample.type },
      },
      `sink ${this.name}: batch failed ${how}`,
    );
  }

  private countSets(batch: MetricBatch): void {
    this.counters.sentSets.inc(batch.sets.length);
    this.counters.sentValues.inc(valuesInBatch(batch));
  }

  private backoff(attempt: number): number {
    const { initial_backoff, max_backoff } = this.options.retry;
    const base = Math.min(max_backoff, initial_backoff * 2 ** (attempt - 1));
    // Jitter spreads retries of many replicas after a shared outage.
    return base / 2 + (Math.random() * base) / 2;
  }

  private async withTimeout(work: Promise<void> | undefined, what: string): Promise<void> {
    if (work === undefined) return;
    const timeoutMs = this.options.write_timeout;
    let timer: { unsubscribe(): void } | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.ctx.clock.scheduler.schedule(
        () => reject(new RetryableError(`sink ${this.name}: ${what} did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([work, timeout]);
    } finally {
      timer?.unsubscribe();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        timer.unsubscribe();
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = this.ctx.clock.scheduler.schedule(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private idle(): Promise<void> {
    const diskDone = this.disk === undefined || this.disk.empty || this.handingOver;
    if (this.queue.length === 0 && this.inFlight === 0 && diskDone) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private updateGauges(): void {
    this.counters.queueBatches.set(this.disk?.records ?? this.queue.length);
    this.counters.queueBytes.set(this.disk?.bytes ?? this.queuedBytes);
  }
}

/** A cheap size estimate for `max_bytes`: about what the set format takes, without serializing. */
function estimateBytes(batch: MetricBatch): number {
  // 32 bytes a value from the batch's value count (made once, shared by every sink), not by walking each set's
  // values again per sink; labeled values cost 32 more for their labels.
  let bytes = 64 + valuesInBatch(batch) * 32;
  for (const set of batch.sets) bytes += 160 + set.key.length + set.labeled.length * 32;
  return bytes;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
