import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import { ByteWriter, ParquetWriter, type ColumnSource } from 'hyparquet-writer';
import { PermanentError } from '../../src/component/errors.js';
import type { MetricBatch, MetricSet } from '../../src/model/types.js';
import { fileError } from './file-errors.js';
import { encodeJsonl } from './jsonl-rows.js';
import { ParquetColumns, parquetMetadata, parquetSchema, type SchemaElement } from './parquet-columns.js';
import type { TableLayout } from './schema.js';
import { zstdCompressor, zstdUnavailableMessage } from './zstd.js';

const gzip = promisify(zlib.gzip);

/**
 * One file being written under a temporary name (`.part-….tmp`, which lake readers skip), renamed to its final
 * name only once complete, so a reader never sees a partial file.
 *
 * The sink drives it in three steps per batch, so that a failed write never leaves half a batch behind:
 * `flush()` (may throw: nothing of the batch was taken), `append()` (in memory), `flush()` again (a failure
 * there keeps the bytes pending for the next call).
 */
export interface PartFile {
  readonly tempPath: string;
  readonly finalPath: string;
  /** Clock time the file was opened, for rolling by age. */
  readonly openedAt: number;
  /** Bytes on disk plus bytes encoded and pending. */
  size(): number;
  append(batch: MetricBatch, sets: readonly MetricSet[]): Promise<void>;
  /** Writes pending bytes at the end of what is already on disk; safe to call again after a failure. */
  flush(): Promise<void>;
  /** Writes what is left, syncs, closes and renames to the final name. Safe to call again after a failure. */
  finish(): Promise<void>;
  /** Closes and deletes the temporary file (for a file that cannot be completed). */
  abandon(): Promise<void>;
}

type Compressors = NonNullable<ConstructorParameters<typeof ParquetWriter>[0]['compressors']>;

/** Parquet codec settings for hyparquet-writer; zstd comes from node:zlib, which has it from Node 22.15. */
export interface ParquetCodec {
  readonly codec: 'SNAPPY' | 'ZSTD' | 'GZIP' | 'UNCOMPRESSED';
  readonly compressors: Compressors;
}

/**
 * The codec for a `compression` setting. zstd on a Node without it is a PermanentError; the config schema has
 * rejected it already (see zstd.ts).
 *
 * @example
 * parquetCodec('gzip') // { codec: 'GZIP', compressors: { GZIP: … } }
 */
export function parquetCodec(compression: 'snappy' | 'zstd' | 'gzip' | 'none'): ParquetCodec {
  switch (compression) {
    case 'snappy':
      return { codec: 'SNAPPY', compressors: {} };
    case 'none':
      return { codec: 'UNCOMPRESSED', compressors: {} };
    case 'gzip':
      return { codec: 'GZIP', compressors: { GZIP: (input: Uint8Array) => zlib.gzipSync(input) } };
    case 'zstd': {
      const zstd = zstdCompressor();
      if (zstd === undefined) throw new PermanentError(zstdUnavailableMessage());
      return { codec: 'ZSTD', compressors: { ZSTD: (input: Uint8Array) => zstd(input) } };
    }
  }
}

/** Positioned writes at the committed end, so a write that failed half way is overwritten by its retry. */
abstract class TempFile {
  protected committed = 0;
  private closed = false;
  private renamed = false;

  constructor(
    protected readonly handle: FileHandle,
    readonly tempPath: string,
    readonly finalPath: string,
    readonly openedAt: number,
  ) {}

  protected async writeAt(bytes: Uint8Array): Promise<void> {
    let done = 0;
    try {
      while (done < bytes.length) {
        const { bytesWritten } = await this.handle.write(
          bytes,
          done,
          bytes.length - done,
          this.committed + done,
        );
        done += bytesWritten;
      }
    } catch (err) {
      throw fileError('writing', this.tempPath, err);
    }
    this.committed += bytes.length;
  }

