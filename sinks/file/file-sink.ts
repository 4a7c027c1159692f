import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SchedulerAction, Subscription } from 'rxjs';
import type { ComponentContext, Sink } from '../../src/component/component.js';
import { LogLimiter } from '../../src/component/log-limiter.js';
import type { Counter } from '../../src/component/telemetry.js';
import { PermanentError, RetryableError } from '../../src/component/errors.js';
import type { SetType } from '../../src/model/catalogue.js';
import type { MetricBatch, MetricSet } from '../../src/model/types.js';
import { checkBatch, checkSet, fitSet, type OmitReason, type OnOmitted } from './column-fit.js';
import type { FileSinkConfig } from './config.js';
import { directoryError } from './file-errors.js';
import { parsePartitionTemplate, type PartitionTemplate } from './partition.js';
import {
  JsonlPartFile,
  ParquetPartFile,
  parquetCodec,
  type ParquetCodec,
  type PartFile,
} from './part-file.js';
import { sweepFiles } from './retention.js';
import { ObjectUploader } from './object-target.js';
import { s3TargetFor } from './s3-target.js';
import type { CredentialProvider } from '../../src/component/s3/credentials.js';
import { IcebergTarget, icebergPartitionDir } from './iceberg/iceberg-target.js';
import { rowTime } from './rows.js';
import { layoutFor } from './schema.js';

/** Retention sweeps walk the whole tree, so they run at most this often. */
const SWEEP_INTERVAL_MS = 60_000;

interface Group {
  readonly dir: string;
  readonly layout: SetType | 'all';
  readonly sets: MetricSet[];
}

/**
 * Writes batches to a data lake directory as Parquet or JSON Lines files under Hive-style partitions. Files are
 * written under a temporary name and renamed once complete (rolled by size or age, or at close). Every
 * operation runs one at a time, in call order.
 *
 * @example
 * const sink = new FileSink(fileSinkConfig.parse({ path: 'lake' }), ctx);
 * await sink.connect(); await sink.write(batch); await sink.close();
 */
