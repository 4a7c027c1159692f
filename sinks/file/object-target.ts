// The file sink's object storage target: files are written and rolled in a local staging directory exactly as for a
// local lake, then each completed file is uploaded whole (one PUT or a completed multipart upload, both atomic) and
// its local copy removed. A reader of the bucket therefore never sees a partial object. Uploads stream from the file
// (one part in memory at most), so a large roll.max_bytes costs no memory.
import { readdir, stat, unlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Logger } from '../../src/component/logger.js';
import type { ObjectStore } from '../../src/component/object-store.js';

/** Completed files this sink writes (the same names as retention.ts deletes). */
const COMPLETED_FILE = /^part-[^/]+\.(?:parquet|jsonl|jsonl\.gz)$/;
/** The opening time in a file's name: `part-20260101T120000000Z-…`. */
const NAME_STAMP = /(?:^|\/)part-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-/;

/** `s3://bucket/prefix` split, or undefined for a local path. */
export function parseObjectPath(path: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([^/]*)\/?(.*)$/.exec(path);
  if (match === null) return undefined;
  return { bucket: match[1] ?? '', prefix: (match[2] ?? '').replace(/\/+$/, '') };
}

function contentTypeOf(key: string): string {
  if (key.endsWith('.parquet')) return 'application/vnd.apache.parquet';
  if (key.endsWith('.gz')) return 'application/gzip';
  return 'application/x-ndjson';
}

/** When a file was opened, from its name; undefined for names this sink did not write. */
export function openedAtFromName(key: string): number | undefined {
  const m = NAME_STAMP.exec(key);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number);
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s, ms);
}

/**
 * Uploads completed files from the staging directory, oldest first, and removes each local copy once its upload
 * succeeded. Files not yet uploaded stay listed (and on disk, so a restart finds them again).
 */
export class ObjectUploader {
  private pending: string[] = [];
  /** Size of each pending file when it was queued, for `pendingBytes`. */
  private readonly sizes = new Map<string, number>();
  private bytes = 0;
  /** The upload pass in progress, if any: one at a time, so no file is uploaded twice at once. */
  private running: Promise<void> | undefined;
  /** Why the last pass stopped with files left; cleared when a pass uploads everything. */
  private failure: unknown;

  constructor(
    readonly store: ObjectStore,
    private readonly stagingRoot: string,
    private readonly logger: Logger,
  ) {}

  /** Completed files waiting for upload. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Bytes of the completed files waiting for upload: what the staging directory holds beyond the open files. */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** Finds the completed files a previous run left in the staging directory (it stopped before uploading them). */
  async recover(): Promise<number> {
    const found: string[] = [];
    await collectCompleted(this.stagingRoot, found);
    const known = new Set(this.pending);
    for (const path of found.sort()) if (!known.has(path)) await this.add(path);
    return found.length;
  }

  /** Queues a file that has just been completed. */
  async add(path: string): Promise<void> {
    // A file that cannot be stat'ed now fails its upload later, where the failure is reported.
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    this.pending.push(path);
    this.sizes.set(path, size);
    this.bytes += size;
  }

  /** Takes the first pending file off the queue (uploaded, or gone from staging). */
  private done(): void {
    const path = this.pending.shift();
    if (path === undefined) return;
    this.bytes -= this.sizes.get(path) ?? 0;
    this.sizes.delete(path);
  }

  /** The error of the last upload pass, while files it could not upload are still pending. */
  get lastFailure(): unknown {
    return this.pending.length > 0 ? this.failure : undefined;
  }

  /**
   * Starts an upload pass in the background unless one is running; the pass uploads every pending file, stops at
   * the first failure and records it (`lastFailure`), logging it with `when`. Never rejects.
   */
  kick(when: string): Promise<void> {
    this.running ??= this.uploadPending()
      .then(
        () => (this.failure = undefined),
        (err: unknown) => {
          this.failure = err;
          this.logger.warn(
            { err, pending: this.pending.length },
            `file sink: upload failed ${when}; tried again at the next write`,
          );
        },
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Waits for the pass in progress, if any (at close). */
  async settled(): Promise<void> {
    await this.running;
  }

  /** Uploads every pending file; throws at the first failure, keeping it and the rest for the next call. */
  private async uploadPending(): Promise<void> {
    while (this.pending.length > 0) {
      const path = this.pending[0] as string;
      const key = this.keyOf(path);
      try {
        await this.store.putFile(key, path, { contentType: contentTypeOf(key) });
      } catch (err) {
        // Gone from staging (retention removed it, or an operator did): nothing left to upload.
        if ((err as { code?: unknown }).code === 'ENOENT') {
          this.done();
          continue;
        }
        throw err;
      }
      this.done();
      await unlink(path).catch(() => undefined);
      this.logger.debug({ object: this.store.url(key) }, 'file sink: file uploaded');
    }
  }

  /** Deletes the objects whose file was opened longer ago than `retentionMs` (by the time in their name). */
  async expire(now: number, retentionMs: number): Promise<string[]> {
    const deleted: string[] = [];
    for (const object of await this.store.list('')) {
      const name = object.key.slice(object.key.lastIndexOf('/') + 1);
      if (!COMPLETED_FILE.test(name)) continue;
      const openedAt = openedAtFromName(object.key);
      if (openedAt === undefined || now - openedAt <= retentionMs) continue;
      await this.store.delete(object.key);
      deleted.push(this.store.url(object.key));
    }
    return deleted;
  }

  private keyOf(path: string): string {
    return relative(this.stagingRoot, path).split(sep).join('/');
  }
}

async function collectCompleted(dir: string, found: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return;
    throw err;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await collectCompleted(path, found);
    else if (entry.isFile() && COMPLETED_FILE.test(entry.name)) found.push(path);
  }
}