  protected async complete(): Promise<void> {
    try {
      if (!this.closed) {
        // Drop any tail a failed write left beyond the committed end, then make the data durable before the
        // rename publishes it.
        await this.handle.truncate(this.committed);
        await this.handle.sync();
        await this.handle.close();
        this.closed = true;
      }
      if (!this.renamed) {
        await rename(this.tempPath, this.finalPath);
        this.renamed = true;
      }
    } catch (err) {
      throw fileError('completing', this.finalPath, err);
    }
  }

  async abandon(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.handle.close().catch(() => undefined);
    }
    if (!this.renamed) await unlink(this.tempPath).catch(() => undefined);
  }
}

/**
 * A Parquet file: rows are buffered per column and encoded a row group at a time by hyparquet-writer.
 *
 * @example
 * const file = await ParquetPartFile.create({ tempPath, finalPath, openedAt: now, layout, codec, rowGroupSize: 50_000 });
 */
export class ParquetPartFile extends TempFile implements PartFile {
  private readonly bytes = new ByteWriter();
  private readonly writer: ParquetWriter;
  private readonly columns: ParquetColumns;
  private footerEncoded = false;

  private constructor(
    handle: FileHandle,
    paths: { tempPath: string; finalPath: string; openedAt: number },
    layout: TableLayout,
    codec: ParquetCodec,
    private readonly rowGroupSize: number,
    private readonly onRowDropped: OnRowDropped,
    schema: SchemaElement[] | undefined,
  ) {
    super(handle, paths.tempPath, paths.finalPath, paths.openedAt);
    this.columns = new ParquetColumns(layout);
    this.writer = new ParquetWriter({
      writer: this.bytes,
      schema: schema ?? parquetSchema(layout),
      codec: codec.codec,
      compressors: codec.compressors,
      kvMetadata: parquetMetadata(layout),
      createdBy: 'heapstream',
    });
  }

  static async create(options: {
    tempPath: string;
    finalPath: string;
    openedAt: number;
    layout: TableLayout;
    codec: ParquetCodec;
    rowGroupSize: number;
    onRowDropped: OnRowDropped;
    /** parquetSchema(layout) with field ids, for an Iceberg table; the plain schema if absent. */
    schema?: SchemaElement[];
  }): Promise<ParquetPartFile> {
    return new ParquetPartFile(
      await openTemp(options.tempPath),
      options,
      options.layout,
      options.codec,
      options.rowGroupSize,
      options.onRowDropped,
      options.schema,
    );
  }

  /** The file's schema, rows and row groups as its footer records them; complete once `finish` resolved. */
  footer(): ParquetFooter {
    return {
      schema: this.writer.schema,
      rows: Number(this.writer.num_rows),
      rowGroups: this.writer.row_groups,
      size: this.size(),
    };
  }

  size(): number {
    return this.committed + this.bytes.index;
  }

  append(batch: MetricBatch, sets: readonly MetricSet[]): Promise<void> {
    this.columns.append(batch, sets);
    if (this.columns.rows >= this.rowGroupSize) this.encodeRowGroup();
    return Promise.resolve();
  }

  async flush(): Promise<void> {
    if (this.bytes.index === 0) return;
    // The view is stable while we wait: nothing encodes into this file until the sink's next step.
    await this.writeAt(this.bytes.getBytes());
    this.bytes.index = 0;
  }

  async finish(): Promise<void> {
    if (!this.footerEncoded) {
      if (this.columns.rows > 0) this.encodeRowGroup();
      const mark = this.mark();
      try {
        void this.writer.finish();
      } catch (err) {
        // Leave no half footer behind, so that the next attempt starts clean.
        this.rollBack(mark);
        throw new PermanentError(`file sink: encoding the footer of ${this.tempPath} failed`, { cause: err });
      }
      this.footerEncoded = true;
    }
    await this.flush();
    await this.complete();
  }