export class FileSink implements Sink {
  private readonly root: string;
  private readonly template: PartitionTemplate;
  private readonly codec: ParquetCodec | undefined;
  private readonly writerId = randomUUID().slice(0, 8);
  private seq = 0;
  /** Partition directory (relative) → the file being written there. */
  private readonly open = new Map<string, PartFile>();
  /** Rolled files whose completion failed; retried at the next roll. */
  private unfinished: PartFile[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private timer: Subscription | undefined;
  private lastSweep = -Infinity;
  private sweeping: Promise<void> = Promise.resolve();
  private readonly filesCompleted: Counter;
  private readonly valuesOmitted: Readonly<Record<OmitReason, Counter>>;
  private readonly rowsDropped: Counter;
  private readonly limitedLog: LogLimiter;
  /** For `path: s3://…`: uploads completed files from `root`, the local staging directory. */
  private readonly uploader: ObjectUploader | undefined;
  private readonly credentials: CredentialProvider | undefined;
  /** `s3.max_staged_bytes`, and whether writes are refused for it now (to log the change, not every refusal). */
  private readonly maxStagedBytes: number = Infinity;
  private overStagedBound = false;
  /** The Iceberg table each roll commits to, with `table:`. */
  private readonly table: IcebergTarget | undefined;
  /** Completed files whose commit intent could not be written yet; tried again at the next roll. */
  private unstaged: ParquetPartFile[] = [];
  /** The background upload-and-commit pass, and whether another is already queued behind it. */
  private committing: Promise<void> = Promise.resolve();
  private commitQueued = false;

  constructor(
    private readonly config: FileSinkConfig,
    private readonly ctx: ComponentContext,
  ) {
    const s3 = s3TargetFor(config, ctx);
    this.root = s3?.stagingDir ?? resolve(ctx.baseDir, config.path);
    if (s3 !== undefined) {
      this.uploader = new ObjectUploader(s3.store, this.root, ctx.logger);
      this.credentials = s3.credentials;
      this.maxStagedBytes = s3.maxStagedBytes;
    }
    // The schema has checked the template and that this Node has the codec (config.ts).
    const template = parsePartitionTemplate(config.partition);
    if (typeof template === 'string') throw new Error(`sink ${ctx.id}: partition: ${template}`);
    this.template = template;
    if (config.format === 'parquet') this.codec = parquetCodec(config.compression ?? 'snappy');
    const t = ctx.telemetry;
    const sink = ctx.id;
    t.describe('heapstream_file_sink_files_total', 'Files the file sink completed.');
    t.describe(
      'heapstream_file_sink_values_omitted_total',
      'Values left out of a row because their column cannot hold them (reason: out_of_range, wrong_type).',
    );
    t.describe(
      'heapstream_file_sink_rows_dropped_total',
      'Rows the Parquet writer could not encode (reason: encode_failed); the rest of their file is written.',
    );
    this.filesCompleted = t.counter('heapstream_file_sink_files_total', { sink });
    this.valuesOmitted = {
      out_of_range: t.counter('heapstream_file_sink_values_omitted_total', { sink, reason: 'out_of_range' }),
      wrong_type: t.counter('heapstream_file_sink_values_omitted_total', { sink, reason: 'wrong_type' }),
    };
    this.rowsDropped = t.counter('heapstream_file_sink_rows_dropped_total', {
      sink,
      reason: 'encode_failed',
    });
    this.limitedLog = new LogLimiter(ctx.logger, ctx.clock);
    if (config.table !== undefined) this.table = new IcebergTarget(config.table, this.root, ctx);
  }

  private readonly onOmitted: OnOmitted = (reason, set, name, value) => {
    this.valuesOmitted[reason].inc();
    this.limitedLog.log(
      'warn',
      `omitted:${reason}`,
      { reason, set: set.key, value: name, got: String(value) },
      `file sink: ${name} of set ${set.key} does not fit its column (${reason}); left out of the row`,
    );
  };

  private readonly onRowDropped = (key: string, err: unknown): void => {
    this.rowsDropped.inc();
    this.limitedLog.log(
      'error',
      'row_dropped',
      { set: key, err },
      `file sink: the Parquet writer could not encode the row of set ${key}; dropped, the rest of the file is kept`,
    );
  };

  connect(): Promise<void> {
    return this.serial(async () => {
      try {
        await mkdir(this.root, { recursive: true });
      } catch (err) {
        throw directoryError(this.root, err);
      }
      // Before any file is opened: new files take their field ids from the table.
      await this.table?.connect();
      this.startTimer();
      // Temporary files older than any live file can be are left by a writer that stopped without closing.
      const orphanAgeMs = 2 * this.config.roll.max_age + SWEEP_INTERVAL_MS;
      await this.sweep(this.ctx.clock.now(), orphanAgeMs);
      // Missing credentials fail every upload, which the runner retries without end (nothing is lost): say so now.
      await this.credentials?.credentials().catch((err: unknown) => {
        this.ctx.logger.error(
          { err, path: this.config.path },
          'file sink: no S3 credentials; uploads will fail',
        );
      });
      // Files completed by a run that stopped before uploading them: upload them first (in the background).
      if (this.uploader !== undefined && (await this.uploader.recover()) > 0) {
        void this.uploader.kick('at start');
      }
    });
  }

  write(batch: MetricBatch): Promise<void> {
    return this.serial(() => this.writeBatch(batch));
  }

  /** Completes the files that reached their age; the sink's timer calls it, tests may too. */
  rollExpired(): Promise<void> {
    return this.serial(() => this.roll(false));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.timer?.unsubscribe();
      await this.serial(() => this.roll(true));
      await this.uploadAtClose();
      // The last roll's commit, and once more whatever an earlier pass could not commit.
      if (this.table !== undefined) {
        await this.committing;
        await this.commitPass();
      }
      await this.sweeping;
    })();
    return this.closing;
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeBatch(batch: MetricBatch): Promise<void> {
    if (this.closing !== undefined) throw new PermanentError(`sink ${this.ctx.id}: write after close`);
    if (batch.sets.length === 0) return;
    // A set that cannot be stored rejects the batch before any of it is taken, so the engine can isolate that
    // set and write the others without duplicating rows.
    const who = `sink ${this.ctx.id}`;
    checkBatch(batch, who);
    for (const set of batch.sets) checkSet(set, who);
    this.refuseWhileUploadsFail();
    this.refuseWhileStagingFull();
    this.startTimer();
    // With a table, files roll before the batch is taken, never after: should the process die before the batch is
    // acknowledged, it comes again, so it must not be in the files staged for a commit.
    if (this.table !== undefined) await this.roll(false);
    const groups = this.group(batch);
    // Make room first: a failure here leaves the batch untaken, so the engine's retry cannot duplicate rows.
    const files: PartFile[] = [];
    for (const group of groups) {
      const file = await this.fileFor(group);
      await file.flush();
      files.push(file);
    }
    for (let i = 0; i < groups.length; i++) {
      const group = groups[i] as Group;
      // Values that do not fit their column are left out (and counted) now, so completing the file cannot fail.
      const layout = layoutFor(group.layout);
      const sets = group.sets.map((set) => fitSet(set, layout, this.onOmitted));
      await (files[i] as PartFile).append(batch, sets);
    }
    for (const file of files) {
      try {
        await file.flush();
      } catch (err) {
        // The rows are taken and kept in memory; the next write or roll writes them.
        this.ctx.logger.warn({ err, file: file.tempPath }, 'file sink: write failed, will retry');
      }
    }
    if (this.table === undefined) await this.roll(false);
  }

  private group(batch: MetricBatch): Group[] {
    if (this.table !== undefined) return this.groupByTablePartition(batch);
    if (!this.template.hasType) {
      return [{ dir: this.template.render('', batch.timestamp), layout: 'all', sets: [...batch.sets] }];
    }
    const byType = new Map<SetType, MetricSet[]>();
    for (const set of batch.sets) {
      const sets = byType.get(set.type);
      if (sets === undefined) byType.set(set.type, [set]);
      else sets.push(set);
    }
    const groups: Group[] = [];
    for (const [type, sets] of byType) {
      groups.push({ dir: this.template.render(type, batch.timestamp), layout: type, sets });
    }
    return groups;
  }

  /** An Iceberg partition holds one set type and one UTC day of row time, so each file must too. */
  private groupByTablePartition(batch: MetricBatch): Group[] {
    const groups = new Map<string, Group>();
    for (const set of batch.sets) {
      const dir = icebergPartitionDir(set.type, rowTime(set, batch.timestamp));
      const group = groups.get(dir);
      if (group === undefined) groups.set(dir, { dir, layout: set.type, sets: [set] });
      else group.sets.push(set);
    }
    return [...groups.values()];
  }

  private async fileFor(group: Group): Promise<PartFile> {
    const existing = this.open.get(group.dir);
    if (existing !== undefined) return existing;
    let file: PartFile;
    try {
      file = await this.createFile(group);
    } catch (err) {
      // A retention sweep may remove an emptied partition directory between mkdir and open: once more.
      if (!isMissing((err as { cause?: unknown }).cause)) throw err;
      file = await this.createFile(group);
    }
    this.open.set(group.dir, file);
    return file;
  }