  private encodeRowGroup(): void {
    const rows = this.columns.rows;
    this.encodeRows(this.columns.take(), 0, rows);
  }

  /**
   * Encodes rows [from, to) as one row group: one call, and the writer encodes each column as a whole
   * (columnar). The sink checked every value at `write`, so this does not fail on data; should the writer fail
   * anyway, it is undone and each half tried on its own, so that a row the writer cannot encode costs that row
   * (counted), not the rows around it. Retrying would fail the same way: encoding is a pure function of the rows.
   */
  private encodeRows(columns: ColumnSource[], from: number, to: number): void {
    const mark = this.mark();
    const all = from === 0 && to === columns[0]?.data.length;
    try {
      const columnData = all ? columns : columns.map((c) => ({ ...c, data: c.data.slice(from, to) }));
      void this.writer.write({ columnData, rowGroupSize: to - from });
    } catch (err) {
      this.rollBack(mark);
      if (to - from === 1) {
        const keys = columns.find((c) => c.name === 'key')?.data;
        this.onRowDropped(String(keys?.[from]), err);
        return;
      }
      const middle = from + Math.ceil((to - from) / 2);
      this.encodeRows(columns, from, middle);
      this.encodeRows(columns, middle, to);
    }
  }

  private mark(): WriterMark {
    return { index: this.bytes.index, offset: this.bytes.offset, indexes: this.writer.pendingIndexes.length };
  }

  /** Forgets what a failed writer call appended: its bytes and the page indexes it queued for the footer. */
  private rollBack(mark: WriterMark): void {
    this.bytes.index = mark.index;
    this.bytes.offset = mark.offset;
    this.writer.pendingIndexes.length = mark.indexes;
  }
}

/** What a completed Parquet file's footer says, for table metadata (Iceberg data file metrics). */
export interface ParquetFooter {
  readonly schema: readonly SchemaElement[];
  readonly rows: number;
  readonly rowGroups: ParquetWriter['row_groups'];
  readonly size: number;
}

/** Where the Parquet writer stood before a call, so a failed call can be undone. */
interface WriterMark {
  readonly index: number;
  readonly offset: number;
  readonly indexes: number;
}

/** Told about a row the Parquet writer could not encode: the set key and the writer's error. */
export type OnRowDropped = (key: string, err: unknown) => void;

/**
 * A JSON Lines file, optionally gzip: each batch is compressed as its own gzip member, so the file is valid
 * gzip after every write (gzip readers read concatenated members as one stream).
 *
 * @example
 * const file = await JsonlPartFile.create({ tempPath, finalPath, openedAt: now, layout, gzip: true });
 */
export class JsonlPartFile extends TempFile implements PartFile {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  private constructor(
    handle: FileHandle,
    paths: { tempPath: string; finalPath: string; openedAt: number },
    private readonly layout: TableLayout,
    private readonly gzip: boolean,
  ) {
    super(handle, paths.tempPath, paths.finalPath, paths.openedAt);
  }

  static async create(options: {
    tempPath: string;
    finalPath: string;
    openedAt: number;
    layout: TableLayout;
    gzip: boolean;
  }): Promise<JsonlPartFile> {
    return new JsonlPartFile(await openTemp(options.tempPath), options, options.layout, options.gzip);
  }

  size(): number {
    return this.committed + this.pendingBytes;
  }

  async append(batch: MetricBatch, sets: readonly MetricSet[]): Promise<void> {
    const text = Buffer.from(encodeJsonl(batch, sets, this.layout), 'utf8');
    const bytes = this.gzip ? await gzip(text) : text;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const next = this.pending[0] as Uint8Array;
      await this.writeAt(next);
      this.pending.shift();
      this.pendingBytes -= next.length;
    }
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.complete();
  }
}

async function openTemp(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'wx');
  } catch (err) {
    throw fileError('creating', path, err);
  }
}