  private async createFile(group: Group): Promise<PartFile> {
    const now = this.ctx.clock.now();
    const dir = join(this.root, group.dir);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw directoryError(dir, err);
    }
    const stamp = new Date(now).toISOString().replace(/[-:.]/g, '');
    const name = `part-${stamp}-${this.writerId}-${String(this.seq++).padStart(5, '0')}`;
    if (this.codec === undefined) return this.createJsonl(dir, name, now, group.layout);
    return ParquetPartFile.create({
      tempPath: join(dir, `.${name}.parquet.tmp`),
      finalPath: join(dir, `${name}.parquet`),
      openedAt: now,
      layout: layoutFor(group.layout),
      codec: this.codec,
      rowGroupSize: this.config.row_group_size,
      onRowDropped: this.onRowDropped,
      ...(this.table !== undefined ? { schema: this.table.fileSchema(group.layout) } : {}),
    });
  }

  private createJsonl(dir: string, name: string, now: number, layout: SetType | 'all'): Promise<PartFile> {
    const gzip = this.config.compression === 'gzip';
    const ext = gzip ? 'jsonl.gz' : 'jsonl';
    return JsonlPartFile.create({
      tempPath: join(dir, `.${name}.${ext}.tmp`),
      finalPath: join(dir, `${name}.${ext}`),
      openedAt: now,
      layout: layoutFor(layout),
      gzip,
    });
  }

  /** Completes files over the size or age limit (all of them when closing), then runs retention. */
  private async roll(all: boolean): Promise<void> {
    const now = this.ctx.clock.now();
    const { max_bytes: maxBytes, max_age: maxAge } = this.config.roll;
    for (const [dir, file] of this.open) {
      if (all || file.size() >= maxBytes || now - file.openedAt >= maxAge) {
        this.open.delete(dir);
        this.unfinished.push(file);
      }
    }
    if (this.unfinished.length === 0) return;
    const failed: PartFile[] = [];
    const completed: PartFile[] = [];
    for (const file of this.unfinished) {
      try {
        await file.finish();
        await this.uploader?.add(file.finalPath);
        completed.push(file);
        this.filesCompleted.inc();
        this.ctx.logger.debug({ file: file.finalPath }, 'file sink: file completed');
      } catch (err) {
        if (all) {
          this.ctx.logger.error(
            { err, file: file.tempPath },
            'file sink: could not complete a file at close',
          );
          await file.abandon();
        } else {
          this.ctx.logger.warn(
            { err, file: file.tempPath },
            'file sink: could not complete a file, will retry',
          );
          failed.push(file);
        }
      }
    }
    this.unfinished = failed;
    // In the background: a write must not wait for uploads (see refuseWhileUploadsFail). close() waits for them.
    if (!all && this.uploader !== undefined && this.uploader.pendingCount > 0) {
      void this.uploader.kick('after a roll');
    }
    if (this.table !== undefined) await this.stageForTable(completed);
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS && this.config.retention !== undefined) {
      this.lastSweep = now;
      // In the background: a sweep walks the tree and must not hold back writes. close() waits for it.
      this.sweeping = this.sweeping.then(() => this.sweep(now, undefined));
    }
  }

  /**
   * Before a batch is taken: if the last upload failed and its files are still waiting, the write fails (and a new
   * upload pass starts in the background), so the runner retries, blocks or drops per its policy without
   * duplicating rows, and a lasting outage is seen. The write never waits for an upload itself: a slow upload
   * must not make a write outlast the runner's write_timeout, whose retry would then take the batch twice.
   */
  private refuseWhileUploadsFail(): void {
    const uploader = this.uploader;
    const failure = uploader?.lastFailure;
    if (uploader === undefined || failure === undefined) return;
    void uploader.kick('on retry');
    const reason = failure instanceof Error ? failure.message : JSON.stringify(failure);
    throw new RetryableError(
      `sink ${this.ctx.id}: ${uploader.pendingCount} completed file(s) not uploaded yet: ${reason}`,
      { cause: failure },
    );
  }

  /**
   * Before a batch is taken: while the completed files waiting for upload exceed `s3.max_staged_bytes` (uploads
   * slower than writes, yet not failing), the write fails with a RetryableError, so the runner's policy applies as
   * for a failed upload and the staging volume cannot fill. Logged when writes start and stop being refused.
   */
  private refuseWhileStagingFull(): void {
    const uploader = this.uploader;
    if (uploader === undefined) return;
    const staged = uploader.pendingBytes;
    const bound = this.maxStagedBytes;
    if (staged <= bound) {
      if (this.overStagedBound) {
        this.overStagedBound = false;
        this.ctx.logger.info(
          { staged, max_staged_bytes: bound },
          'file sink: uploads caught up with s3.max_staged_bytes; writes accepted again',
        );
      }
      return;
    }
    // Normally a pass is running already; should none be, one starts.
    void uploader.kick('on retry');
    const message =
      `sink ${this.ctx.id}: ${staged} bytes in ${uploader.pendingCount} completed file(s) wait for upload in ` +
      `${this.root}, over s3.max_staged_bytes (${bound}); writes are refused until uploads catch up`;
    if (!this.overStagedBound) {
      this.overStagedBound = true;
      this.ctx.logger.warn(
        { staged, max_staged_bytes: bound, pending: uploader.pendingCount },
        `file sink: uploads are slower than writes: staging is over s3.max_staged_bytes; writes refused until uploads catch up`,
      );
    }
    throw new RetryableError(message);
  }

  /** At close, after the last roll: waits for the upload in progress, then tries once more what is left. */
  private async uploadAtClose(): Promise<void> {
    const uploader = this.uploader;
    if (uploader === undefined) return;
    await uploader.settled();
    if (uploader.pendingCount > 0) {
      await uploader.kick('at close; the files stay in the staging directory until the next start');
    }
  }

  /**
   * Records a roll's completed files as one commit (a local intent, quick), then uploads and commits in the
   * background: a write must not wait for the network, or a slow commit would make it outlast the runner's
   * write_timeout, whose retry would take the batch twice. Only files of batches whose write resolved are staged.
   */
  private async stageForTable(files: readonly PartFile[]): Promise<void> {
    const table = this.table;
    if (table === undefined) return;
    const staging = [...this.unstaged, ...(files as ParquetPartFile[])];
    try {
      await table.stage(staging);
      this.unstaged = [];
    } catch (err) {
      this.unstaged = staging;
      this.ctx.logger.warn({ err }, 'file sink: could not record a roll for the Iceberg table, will retry');
      return;
    }
    if (this.commitQueued) return;
    this.commitQueued = true;
    this.committing = this.committing.then(() => {
      this.commitQueued = false;
      return this.commitPass();
    });
  }

  /** Uploads and commits every staged roll; a failure leaves them staged for the next pass (or start). */
  private async commitPass(): Promise<void> {
    try {
      await this.table?.completePending();
    } catch (err) {
      this.ctx.logger.warn({ err }, 'file sink: could not commit files to the Iceberg table, will retry');
    }
  }

  private async sweep(now: number, orphanAgeMs: number | undefined): Promise<void> {
    try {
      const result = await sweepFiles(this.root, { now, retentionMs: this.config.retention, orphanAgeMs });
      if (result.deleted.length > 0 || result.orphans.length > 0) {
        this.ctx.logger.info(
          { deleted: result.deleted.length, orphans: result.orphans },
          'file sink: deleted expired and orphaned files',
        );
      }
    } catch (err) {
      this.ctx.logger.warn({ err, path: this.root }, 'file sink: retention sweep failed');
    }
    if (this.uploader === undefined || this.config.retention === undefined || orphanAgeMs !== undefined)
      return;
    try {
      const deleted = await this.uploader.expire(now, this.config.retention);
      if (deleted.length > 0)
        this.ctx.logger.info({ deleted: deleted.length }, 'file sink: deleted expired objects');
    } catch (err) {
      this.ctx.logger.warn({ err, path: this.config.path }, 'file sink: retention of objects failed');
    }
  }

  private startTimer(): void {
    if (this.timer !== undefined || this.closing !== undefined) return;
    const period = Math.min(Math.max(this.config.roll.max_age / 4, 100), 15_000);
    this.timer = this.ctx.clock.scheduler.schedule(
      function (this: SchedulerAction<FileSink>, sink?: FileSink) {
        if (sink === undefined) return;
        // rollExpired logs its own failures; it never rejects.
        void sink.rollExpired();
        this.schedule(sink, period);
      },
      period,
      this,
    );
  }
}

function isMissing(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ENOENT';
}
